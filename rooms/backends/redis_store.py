"""Live room state in Redis, shared by every node: optimistic transactions, one order of frames.

``apply`` WATCHes the room's key, reads the state, runs the pure step, and then writes the new
state *and publishes its frames in the same MULTI/EXEC*. Redis runs transactions one at a time,
and the WATCH makes a transaction fail if anyone wrote the key since it was read; so each
successful transaction starts from the state the previous one wrote, and its PUBLISH reaches
every subscriber after the previous one's. That is how ``seq`` stays one order for everyone: every
node, this one included, receives a room's frames from Redis in exactly the order the states were
written. (Delivering local frames first would let a node see a later ``seq`` before an earlier
one from another node.)

A conflict re-runs the step on the fresh state after a short random sleep. Within one node,
applies to one room wait for each other on a local lock, so only other nodes cause conflicts.

The chat is not in the state key: a session's messages are a list of their own,
``hearth:chat:{room}``, and the state records only how many entries it has. ``apply`` reads the
state alone and gives the step a ``ChatLog`` without its history; a chat message is RPUSHed in
the transaction that writes the state, so a command costs the same however long the chat is.
A step that reads the history (``delete_chat``) raises ``ChatNotLoaded``: it is run again on the
state read with the list. A deletion overwrites its entry with an empty one (LSET), so positions
never move. The WATCH on the state key covers the list too: every write of the list writes the
state in the same transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import cast

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from rooms.backends.base import Frame, Step, StoreUnavailable
from rooms.backends.redis_common import (
    LIVE_ROOMS_KEY,
    UNREACHABLE,
    chat_key,
    encode_envelope,
    expire_all,
    live_key,
    ping,
    room_channel,
    unavailable,
)
from rooms.events import Delivery
from rooms.model import ChatLog, ChatMessage, ChatNotLoaded, RoomState

MAX_ATTEMPTS = 100
_MAX_CONFLICT_SLEEP = 0.010
_DELETED = b""  # the chat list's entry for a deleted message

# SMEMBERS of the live-rooms set, dropping (atomically) the rooms whose state has expired.
_LIVE_ROOMS = """
local live = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. room) == 1 then
    table.insert(live, room)
  else
    redis.call('SREM', KEYS[1], room)
  end
end
return live
"""


def _chat_total(value: object) -> int:
    """How the state key holds the chat: the number of entries of the room's chat list."""
    if isinstance(value, ChatLog):
        return value.total
    raise NotImplementedError(type(value))


def _chat_without_history(kind: type, value: object) -> ChatLog:
    if kind is not ChatLog:
        raise NotImplementedError(kind)
    if isinstance(value, int):
        return ChatLog.without_history(value)
    if isinstance(value, list):  # a state written before the chat had its own list: the session
        return ChatLog()  # goes on, without the messages sent before the upgrade
    raise TypeError(f"expected the number of chat entries, got {type(value).__name__}")


class TooMuchContention(StoreUnavailable):
    """``apply`` lost the race ``MAX_ATTEMPTS`` times in a row; the command changed nothing."""


class _RoomLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class RedisLiveStore:
    """``LiveStore`` on Redis: ``hearth:live:{room}`` holds the msgpack of the room's state but for
    its chat messages, which ``hearth:chat:{room}`` holds.

    Every write sets a TTL of ``ttl_seconds`` on both; nodes call ``touch`` periodically for the
    rooms they serve, so a session's state outlives the last node serving it by at most the TTL.
    Unreachable Redis raises ``StoreUnavailable``, and the command changed nothing, with one
    exception no client can avoid: if the connection breaks after EXEC was sent, the change may
    have been applied. Such an apply is never retried (it could apply the command twice).
    """

    def __init__(self, client: Redis, node_id: str, ttl_seconds: float = 60.0) -> None:
        self.node_id = node_id
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self._client = client
        self._encoder = msgspec.msgpack.Encoder(enc_hook=_chat_total)
        self._decoder = msgspec.msgpack.Decoder(RoomState, dec_hook=_chat_without_history)
        self._message_encoder = msgspec.msgpack.Encoder()
        self._message_decoder = msgspec.msgpack.Decoder(ChatMessage)
        self._live_rooms = client.register_script(_LIVE_ROOMS)
        self._locks: dict[str, _RoomLock] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def load(self, room_id: str, *, with_chat: bool = True) -> RoomState | None:
        """The room's state; without its chat history (one GET) unless ``with_chat``."""
        try:
            if not with_chat:
                data = cast("bytes | None", await self._client.get(live_key(room_id)))
                return None if data is None else self._decoder.decode(data)
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.get(live_key(room_id))
                pipe.lrange(chat_key(room_id), 0, -1)
                data, entries = await pipe.execute()
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        if data is None:
            return None
        state = self._decoder.decode(data)
        state.chat = self._history(state.chat.total, entries)
        return state

    async def apply(
        self, room_id: str, step: Step, encode: Callable[[list[Delivery]], list[Frame]]
    ) -> list[Delivery]:
        """Run ``step`` on the room's state atomically, save the result (``None`` deletes it) and
        publish the encoded frames of its deliveries on the room's channel, in one transaction.

        An exception from ``step`` or ``encode`` (a ``CommandError``) propagates unchanged, and
        nothing was written or published."""
        room_lock = self._locks.get(room_id)
        if room_lock is None:
            room_lock = self._locks[room_id] = _RoomLock()
        room_lock.users += 1
        try:
            async with room_lock.lock:
                return await self._apply(room_id, step, encode)
        finally:
            room_lock.users -= 1
            if not room_lock.users:
                del self._locks[room_id]

    async def room_ids(self) -> list[str]:
        try:
            rooms: list[bytes] = await self._live_rooms(keys=[LIVE_ROOMS_KEY], args=[live_key("")])
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return sorted(room.decode() for room in rooms)

    async def touch(self, room_ids: list[str]) -> None:
        """Push the expiry of these rooms' state and chat ``ttl_seconds`` into the future."""
        keys = [key for room_id in room_ids for key in (live_key(room_id), chat_key(room_id))]
        await expire_all(self._client, keys, self.ttl_ms)

    async def ping(self) -> bool:
        return await ping(self._client)

    # The transaction ---------------------------------------------------------------------------

    async def _apply(
        self, room_id: str, step: Step, encode: Callable[[list[Delivery]], list[Frame]]
    ) -> list[Delivery]:
        with_chat = False
        for attempt in range(MAX_ATTEMPTS):
            pipe = self._client.pipeline(transaction=True)
            try:
                state = await self._watch(pipe, room_id, with_chat)
                try:
                    new, deliveries = step(state)
                except ChatNotLoaded:
                    if with_chat:
                        raise
                    with_chat = True  # the step reads the chat history: read it, and run it again
                    continue
                frames = encode(deliveries)
                if await self._commit(pipe, room_id, state, new, frames):
                    return deliveries
            finally:
                # UNWATCH if still watching and give the connection back; a broken connection is
                # dropped by the pool, and must not hide the exception of the step.
                with contextlib.suppress(*UNREACHABLE):
                    await pipe.aclose()
            await asyncio.sleep(random.uniform(0, min(_MAX_CONFLICT_SLEEP, 0.0005 * 2**attempt)))
        raise TooMuchContention(f"room changed under {MAX_ATTEMPTS} attempts in a row")

    async def _watch(self, pipe: Pipeline, room_id: str, with_chat: bool) -> RoomState | None:
        """WATCH and read the state; with its chat history if ``with_chat``.

        The list is read after the state: a writer in between makes EXEC fail (it wrote the state
        too), and can only have deleted entries the state counts (or, ending the session, all of
        them), so a refusal computed from that list is the answer the command gets right after
        that writer: it stands."""
        key = live_key(room_id)
        try:
            await pipe.watch(key)
            data = cast("bytes | None", await pipe.get(key))
            if data is None:
                return None
            state = self._decoder.decode(data)
            if with_chat and not state.chat.loaded:
                last = state.chat.total - 1
                entries = cast("list[bytes]", await pipe.lrange(chat_key(room_id), 0, last))
                state.chat = self._history(state.chat.total, entries)
        except WatchError as exc:  # the connection broke while watching
            raise unavailable(exc.__context__ or exc) from exc
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return state

    def _history(self, total: int, entries: list[bytes]) -> ChatLog:
        """The chat log of a state counting ``total`` entries, from the chat list. Should the list
        have lost entries (evicted), the missing ones are tombstones at its end: the positions of
        the entries still there stay those of the list."""
        messages = [None if e == _DELETED else self._message_decoder.decode(e) for e in entries[:total]]
        return ChatLog(messages + [None] * (total - len(messages)))

    async def _commit(
        self, pipe: Pipeline, room_id: str, old: RoomState | None, new: RoomState | None, frames: list[Frame]
    ) -> bool:
        """Write and publish; false when the room changed since it was read (nothing written)."""
        key = live_key(room_id)
        pipe.multi()  # type: ignore[no-untyped-call]
        if new is None:
            pipe.delete(key, chat_key(room_id))
            pipe.srem(LIVE_ROOMS_KEY, room_id)
        else:
            pipe.set(key, self._encoder.encode(new), px=self.ttl_ms)
            self._write_chat(pipe, room_id, None if old is None else old.chat, new.chat)
            pipe.sadd(LIVE_ROOMS_KEY, room_id)
        if frames:
            pipe.publish(room_channel(room_id), encode_envelope(self.node_id, room_id, frames))
        try:
            await pipe.execute()
        except WatchError as exc:
            # redis-py reports a connection lost while watching as a WatchError too; the cause
            # tells a conflict (retry) from an outage (do not: EXEC may have run).
            if isinstance(exc.__context__, UNREACHABLE):
                raise unavailable(exc.__context__) from exc
            return False
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return True

    def _write_chat(self, pipe: Pipeline, room_id: str, read: ChatLog | None, new: ChatLog) -> None:
        """Queue what turns the chat list from ``read`` into ``new``: usually nothing or one RPUSH,
        and a PEXPIRE, so that the list expires with the state."""
        key = chat_key(room_id)
        changes = None if read is None else new.changes_since(read)
        deleted: list[int]
        if changes is None:  # not grown from what was read (a room's first state): write it whole
            pipe.delete(key)
            deleted, added = [], new.entries_from(0)
        else:
            deleted, added = changes
        for position in deleted:
            pipe.lset(key, position, "")  # the empty entry, _DELETED
        if added:
            encode = self._message_encoder.encode
            pipe.rpush(key, *(_DELETED if entry is None else encode(entry) for entry in added))
        pipe.pexpire(key, self.ttl_ms)

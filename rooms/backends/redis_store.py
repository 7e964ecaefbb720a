"""Live room state in Redis, shared by every node: optimistic compare-and-set, one order of frames.

``apply`` reads the room's key (GET), runs the pure step, and then runs one script (EVALSHA)
that writes the new state *and publishes its frames* only if the key still holds the bytes it
read. Redis runs scripts one at a time, and the comparison makes the write fail if anyone wrote
the key since it was read; so each successful write starts from the state the previous one
wrote, and its PUBLISH reaches every subscriber after the previous one's. (Equal bytes are an
equal state, so an A-B-A change in between is harmless.) Two round trips per command, no
connection held between them; WATCH/MULTI/EXEC took three and pinned a connection.

That is how ``seq`` stays one order for everyone: every node, this one included, receives a
room's frames from Redis in exactly the order the states were written. (Delivering local
frames first would let a node see a later ``seq`` before an earlier one from another node.)

A conflict re-runs the step on the fresh state after a short random sleep. Within one node,
applies to one room wait for each other on a local lock, so only other nodes cause conflicts.

The chat is not in the state key: a session's messages are a list of their own,
``hearth:chat:{room}``, and the state records only how many entries it has had, how many of the
oldest were trimmed away (the list holds the others: entry ``p`` is at index ``p - dropped``),
and how many bytes they weigh. ``apply`` reads the
state alone and gives the step a ``ChatLog`` without its history; a chat message is RPUSHed in
the script that writes the state, so a command costs the same however long the chat is.
A step that reads the history (``delete_chat``) raises ``ChatNotLoaded``: it is run again on the
state read with the list. A deletion overwrites its entry with an empty one (LSET), so positions
never move. A step that trims the chat (it reached its cap) reads the sizes of what it drops,
so it too runs on the state read with the list; the script then LTRIMs the list's head in the
same write. The comparison on the state key covers the list too: every write of the list
writes the state in the same script.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import cast

import msgspec
from redis.asyncio import Redis

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

# The write of ``apply``: only if the state key still holds what was read (ARGV[1] '1' and the
# bytes in ARGV[2]; '0': it was absent). Then: ARGV[3] the new state ('' deletes the room's
# keys), ARGV[4] TTL ms, ARGV[5] room id, ARGV[6] channel, ARGV[7] envelope ('' publishes
# nothing), ARGV[8] '1' to rewrite the chat list whole, ARGV[9] how many entries to drop from
# the list's head, ARGV[10] the number n of deleted entries, then n list indexes (after the
# drop), then the entries to append. Returns 1 if written, 0 if not. The head is dropped and
# deleted entries are overwritten first: if the list lost them (evicted), the script fails
# before anything else is written.
_WRITE = """
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
local ttl = tonumber(ARGV[4])
if ARGV[3] == '' then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('SREM', KEYS[3], ARGV[5])
else
  local deleted = tonumber(ARGV[10])
  if ARGV[8] == '1' then
    redis.call('DEL', KEYS[2])
  else
    if ARGV[9] ~= '0' then redis.call('LTRIM', KEYS[2], tonumber(ARGV[9]), -1) end
    for i = 11, 10 + deleted do redis.call('LSET', KEYS[2], ARGV[i], '') end
  end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ttl)
  for i = 11 + deleted, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('SADD', KEYS[3], ARGV[5])
end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[6], ARGV[7]) end
return 1
"""


def _chat_counts(value: object) -> list[int]:
    """How the state key holds the chat: ``[total, dropped, size]`` (see ``ChatLog``); the list
    holds the entries from position ``dropped`` on."""
    if isinstance(value, ChatLog):
        return [value.total, value.dropped, value.size]
    raise NotImplementedError(type(value))


def _chat_without_history(kind: type, value: object) -> ChatLog:
    if kind is not ChatLog:
        raise NotImplementedError(kind)
    if isinstance(value, int):  # written before the chat had a cap: nothing dropped, size unknown
        return ChatLog.without_history(value)  # (counted again at the next trim, which reads all)
    if isinstance(value, list) and len(value) == 3 and all(type(v) is int for v in value):
        total, dropped, size = value
        return ChatLog.without_history(total, dropped=dropped, size=size)
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
    exception no client can avoid: if the connection breaks after the write script (EVALSHA) was
    sent, the change may have been applied. Such an apply is never retried (it could apply the command twice).
    """

    def __init__(self, client: Redis, node_id: str, ttl_seconds: float = 60.0) -> None:
        self.node_id = node_id
        self.ttl_ms = max(1, round(ttl_seconds * 1000))
        self._client = client
        self._encoder = msgspec.msgpack.Encoder(enc_hook=_chat_counts)
        self._decoder = msgspec.msgpack.Decoder(RoomState, dec_hook=_chat_without_history)
        self._message_encoder = msgspec.msgpack.Encoder()
        self._message_decoder = msgspec.msgpack.Decoder(ChatMessage)
        self._live_rooms = client.register_script(_LIVE_ROOMS)
        self._write = client.register_script(_WRITE)
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
        state.chat = self._history(state.chat, entries)
        return state

    async def apply(
        self, room_id: str, step: Step, encode: Callable[[list[Delivery]], list[Frame]]
    ) -> list[Delivery]:
        """Run ``step`` on the room's state, and save the result (``None`` deletes it) and publish
        the encoded frames of its deliveries on the room's channel in one atomic write.

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

    # The read and the compare-and-set write ----------------------------------------------------

    async def _apply(
        self, room_id: str, step: Step, encode: Callable[[list[Delivery]], list[Frame]]
    ) -> list[Delivery]:
        with_chat = False
        for attempt in range(MAX_ATTEMPTS):
            data, state = await self._read(room_id, with_chat)
            try:
                new, deliveries = step(state)
            except ChatNotLoaded:
                if with_chat:
                    raise
                with_chat = True  # the step reads the chat history: read it, and run it again
                continue
            frames = encode(deliveries)
            if await self._commit(room_id, data, state, new, frames):
                return deliveries
            await asyncio.sleep(random.uniform(0, min(_MAX_CONFLICT_SLEEP, 0.0005 * 2**attempt)))
        raise TooMuchContention(f"room changed under {MAX_ATTEMPTS} attempts in a row")

    async def _read(self, room_id: str, with_chat: bool) -> tuple[bytes | None, RoomState | None]:
        """The state's bytes as stored (what the write compares with) and the state; with its
        chat history if ``with_chat``.

        The list is read after the state: a writer in between makes the write fail (it wrote
        the state too), and can only have deleted entries the state counts (or, ending the
        session, all of them), so a refusal computed from that list is the answer the command
        gets right after that writer: it stands."""
        key = live_key(room_id)
        try:
            data = cast("bytes | None", await self._client.get(key))
            if data is None:
                return None, None
            state = self._decoder.decode(data)
            if with_chat and not state.chat.loaded:
                last = state.chat.held - 1
                entries = cast("list[bytes]", await self._client.lrange(chat_key(room_id), 0, last))
                state.chat = self._history(state.chat, entries)
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return data, state

    def _history(self, counts: ChatLog, entries: list[bytes]) -> ChatLog:
        """The chat log of a state whose log (without history) is ``counts``, from the chat list.
        Should the list have lost entries (evicted), the missing ones are tombstones at its end:
        the positions of the entries still there stay those of the list."""
        held = counts.held
        messages = [None if e == _DELETED else self._message_decoder.decode(e) for e in entries[:held]]
        return ChatLog(messages + [None] * (held - len(messages)), dropped=counts.dropped)

    async def _commit(
        self,
        room_id: str,
        read: bytes | None,
        old: RoomState | None,
        new: RoomState | None,
        frames: list[Frame],
    ) -> bool:
        """Write and publish; false when the room changed since it was read (nothing written).

        A connection lost after the script was sent raises ``StoreUnavailable``, never a retry:
        the write may have happened."""
        args: list[bytes | str | int] = ["1" if read is not None else "0", read or b""]
        if new is None:
            args += [b"", self.ttl_ms, room_id]
            chat: list[bytes | str | int] = ["0", 0, 0]
        else:
            args += [self._encoder.encode(new), self.ttl_ms, room_id]
            chat = self._chat_args(None if old is None else old.chat, new.chat)
        envelope = encode_envelope(self.node_id, room_id, frames) if frames else b""
        args += [room_channel(room_id), envelope, *chat]
        try:
            written = await self._write(
                keys=[live_key(room_id), chat_key(room_id), LIVE_ROOMS_KEY], args=args
            )
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return bool(written)

    def _chat_args(self, read: ChatLog | None, new: ChatLog) -> list[bytes | str | int]:
        """What turns the chat list from ``read`` into ``new``, as the script's arguments: the
        rewrite flag, how many entries to drop from its head, the list indexes of deleted
        entries, the entries to append (usually none or one)."""
        changes = None if read is None else new.changes_since(read)
        deleted: list[int]
        if changes is None:  # not grown from what was read (a room's first state): write it whole
            rewrite, trim, deleted, added = "1", 0, [], new.entries_from(new.dropped)
        else:
            rewrite, (trim, deleted, added) = "0", changes
        indexes = [position - new.dropped for position in deleted]
        encode = self._message_encoder.encode
        return [
            rewrite, trim, len(indexes), *indexes, *(_DELETED if e is None else encode(e) for e in added)
        ]  # fmt: skip

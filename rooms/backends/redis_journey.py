"""The group's journey in Redis: the ``JourneyStore`` of many nodes.

It lives in the Redis of the room directory (``HEARTH_STORE``, which persists with its
append-only file), never in the live store, which keeps nothing. Keys of a room, with
``P = hearth:journey:{room}:``:

- ``P rec:{kind}``: hash, record id -> msgpack of the ``Record``;
- ``P own:{kind}``: hash, record id -> owner ("" for none), to keep the owner sets right;
- ``P by:{kind}:{owner}``: set of the record ids of that kind the owner owns;
- ``P kinds``: set of the kinds the room has held (what ``delete_owner`` and ``delete_room`` walk);
- ``P sessions``: hash, session id -> number; ``P last``: the last session number.

And one global sorted set, ``hearth:journey-sweep``: ``room NUL kind NUL id`` scored by
``created``, for every record the sweeper may delete (kinds of ``KEPT_BY_SWEEP`` are not in it).

Every method that writes is one Lua script, so it is atomic against every other node. The
scripts name keys they build from the room id, which one Redis server (or a Sentinel primary)
allows; Redis Cluster is not supported, as for the live store (``redis_common.py``). Kinds must
not hold NUL or ``:`` (they are the fixed names of ``rooms.journey``); ids and owners are opaque.
"""

from __future__ import annotations

from typing import cast

import msgspec
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from rooms.backends.journey_base import KEPT_BY_SWEEP, Record
from rooms.backends.redis_common import PREFIX, UNREACHABLE, ping, unavailable

SWEEP_KEY = PREFIX + "journey-sweep"
_Args = list[str | bytes | int]  # a script's ARGV
_SWEEP_BATCH = 500
_SWEEP_ROUNDS_MAX = 100_000  # a bound on the sweep loop: 50 million records


def journey_prefix(room_id: str) -> str:
    return f"{PREFIX}journey:{room_id}:"


# Shared by the scripts: delete one record and its index entries; 1 if there was one.
_LIB = """
local SWEEP = KEYS[1]
local function prefix(room) return 'hearth:journey:' .. room .. ':' end
local function del(room, kind, id)
  local p = prefix(room)
  if redis.call('HDEL', p .. 'rec:' .. kind, id) == 0 then return 0 end
  local owner = redis.call('HGET', p .. 'own:' .. kind, id)
  redis.call('HDEL', p .. 'own:' .. kind, id)
  if owner and owner ~= '' then redis.call('SREM', p .. 'by:' .. kind .. ':' .. owner, id) end
  redis.call('ZREM', SWEEP, room .. '\\0' .. kind .. '\\0' .. id)
  return 1
end
"""

# ARGV: room, kind, id, owner ("" none), created, blob, swept (1/0), limit (-1: none),
# per_owner (1/0). Returns 1 if stored.
_PUT = (
    _LIB
    + """
local room, kind, id, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit = tonumber(ARGV[8])
local p = prefix(room)
local rec = p .. 'rec:' .. kind
local exists = redis.call('HEXISTS', rec, id) == 1
if not exists and limit >= 0 then
  local n
  if ARGV[9] == '1' then n = redis.call('SCARD', p .. 'by:' .. kind .. ':' .. owner)
  else n = redis.call('HLEN', rec) end
  if n >= limit then return 0 end
end
if exists then del(room, kind, id) end
redis.call('HSET', rec, id, ARGV[6])
redis.call('HSET', p .. 'own:' .. kind, id, owner)
if owner ~= '' then redis.call('SADD', p .. 'by:' .. kind .. ':' .. owner, id) end
redis.call('SADD', p .. 'kinds', kind)
if ARGV[7] == '1' then redis.call('ZADD', SWEEP, ARGV[5], room .. '\\0' .. kind .. '\\0' .. id) end
return 1
"""
)

# ARGV: room, kind, id.
_DELETE = _LIB + "return del(ARGV[1], ARGV[2], ARGV[3])"

# ARGV: room, owner, kinds to keep...
_DELETE_OWNER = (
    _LIB
    + """
local room, owner = ARGV[1], ARGV[2]
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
local p = prefix(room)
local gone = 0
for _, kind in ipairs(redis.call('SMEMBERS', p .. 'kinds')) do
  if not keep[kind] then
    for _, id in ipairs(redis.call('SMEMBERS', p .. 'by:' .. kind .. ':' .. owner)) do
      gone = gone + del(room, kind, id)
    end
  end
end
return gone
"""
)

# ARGV: room.
_DELETE_ROOM = (
    _LIB
    + """
local room = ARGV[1]
local p = prefix(room)
local gone = 0
for _, kind in ipairs(redis.call('SMEMBERS', p .. 'kinds')) do
  for _, id in ipairs(redis.call('HKEYS', p .. 'rec:' .. kind)) do
    gone = gone + del(room, kind, id)
  end
  redis.call('DEL', p .. 'rec:' .. kind, p .. 'own:' .. kind)
end
redis.call('DEL', p .. 'kinds', p .. 'sessions', p .. 'last')
return gone
"""
)

# ARGV: before, batch, kinds kept... Deletes up to ``batch`` records older than ``before``:
# {looked at, deleted}. An entry whose record is gone already, or of a kind kept (written before
# that kind was), is dropped from the set, and its record, if any, stays.
_SWEEP = (
    _LIB
    + """
local old = redis.call('ZRANGEBYSCORE', SWEEP, '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local keep = {}
for i = 3, #ARGV do keep[ARGV[i]] = true end
local gone = 0
for _, member in ipairs(old) do
  local a = string.find(member, '\\0', 1, true)
  local b = string.find(member, '\\0', a + 1, true)
  local room, kind = string.sub(member, 1, a - 1), string.sub(member, a + 1, b - 1)
  local one = 0
  if not keep[kind] then one = del(room, kind, string.sub(member, b + 1)) end
  if one == 0 then redis.call('ZREM', SWEEP, member) end
  gone = gone + one
end
return {#old, gone}
"""
)

# KEYS: sessions hash, last counter. ARGV: session id.
_SESSION = """
local n = redis.call('HGET', KEYS[1], ARGV[1])
if n then return tonumber(n) end
n = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], n)
return n
"""

# KEYS: the owner set, the record hash. The owner's records, in one step.
_OWNED = """
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local blob = redis.call('HGET', KEYS[2], id)
  if blob then out[#out + 1] = blob end
end
return out
"""


class RedisJourney:
    """``JourneyStore`` on the directory's Redis client (``client_from_url``); ``owns_client``:
    a command-line tool's own client, closed with the store. Unreachable Redis raises
    ``StoreUnavailable`` and changes nothing."""

    def __init__(self, client: Redis, *, owns_client: bool = False) -> None:
        self._client = client
        self._owns_client = owns_client
        self._put = client.register_script(_PUT)
        self._delete = client.register_script(_DELETE)
        self._delete_owner = client.register_script(_DELETE_OWNER)
        self._delete_room = client.register_script(_DELETE_ROOM)
        self._sweep = client.register_script(_SWEEP)
        self._session = client.register_script(_SESSION)
        self._owned = client.register_script(_OWNED)
        self._encoder = msgspec.msgpack.Encoder()
        self._decoder = msgspec.msgpack.Decoder(Record)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def put(self, room_id: str, record: Record) -> None:
        await self._store(room_id, record, limit=-1, per_owner=False)

    async def add(self, room_id: str, record: Record, *, limit: int, per_owner: bool = False) -> bool:
        # Per owner for a record of nobody's: the limit is the kind's, as in MemoryJourney.
        return await self._store(
            room_id, record, limit=max(limit, 0), per_owner=per_owner and record.owner is not None
        )

    async def get(self, room_id: str, kind: str, record_id: str) -> Record | None:
        try:
            blob = cast("bytes | None", await self._client.hget(_rec(room_id, kind), record_id))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return None if blob is None else self._decoder.decode(blob)

    async def list(self, room_id: str, kind: str, *, owner: str | None = None) -> list[Record]:
        try:
            if owner is None:
                blobs = cast("list[bytes]", await self._client.hvals(_rec(room_id, kind)))
            else:
                blobs = cast(
                    "list[bytes]", await self._owned(keys=[_by(room_id, kind, owner), _rec(room_id, kind)])
                )
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        records = [self._decoder.decode(blob) for blob in blobs]
        records.sort(key=lambda record: (record.created, record.id))
        return records

    async def count(self, room_id: str, kind: str, *, owner: str | None = None) -> int:
        try:
            if owner is None:
                return int(await self._client.hlen(_rec(room_id, kind)))
            return int(await self._client.scard(_by(room_id, kind, owner)))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc

    async def delete(self, room_id: str, kind: str, record_id: str) -> bool:
        return bool(await self._call(self._delete, [room_id, kind, record_id]))

    async def delete_owner(self, room_id: str, owner: str, *, keep: frozenset[str] = frozenset()) -> int:
        return await self._call(self._delete_owner, [room_id, owner, *sorted(keep)])

    async def delete_room(self, room_id: str) -> int:
        return await self._call(self._delete_room, [room_id])

    async def sweep(self, before: float) -> int:
        gone = 0
        for _ in range(_SWEEP_ROUNDS_MAX):
            try:
                args: _Args = [repr(before), _SWEEP_BATCH, *sorted(KEPT_BY_SWEEP)]
                seen, deleted = await self._sweep(keys=[SWEEP_KEY], args=args)
            except UNREACHABLE as exc:
                raise unavailable(exc) from exc
            gone += int(deleted)
            if int(seen) < _SWEEP_BATCH:
                break
        return gone

    async def session_number(self, room_id: str, session_id: str) -> int:
        prefix = journey_prefix(room_id)
        try:
            return int(await self._session(keys=[prefix + "sessions", prefix + "last"], args=[session_id]))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc

    async def last_session_number(self, room_id: str) -> int:
        try:
            value = cast("bytes | None", await self._client.get(journey_prefix(room_id) + "last"))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return 0 if value is None else int(value)

    async def ping(self) -> bool:
        return await ping(self._client)

    async def _store(self, room_id: str, record: Record, *, limit: int, per_owner: bool) -> bool:
        args: _Args = [
            room_id,
            record.kind,
            record.id,
            record.owner or "",
            repr(record.created),
            self._encoder.encode(record),
            0 if record.kind in KEPT_BY_SWEEP else 1,
            limit,
            1 if per_owner else 0,
        ]
        return bool(await self._call(self._put, args))

    async def _call(self, script: AsyncScript, args: _Args) -> int:
        try:
            return int(await script(keys=[SWEEP_KEY], args=args))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc


def _rec(room_id: str, kind: str) -> str:
    return f"{journey_prefix(room_id)}rec:{kind}"


def _by(room_id: str, kind: str, owner: str) -> str:
    return f"{journey_prefix(room_id)}by:{kind}:{owner}"

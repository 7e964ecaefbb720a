"""Room definitions in Redis: the ``RoomDirectory`` of many nodes, in the hash ``hearth:rooms``.

Key names, the client factory and errors are in ``redis_common.py``. Make a client with
``client_from_url(url)`` and share it between ``RedisDirectory``, ``RedisLiveStore``
(``redis_store.py``) and ``RedisPresence`` (``redis_presence.py``), or one for the directory and
one, of a Redis that persists nothing, for the live store and presence (``server/backends.py``);
whoever made it closes it. ``RedisBus`` (``redis_bus.py``) makes and closes its own.
"""

from __future__ import annotations

from typing import cast

import msgspec
from redis.asyncio import Redis

from rooms.backends.redis_common import ROOMS_KEY, UNREACHABLE, ping, unavailable
from rooms.model import RoomConfig

# The directory -------------------------------------------------------------------------------

# HSET only if the field exists: ``update`` must not create a room.
_UPDATE_EXISTING = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
"""


class RedisDirectory:
    """``RoomDirectory`` in the hash ``hearth:rooms``. ``create`` refuses an existing id
    (``ValueError``), ``update`` an unknown one (``KeyError``); ``all`` orders rooms by
    ``created_at``, then id (a hash keeps no order of its own). Unreachable Redis raises
    ``StoreUnavailable``."""

    def __init__(self, client: Redis, *, owns_client: bool = False) -> None:
        self._client = client
        self._owns_client = owns_client  # a command-line tool's own client: closed with it
        self._decoder = msgspec.json.Decoder(RoomConfig)
        self._update = client.register_script(_UPDATE_EXISTING)

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def create(self, config: RoomConfig) -> None:
        try:
            created = await self._client.hsetnx(ROOMS_KEY, config.id, msgspec.json.encode(config))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        if not created:
            raise ValueError(f"room {config.id!r} already exists")

    async def get(self, room_id: str) -> RoomConfig | None:
        try:
            data = cast("bytes | None", await self._client.hget(ROOMS_KEY, room_id))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        return None if data is None else self._decoder.decode(data)

    async def update(self, config: RoomConfig) -> None:
        try:
            updated = await self._update(keys=[ROOMS_KEY], args=[config.id, msgspec.json.encode(config)])
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        if not updated:
            raise KeyError(config.id)

    async def all(self) -> list[RoomConfig]:
        try:
            values = cast("list[bytes]", await self._client.hvals(ROOMS_KEY))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc
        rooms = [self._decoder.decode(data) for data in values]
        rooms.sort(key=lambda room: (room.created_at, room.id))
        return rooms

    async def ping(self) -> bool:
        return await ping(self._client)

"""Which backends a node runs on, from ``HEARTH_STORE``: SQLite + memory by default, or Redis
for room definitions, live state, fan-out and presence shared by many nodes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from rooms.backends.base import Bus, LiveStore, Presence, RoomDirectory
from server.config import Settings


@dataclass
class Backends:
    directory: RoomDirectory
    store: LiveStore
    bus: Bus
    presence: Presence
    closing: Callable[[], Awaitable[None]] | None = None  # closes a client the parts share

    async def open(self) -> None:
        await self.directory.open()
        await self.bus.open()
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()
        await self.bus.close()
        await self.directory.close()
        if self.closing is not None:
            await self.closing()


def build_backends(settings: Settings, node_id: str) -> Backends:
    if settings.store_kind() == "sqlite":
        from rooms.backends.memory import MemoryBus, MemoryLiveStore
        from rooms.backends.presence_memory import MemoryPresence
        from rooms.backends.sqlite import SqliteDirectory

        bus = MemoryBus()
        return Backends(SqliteDirectory(settings.sqlite_path()), MemoryLiveStore(bus), bus,
                        MemoryPresence(node_id))
    from rooms.backends.redis import RedisBus, RedisDirectory, RedisLiveStore, RedisPresence
    from rooms.backends.redis_common import client_from_url

    client = client_from_url(settings.store)  # no hidden retries: an outage shows at once
    redis_bus = RedisBus(settings.store, node_id)
    # When the bus is back, so is Redis; the shared client's idle pooled connections are still
    # the sockets the outage broke, and each would fail one command: drop them.
    redis_bus.on_reconnect(lambda: _spawn(client.connection_pool.disconnect(inuse_connections=False)))
    # Live state (and who holds which socket) outlives the last node serving it by at most the
    # grace period (plus the upkeep rhythm that refreshes it while someone is there).
    ttl = settings.grace_seconds + 2 * settings.upkeep_seconds
    return Backends(
        RedisDirectory(client),
        RedisLiveStore(client, node_id, ttl),
        redis_bus,
        RedisPresence(client, node_id, alive_ttl=3 * settings.upkeep_seconds, ttl_seconds=ttl),
        closing=client.aclose,
    )


_tasks: set[asyncio.Task[None]] = set()


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _tasks.add(task)  # a reference until it is done
    task.add_done_callback(_done)


def _done(task: asyncio.Task[None]) -> None:
    _tasks.discard(task)
    if not task.cancelled():
        task.exception()  # a socket that fails to close is of no interest: Redis is back

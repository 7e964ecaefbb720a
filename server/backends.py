"""Which backends a node runs on, from ``HEARTH_STORE``: SQLite + memory by default, or Redis
for room definitions, live state, fan-out and presence shared by many nodes.

On Redis the parts go to two places (they may be one server): room definitions to the store,
which persists them (``HEARTH_STORE``, an append-only file); live state, chat, presence and
pub/sub to the live store (``HEARTH_LIVE_STORE``, default the store), which must keep nothing
on disk: what a group says, and who was there, is confidential. ``live_store_persistence`` checks
that at start. The group's journey (``JourneyStore``) persists like the directory: beside it in
the SQLite file, or in the store's Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from rooms.backends.base import Bus, LiveStore, Presence, RoomDirectory
from rooms.backends.journey_base import JourneyStore
from rooms.backends.memory_journey import MemoryJourney
from server.config import Settings


@dataclass
class Backends:
    directory: RoomDirectory
    store: LiveStore
    bus: Bus
    presence: Presence
    closing: Callable[[], Awaitable[None]] | None = None  # closes a client the parts share
    # The group's journey (rooms.backends.journey_base): persistent, like the directory.
    journey: JourneyStore = field(default_factory=MemoryJourney)

    async def open(self) -> None:
        await self.directory.open()
        await self.journey.open()
        await self.bus.open()
        await self.store.open()

    async def close(self) -> None:
        await self.store.close()
        await self.bus.close()
        await self.journey.close()
        await self.directory.close()
        if self.closing is not None:
            await self.closing()


def build_backends(settings: Settings, node_id: str) -> Backends:
    if settings.store_kind() == "sqlite":
        from rooms.backends.memory_bus import MemoryBus
        from rooms.backends.memory_presence import MemoryPresence
        from rooms.backends.memory_store import MemoryLiveStore
        from rooms.backends.sqlite_directory import SqliteDirectory
        from rooms.backends.sqlite_journey import SqliteJourney

        bus = MemoryBus()
        return Backends(
            SqliteDirectory(settings.sqlite_path()),
            MemoryLiveStore(bus),
            bus,
            MemoryPresence(node_id, alive_ttl=3 * settings.upkeep_seconds),
            # The journey beside the room definitions, in the same file (its own connection).
            journey=SqliteJourney(settings.sqlite_path()),
        )
    from rooms.backends.redis_bus import RedisBus
    from rooms.backends.redis_common import client_from_url
    from rooms.backends.redis_directory import RedisDirectory
    from rooms.backends.redis_journey import RedisJourney
    from rooms.backends.redis_presence import RedisPresence
    from rooms.backends.redis_store import RedisLiveStore

    client = client_from_url(settings.store)  # no hidden retries: an outage shows at once
    live_url = settings.live_url()
    live = client if live_url == settings.store else client_from_url(live_url)
    redis_bus = RedisBus(live_url, node_id)
    # When the bus is back, so is Redis; the shared client's idle pooled connections are still
    # the sockets the outage broke, and each would fail one command: drop them.
    redis_bus.on_reconnect(lambda: _spawn(live.connection_pool.disconnect(inuse_connections=False)))
    # Live state (and who holds which socket) outlives the last node serving it by at most the
    # grace period (plus the upkeep rhythm that refreshes it while someone is there).
    ttl = settings.grace_seconds + 2 * settings.upkeep_seconds

    async def close_clients() -> None:
        await client.aclose()
        if live is not client:
            await live.aclose()

    return Backends(
        RedisDirectory(client),
        RedisLiveStore(live, node_id, ttl),
        redis_bus,
        RedisPresence(live, node_id, alive_ttl=3 * settings.upkeep_seconds, ttl_seconds=ttl),
        closing=close_clients,
        # Health data that must last: the persistent store's client, never the live store's.
        journey=RedisJourney(client),
    )


async def live_store_persistence(url: str) -> str | None:
    """What the Redis at ``url`` writes to disk (``None``: nothing), from ``CONFIG GET``: an
    append-only file, or RDB snapshots (``save`` points; redis-server's default has some). A
    server that refuses ``CONFIG`` (managed services often do) cannot be shown to keep nothing,
    and says so. Unreachable: ``StoreUnavailable``."""
    from redis.exceptions import ResponseError

    from rooms.backends.redis_common import UNREACHABLE, client_from_url, unavailable

    client = client_from_url(url)
    try:
        appendonly = await client.config_get("appendonly")
        save = await client.config_get("save")
    except ResponseError:
        return "does not answer CONFIG GET, so it cannot be shown to keep nothing on disk"
    except UNREACHABLE as exc:
        raise unavailable(exc) from exc
    finally:
        await client.aclose()
    kept = []
    if _config_value(appendonly, "appendonly") == "yes":
        kept.append("an append-only file (appendonly yes)")
    points = _config_value(save, "save")
    if points:
        kept.append(f"RDB snapshots (save {points!r})")
    return " and ".join(kept) or None


def _config_value(answer: Any, name: str) -> str:
    """One value of a ``CONFIG GET`` answer (a dict, with bytes or text keys and values)."""
    for key, value in dict(answer).items():
        if (key.decode() if isinstance(key, bytes) else str(key)) == name:
            return (value.decode() if isinstance(value, bytes) else str(value)).strip()
    return ""


_tasks: set[asyncio.Task[None]] = set()


def _spawn(work: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _tasks.add(task)  # a reference until it is done
    task.add_done_callback(_done)


def _done(task: asyncio.Task[None]) -> None:
    _tasks.discard(task)
    if not task.cancelled():
        task.exception()  # a socket that fails to close is of no interest: Redis is back

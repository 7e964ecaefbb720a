"""Every backend implements its whole protocol (``rooms/backends/base.py``), and the members the
server uses are in the protocols, so no caller has to ask ``getattr`` whether a part exists.

mypy checks the same where the server builds its backends; this also covers a backend that is
only ever built in tests, and reads the protocols themselves.
"""

from __future__ import annotations

import pytest

from rooms.backends import base
from rooms.backends.memory_bus import MemoryBus
from rooms.backends.memory_directory import MemoryDirectory
from rooms.backends.memory_presence import MemoryPresence
from rooms.backends.memory_store import MemoryLiveStore
from rooms.backends.redis_bus import RedisBus
from rooms.backends.redis_common import client_from_url
from rooms.backends.redis_directory import RedisDirectory
from rooms.backends.redis_presence import RedisPresence
from rooms.backends.redis_store import RedisLiveStore
from rooms.backends.sqlite_directory import SqliteDirectory

# What the server asked with getattr before: each must be part of its protocol.
REQUIRED = {
    base.Bus: {"available", "publish_node", "on_reconnect"},
    base.LiveStore: {"touch"},
    base.Presence: {"touch", "alive_ttl"},
}


def members(protocol: type) -> set[str]:
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {name for name in vars(protocol) if not name.startswith("_")}
    return names


def backends() -> list[tuple[type, object]]:
    """Each protocol with one instance of every backend that implements it (nothing opened)."""
    client = client_from_url("redis://127.0.0.1:1")  # never connected: only its attributes are read
    bus = MemoryBus()
    return [
        (base.Bus, bus),
        (base.Bus, RedisBus("redis://127.0.0.1:1", "n1")),
        (base.LiveStore, MemoryLiveStore(bus)),
        (base.LiveStore, RedisLiveStore(client, "n1")),
        (base.Presence, MemoryPresence("n1")),
        (base.Presence, RedisPresence(client, "n1")),
        (base.RoomDirectory, MemoryDirectory()),
        (base.RoomDirectory, RedisDirectory(client)),
        (base.RoomDirectory, SqliteDirectory(":memory:")),
    ]


@pytest.mark.parametrize("protocol", list(REQUIRED), ids=lambda p: p.__name__)
def test_the_protocols_hold_what_the_server_uses(protocol: type) -> None:
    assert REQUIRED[protocol] <= members(protocol)


def test_every_backend_has_every_member_of_its_protocol() -> None:
    missing = {
        type(backend).__name__: sorted(name for name in members(protocol) if not hasattr(backend, name))
        for protocol, backend in backends()
    }
    assert {name: gone for name, gone in missing.items() if gone} == {}

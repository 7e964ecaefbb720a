"""Worlds of nodes for the live-backend contract: one in-memory node, or Redis nodes.

A *node* is what one server process holds: a live store, a bus and presence. The memory world
is a single node (every name gives the same one); the Redis world gives each name its own
clients, like separate processes sharing one redis-server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec

from rooms.backends.base import Frame
from rooms.backends.memory_bus import MemoryBus
from rooms.backends.memory_presence import MemoryPresence
from rooms.backends.memory_store import MemoryLiveStore
from rooms.backends.redis_bus import RedisBus
from rooms.backends.redis_common import client_from_url
from rooms.backends.redis_presence import RedisPresence
from rooms.backends.redis_store import RedisLiveStore
from rooms.errors import CommandError
from rooms.events import Delivery, RoomLocked
from rooms.model import RoomConfig, RoomState

TIMEOUT = 5.0
CONFIG = RoomConfig(id="r1", title="Room one", created_at=1.0)


@dataclass
class Node:
    node_id: str
    store: MemoryLiveStore | RedisLiveStore
    bus: MemoryBus | RedisBus
    presence: MemoryPresence | RedisPresence


class World:
    multi_node = False

    async def node(self, name: str) -> Node:
        raise NotImplementedError

    async def close(self) -> None:
        pass


class MemoryWorld(World):
    def __init__(self) -> None:
        bus = MemoryBus()
        self._node = Node("local", MemoryLiveStore(bus), bus, MemoryPresence("local"))

    async def node(self, name: str) -> Node:
        return self._node


@dataclass
class RedisWorld(World):
    url: str
    ttl_seconds: float = 30.0
    alive_ttl: float = 6.0
    multi_node = True
    _nodes: dict[str, Node] = field(default_factory=dict)
    _closers: list[Callable[[], object]] = field(default_factory=list)

    async def node(self, name: str) -> Node:
        if name not in self._nodes:
            client = client_from_url(self.url)
            self._closers.append(client.aclose)
            bus = RedisBus(self.url, name)
            await bus.open()
            self._closers.append(bus.close)
            store = RedisLiveStore(client, name, self.ttl_seconds)
            self._nodes[name] = Node(name, store, bus, RedisPresence(client, name, self.alive_ttl))
        return self._nodes[name]

    async def close(self) -> None:
        for close in reversed(self._closers):
            result = close()
            if asyncio.iscoroutine(result):
                await result


# Steps and frames ------------------------------------------------------------------------------


def increment(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
    """A step that numbers one event, as the engine does: seq + 1 and a numbered delivery."""
    new = state.clone() if state is not None else RoomState(room=CONFIG)
    new.seq += 1
    return new, [Delivery(RoomLocked(locked=new.seq % 2 == 0, seq=new.seq))]


def increment_by(count: int) -> Callable[[RoomState | None], tuple[RoomState | None, list[Delivery]]]:
    def step(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
        deliveries: list[Delivery] = []
        for _ in range(count):
            state, more = increment(state)
            deliveries += more
        return state, deliveries

    return step


def end(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
    return None, []


def refuse(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
    raise CommandError("not_allowed", "refused before any change")


def encode(deliveries: list[Delivery]) -> list[Frame]:
    return [
        Frame(msgspec.json.encode(d.event), d.to, getattr(d.event, "seq", 0) or 0, d.close, kind="test")
        for d in deliveries
    ]


def frame(n: int) -> Frame:
    return Frame(f"frame {n}".encode(), ("p1",), 0, kind="signal")


class Seen:
    """A bus handler that records what it receives."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []

    def __call__(self, received: Frame) -> None:
        self.frames.append(received)

    @property
    def seqs(self) -> list[int]:
        return [f.seq for f in self.frames]

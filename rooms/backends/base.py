"""The small interfaces every backend implements.

- ``RoomDirectory``: room definitions (title, settings, invite version). Persistent: SQLite by
  default, Redis for many nodes.
- ``LiveStore``: the live ``RoomState`` of each room, changed only through ``apply``, which runs a
  pure step atomically per room and publishes the resulting frames in ``seq`` order. A store may
  keep the chat apart and give the step a ``ChatLog`` without its history: a step that reads it
  raises ``ChatNotLoaded`` and is run again on the state read with it.
- ``Bus``: per-room channels carrying encoded frames to the nodes that have participants in the
  room. A node subscribes to a room while it holds at least one connection of it.

Frames are encoded once, by whoever produced them; the bus moves bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import msgspec

from rooms.events import Delivery
from rooms.model import RoomConfig, RoomState


class StoreUnavailable(Exception):
    """The backing service (Redis) cannot be reached; the command changed nothing."""


class Frame(msgspec.Struct, frozen=True, array_like=True):
    """One encoded event on its way to connections.

    ``to=None``: every admitted participant of the room; otherwise these participant ids.
    ``seq``: the room sequence number (0 for unnumbered frames). ``close``: close code to apply
    after sending. ``admit``: internal marker asking the connection of that id to send its welcome.
    ``kind``: the event type, for metrics. ``ts``: wall-clock publish time, for fan-out latency.
    """

    data: bytes
    to: tuple[str, ...] | None = None
    seq: int = 0
    close: int | None = None
    admit: str | None = None
    kind: str = ""
    ts: float = 0.0
    conn: str = ""


Step = Callable[[RoomState | None], tuple[RoomState | None, list[Delivery]]]
FrameHandler = Callable[[Frame], None]


class RoomDirectory(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def create(self, config: RoomConfig) -> None: ...
    async def get(self, room_id: str) -> RoomConfig | None: ...
    async def update(self, config: RoomConfig) -> None: ...
    async def all(self) -> list[RoomConfig]: ...
    async def ping(self) -> bool: ...


class LiveStore(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self, room_id: str, *, with_chat: bool = True) -> RoomState | None:
        """The room's state. Without ``with_chat``, its chat may be a log without its history
        (cheaper: for whoever looks at seats, not at messages)."""
        ...

    async def apply(
        self, room_id: str, step: Step, encode: Callable[[list[Delivery]], list[Frame]]
    ) -> list[Delivery]:
        """Run ``step`` on the room's state atomically, save the result (``None`` deletes it),
        and publish the encoded frames of its deliveries on the room's channel, in order."""
        ...

    async def room_ids(self) -> list[str]: ...
    async def touch(self, room_ids: list[str]) -> None:
        """Keep these rooms' state alive: a store whose state expires (Redis) pushes the expiry
        into the future; one where nothing expires does nothing."""
        ...

    async def ping(self) -> bool: ...


class Bus(Protocol):
    """``available``: whether frames published now reach this node (false while a bus that can
    lose its connection reconnects). ``on_reconnect``: callbacks run each time it is back, since
    frames published meanwhile are lost. ``publish_node``: frames for the local handlers of a
    room on one node only (a bus of one node delivers them here)."""

    available: bool

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def subscribe(self, room_id: str, handler: FrameHandler) -> None: ...
    async def unsubscribe(self, room_id: str, handler: FrameHandler) -> None: ...
    async def publish(self, room_id: str, frames: list[Frame]) -> None: ...
    async def publish_node(self, node_id: str, room_id: str, frames: list[Frame]) -> None: ...
    def on_reconnect(self, callback: Callable[[], None]) -> None: ...


class Presence(Protocol):
    """Which node holds which socket of a participant, and which nodes are alive.

    Entries are per socket (participant id *and* connection id), not per seat: a socket that
    only tries to take a seat (a join or resume not accepted yet) has an entry of its own and
    never overwrites the entry of the socket the seat names, and a node removes only the entries
    of its own sockets. Whether a seat is held is asked with the connection id its seat records.
    """

    node_id: str
    # How long a node counts as alive after its last ``heartbeat``: before trusting that other
    # nodes are dead, a node that just started (or saw an outage) waits this long.
    alive_ttl: float

    async def heartbeat(self) -> None: ...
    async def touch(self, room_ids: list[str]) -> None:
        """Keep these rooms' entries alive (where entries expire)."""
        ...

    async def attach(self, room_id: str, pid: str, conn: str) -> None: ...
    async def detach(self, room_id: str, pid: str, conn: str) -> None: ...
    async def where(self, room_id: str, pid: str, conn: str) -> str | None: ...
    async def orphans(self, room_id: str, seats: list[tuple[str, str]]) -> list[str]:
        """Of ``seats`` (participant id, the connection its seat names), the participants whose
        socket no live node holds."""
        ...

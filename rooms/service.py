"""Load -> apply -> save -> publish, and the clock that drives turn timers and grace periods.

``RoomService.execute`` is the only way a room's live state (its session) changes: every change
is a command run by the engine. Room definitions are written through the directory: here
(``update_room``, which also tells a live session), by the API creating a room, and by
``hearth rooms`` (which changes no live session: links are checked against the directory at
each join). The service knows nothing about sockets: it turns commands into frames on the bus;
whoever holds connections subscribes to the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import msgspec

from rooms import engine
from rooms.backends.base import Bus, Frame, LiveStore, RoomDirectory
from rooms.commands import Command, Tick, UpdateRoom
from rooms.errors import CommandError
from rooms.events import Admitted, Delivery
from rooms.model import RoomConfig, RoomState

log = logging.getLogger("hearth.rooms")

_encode = msgspec.json.Encoder().encode


def encode_deliveries(deliveries: list[Delivery], state: RoomState | None = None) -> list[Frame]:
    """Serialize each event once; every recipient gets the same bytes.

    A frame for one participant names the connection its seat records in ``state`` (the state
    the change produced): only that connection gets it, never a socket that merely claims to be
    that participant while its own join or resume is still being checked."""
    now = time.time()
    frames: list[Frame] = []
    for d in deliveries:
        event = d.event
        if isinstance(event, Admitted):
            frames.append(Frame(b"", d.to, 0, None, event.id, "admitted", now, event.conn))
            continue
        seq: int = getattr(event, "seq", 0) if d.to is None else 0
        kind = type(event).__struct_config__.tag
        conn = ""
        if d.to is not None and len(d.to) == 1 and state is not None:
            seat = state.seats.get(d.to[0])
            conn = seat.conn if seat is not None else ""
        frames.append(Frame(_encode(event), d.to, seq, d.close, None, str(kind), now, conn))
    return frames


class RoomNotFound(Exception):
    pass


class RoomService:
    def __init__(
        self,
        directory: RoomDirectory,
        store: LiveStore,
        bus: Bus,
        *,
        grace_seconds: float = 30.0,
        lobby_wait_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.store = store
        self.bus = bus
        self.grace_seconds = grace_seconds
        self.lobby_wait_seconds = lobby_wait_seconds
        self.clock = clock
        self._configs: dict[str, RoomConfig] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}

    async def config(self, room_id: str) -> RoomConfig:
        config = self._configs.get(room_id)
        if config is None:
            config = await self.directory.get(room_id)
            if config is None:
                raise RoomNotFound(room_id)
            self._configs[room_id] = config
        return config

    async def current_config(self, room_id: str) -> RoomConfig:
        """The definition as the directory holds it now, refreshing this node's copy: what link
        checks and changes of the definition start from, since another node or ``hearth rooms
        rotate`` may have just revoked a link."""
        config = await self.directory.get(room_id)
        if config is None:
            self._configs.pop(room_id, None)
            raise RoomNotFound(room_id)
        self._configs[room_id] = config
        return config

    async def execute(self, room_id: str, command: Command, then: Frame | None = None) -> list[Delivery]:
        """Apply one command to one room. Raises ``CommandError`` (nothing changed) or
        ``StoreUnavailable``. ``then``: a frame published after the command's own frames, in the
        same publish (the server's ack to the socket that sent the command), so it reaches its
        recipient after them on every backend."""
        config = await self.config(room_id)
        result: list[RoomState | None] = [None]

        def step(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
            new, deliveries = engine.apply(state or RoomState(room=config), command, self.clock())
            kept = None if _finished(new) else new
            result[0] = kept
            return kept, deliveries

        def encode(deliveries: list[Delivery]) -> list[Frame]:
            frames = encode_deliveries(deliveries, result[0])
            return frames if then is None else [*frames, then]

        deliveries = await self.store.apply(room_id, step, encode)
        self._schedule(room_id, result[0])
        return deliveries

    async def state(self, room_id: str, *, with_chat: bool = True) -> RoomState | None:
        return await self.store.load(room_id, with_chat=with_chat)

    async def update_room(self, config: RoomConfig) -> None:
        """Persist new settings and let a live session pick them up."""
        await self.directory.update(config)
        self._configs[config.id] = config
        with contextlib.suppress(CommandError):
            if await self.store.load(config.id, with_chat=False) is not None:
                await self.execute(config.id, UpdateRoom(config=config))

    async def relay(self, room_id: str, frame: Frame, node_id: str | None = None) -> None:
        """Point-to-point frames (``signal``) skip the store: nothing in the room changes. With
        ``node_id``, only the node holding the recipient gets it."""
        if node_id is not None:
            await self.bus.publish_node(node_id, room_id, [frame])
        else:
            await self.bus.publish(room_id, [frame])

    def close(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    # The clock -------------------------------------------------------------------------------

    def _schedule(self, room_id: str, state: RoomState | None) -> None:
        old = self._timers.pop(room_id, None)
        if old is not None:
            old.cancel()
        deadline = self.deadline(state) if state is not None else None
        if deadline is None:
            return
        delay = max(0.0, deadline - self.clock()) + 0.01
        loop = asyncio.get_running_loop()
        self._timers[room_id] = loop.call_later(delay, self._fire, room_id)

    def _fire(self, room_id: str) -> None:
        self._timers.pop(room_id, None)
        task = asyncio.get_running_loop().create_task(self._tick(room_id))
        task.add_done_callback(_log_failure)

    async def _tick(self, room_id: str) -> None:
        await self.execute(room_id, self.tick())

    def deadline(self, state: RoomState) -> float | None:
        """When this room's clock next matters (``engine.next_deadline`` with this service's times)."""
        return engine.next_deadline(state, self.grace_seconds, self.lobby_wait_seconds)

    def tick(self) -> Tick:
        return Tick(grace_seconds=self.grace_seconds, lobby_wait_seconds=self.lobby_wait_seconds)


def _finished(state: RoomState) -> bool:
    """A room nobody is in keeps no live state: its session (if any) is over."""
    return not state.seats


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("room clock failed: %s", type(task.exception()).__name__)

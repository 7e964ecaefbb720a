"""The embedded default: live state in this process's memory, fan-out by direct calls.

``apply`` contains no ``await``: on one event loop it is atomic per room by construction, and
frames reach local subscribers in the order they were numbered.
"""

from __future__ import annotations

from collections.abc import Callable

from rooms.backends.base import Frame, FrameHandler, Step
from rooms.events import Delivery
from rooms.model import RoomState


class MemoryBus:
    """The bus of the only node. It never goes away, so ``available`` stays true and
    ``on_reconnect`` callbacks are never called; ``publish_node`` delivers here whatever node it
    names, since presence can only ever name this one."""

    def __init__(self) -> None:
        self.available = True
        self._handlers: dict[str, list[FrameHandler]] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        self._handlers.clear()

    async def subscribe(self, room_id: str, handler: FrameHandler) -> None:
        self._handlers.setdefault(room_id, []).append(handler)

    async def unsubscribe(self, room_id: str, handler: FrameHandler) -> None:
        handlers = self._handlers.get(room_id)
        if handlers and handler in handlers:
            handlers.remove(handler)
            if not handlers:
                del self._handlers[room_id]

    async def publish(self, room_id: str, frames: list[Frame]) -> None:
        self.deliver(room_id, frames)

    async def publish_node(self, node_id: str, room_id: str, frames: list[Frame]) -> None:
        self.deliver(room_id, frames)

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        pass

    def deliver(self, room_id: str, frames: list[Frame]) -> None:
        for handler in self._handlers.get(room_id, ()):
            for frame in frames:
                handler(frame)


class MemoryLiveStore:
    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus
        self._states: dict[str, RoomState] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        self._states.clear()

    async def load(self, room_id: str, *, with_chat: bool = True) -> RoomState | None:
        """The state itself (with its chat: sharing it costs nothing here)."""
        return self._states.get(room_id)

    async def apply(
        self, room_id: str, step: Step, encode: Callable[[list[Delivery]], list[Frame]]
    ) -> list[Delivery]:
        new, deliveries = step(self._states.get(room_id))
        if new is None:
            self._states.pop(room_id, None)
        else:
            self._states[room_id] = new
        self._bus.deliver(room_id, encode(deliveries))
        return deliveries

    async def room_ids(self) -> list[str]:
        return list(self._states)

    async def touch(self, room_ids: list[str]) -> None:
        """Nothing expires in memory."""

    async def ping(self) -> bool:
        return True

"""The bus of the only node: fan-out by direct calls, in the order frames were published."""

from __future__ import annotations

from collections.abc import Callable

from rooms.backends.base import Frame, FrameHandler


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

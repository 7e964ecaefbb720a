"""The embedded default: live state in this process's memory, fanned out by ``MemoryBus``.

``apply`` contains no ``await``: on one event loop it is atomic per room by construction, and
frames reach local subscribers in the order they were numbered.
"""

from __future__ import annotations

from collections.abc import Callable

from rooms.backends.base import Frame, Step
from rooms.backends.memory_bus import MemoryBus
from rooms.events import Delivery
from rooms.model import RoomState


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

"""Room definitions in a dict: a ``RoomDirectory`` for tests and throwaway servers.

It behaves like ``SqliteDirectory`` (the same tests run against both): ``create`` refuses an
existing id with ``ValueError``, ``update`` an unknown one with ``KeyError``, ``all`` lists rooms in
creation order.
"""

from __future__ import annotations

from rooms.model import RoomConfig


class MemoryDirectory:
    def __init__(self) -> None:
        self._rooms: dict[str, RoomConfig] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def create(self, config: RoomConfig) -> None:
        if config.id in self._rooms:
            raise ValueError(f"room {config.id!r} already exists")
        self._rooms[config.id] = config

    async def get(self, room_id: str) -> RoomConfig | None:
        return self._rooms.get(room_id)

    async def update(self, config: RoomConfig) -> None:
        if config.id not in self._rooms:
            raise KeyError(config.id)
        self._rooms[config.id] = config

    async def all(self) -> list[RoomConfig]:
        return list(self._rooms.values())

    async def ping(self) -> bool:
        return True

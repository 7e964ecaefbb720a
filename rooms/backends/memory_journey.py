"""A ``JourneyStore`` in this process's memory: for tests and tools; nothing outlives it."""

from __future__ import annotations

from rooms.backends.journey_base import KEPT_BY_SWEEP, Record


class MemoryJourney:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[tuple[str, str], Record]] = {}
        self._sessions: dict[str, dict[str, int]] = {}
        self._last: dict[str, int] = {}

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def put(self, room_id: str, record: Record) -> None:
        self._rooms.setdefault(room_id, {})[(record.kind, record.id)] = record

    async def add(self, room_id: str, record: Record, *, limit: int, per_owner: bool = False) -> bool:
        records = self._rooms.setdefault(room_id, {})
        if (record.kind, record.id) not in records:
            owner = record.owner if per_owner else None
            if self._count(room_id, record.kind, owner) >= limit:
                return False
        records[(record.kind, record.id)] = record
        return True

    async def get(self, room_id: str, kind: str, record_id: str) -> Record | None:
        return self._rooms.get(room_id, {}).get((kind, record_id))

    async def list(self, room_id: str, kind: str, *, owner: str | None = None) -> list[Record]:
        found = [r for r in self._rooms.get(room_id, {}).values() if _matches(r, kind, owner)]
        found.sort(key=lambda r: (r.created, r.id))
        return found

    async def count(self, room_id: str, kind: str, *, owner: str | None = None) -> int:
        return self._count(room_id, kind, owner)

    async def delete(self, room_id: str, kind: str, record_id: str) -> bool:
        return self._rooms.get(room_id, {}).pop((kind, record_id), None) is not None

    async def delete_owner(self, room_id: str, owner: str, *, keep: frozenset[str] = frozenset()) -> int:
        records = self._rooms.get(room_id, {})
        gone = [key for key, r in records.items() if r.owner == owner and r.kind not in keep]
        for key in gone:
            del records[key]
        return len(gone)

    async def delete_room(self, room_id: str) -> int:
        self._sessions.pop(room_id, None)
        self._last.pop(room_id, None)
        return len(self._rooms.pop(room_id, {}))

    async def sweep(self, before: float) -> int:
        gone = 0
        for records in self._rooms.values():
            old = [key for key, r in records.items() if r.created < before and r.kind not in KEPT_BY_SWEEP]
            for key in old:
                del records[key]
            gone += len(old)
        return gone

    async def session_number(self, room_id: str, session_id: str) -> int:
        numbers = self._sessions.setdefault(room_id, {})
        if session_id not in numbers:
            self._last[room_id] = numbers[session_id] = self._last.get(room_id, 0) + 1
        return numbers[session_id]

    async def last_session_number(self, room_id: str) -> int:
        return self._last.get(room_id, 0)

    async def ping(self) -> bool:
        return True

    def _count(self, room_id: str, kind: str, owner: str | None) -> int:
        return sum(1 for r in self._rooms.get(room_id, {}).values() if _matches(r, kind, owner))


def _matches(record: Record, kind: str, owner: str | None) -> bool:
    return record.kind == kind and (owner is None or record.owner == owner)

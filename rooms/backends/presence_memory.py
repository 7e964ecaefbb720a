"""Presence for one node: every participant with a socket is attached here, and nowhere else."""

from __future__ import annotations


class MemoryPresence:
    """``Presence`` of a single node: ``where`` is this node or nobody; ``orphans`` are the
    participants without a socket here."""

    def __init__(self, node_id: str = "local") -> None:
        self.node_id = node_id
        self._rooms: dict[str, set[str]] = {}

    async def heartbeat(self) -> None:
        pass

    async def attach(self, room_id: str, pid: str) -> None:
        self._rooms.setdefault(room_id, set()).add(pid)

    async def detach(self, room_id: str, pid: str) -> None:
        pids = self._rooms.get(room_id)
        if pids is not None:
            pids.discard(pid)
            if not pids:
                del self._rooms[room_id]

    async def where(self, room_id: str, pid: str) -> str | None:
        return self.node_id if pid in self._rooms.get(room_id, ()) else None

    async def orphans(self, room_id: str, pids: list[str]) -> list[str]:
        here = self._rooms.get(room_id, set())
        return [pid for pid in pids if pid not in here]

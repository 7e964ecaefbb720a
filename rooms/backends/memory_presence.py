"""Presence for one node: every socket with a seat (or trying to take one) is attached here."""

from __future__ import annotations


class MemoryPresence:
    """``Presence`` of a single node: ``where`` is this node or nobody; ``orphans`` are the
    seats whose socket is not attached here."""

    def __init__(self, node_id: str = "local", alive_ttl: float = 30.0) -> None:
        self.node_id = node_id
        self.alive_ttl = alive_ttl  # no other node to judge: only the upkeep's first wait uses it
        self._rooms: dict[str, set[tuple[str, str]]] = {}

    async def heartbeat(self) -> None:
        pass

    async def touch(self, room_ids: list[str]) -> None:
        """Nothing expires in memory."""

    async def attach(self, room_id: str, pid: str, conn: str) -> None:
        self._rooms.setdefault(room_id, set()).add((pid, conn))

    async def detach(self, room_id: str, pid: str, conn: str) -> None:
        sockets = self._rooms.get(room_id)
        if sockets is not None:
            sockets.discard((pid, conn))
            if not sockets:
                del self._rooms[room_id]

    async def where(self, room_id: str, pid: str, conn: str) -> str | None:
        return self.node_id if (pid, conn) in self._rooms.get(room_id, ()) else None

    async def orphans(self, room_id: str, seats: list[tuple[str, str]]) -> list[str]:
        here = self._rooms.get(room_id, set())
        return [pid for pid, conn in seats if (pid, conn) not in here]

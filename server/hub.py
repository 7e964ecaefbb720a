"""This node's connections, by room and participant, and the fan-out from the bus into them.

A frame from the bus is decoded to text once and pushed to each recipient's connection, which
writes it at once or queues it in its bounded outbox: fan-out never awaits a recipient, so a
slow client cannot delay the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from rooms.backends.base import Bus, Frame, Presence, StoreUnavailable
from server import metrics

CLOSE_REPLACED = 4009

if TYPE_CHECKING:
    from server.connection import Connection


class LocalRoom:
    __slots__ = ("current", "handler", "room_id", "subscribed")

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self.current: dict[str, Connection] = {}
        self.handler = self.fan_out
        # Done once the bus delivers this room's frames here: a join must not publish before,
        # or its own welcome goes by unseen.
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def fan_out(self, frame: Frame) -> None:
        text = frame.data.decode() if frame.data else ""
        if frame.to is None:
            for conn in self.current.values():
                if conn.admitted:
                    conn.push(frame, text)
            count = len(self.current)
        else:
            count = 0
            for pid in frame.to:
                target = self.current.get(pid)
                if target is None:
                    continue
                if frame.admit is not None and frame.conn and target.conn_id != frame.conn:
                    target.close_soon(CLOSE_REPLACED)  # the seat was taken by a newer socket
                    continue
                target.push(frame, text)
                count += 1
        if frame.ts:
            metrics.FANOUT_SECONDS.observe(max(0.0, time.time() - frame.ts))
        metrics.count_out(frame.kind, count)


class Hub:
    def __init__(self, bus: Bus, presence: Presence) -> None:
        self.bus = bus
        self.presence = presence
        self.rooms: dict[str, LocalRoom] = {}

    async def attach(self, room_id: str, pid: str, conn: Connection) -> Connection | None:
        """Make ``conn`` the connection of ``pid``; returns the one it replaces, if any."""
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = LocalRoom(room_id)
            metrics.ROOMS.set(len(self.rooms))
            try:
                await self.bus.subscribe(room_id, room.handler)
            finally:
                room.subscribed.set_result(None)
        elif not room.subscribed.done():  # another join is subscribing this node to the room
            await asyncio.shield(room.subscribed)
        previous = room.current.get(pid)
        room.current[pid] = conn
        try:
            await self.presence.attach(room_id, pid)
        except BaseException:  # the store is away: undo, so no connection stays half-attached
            if previous is not None:
                room.current[pid] = previous
            else:
                del room.current[pid]
                await self._forget_if_empty(room)
            raise
        return previous

    async def detach(
        self, room_id: str, pid: str, conn: Connection, restore: Connection | None = None
    ) -> bool:
        """Forget ``conn``; true when it was the current connection of ``pid``."""
        room = self.rooms.get(room_id)
        if room is None or room.current.get(pid) is not conn:
            return False
        if restore is not None:
            room.current[pid] = restore
        else:
            del room.current[pid]
            # With the store away the entry stays, naming this node: the upkeep finds such seats
            # (no socket here) and disconnects them once the store is back.
            with contextlib.suppress(StoreUnavailable):
                await self.presence.detach(room_id, pid)
        await self._forget_if_empty(room)
        return True

    async def _forget_if_empty(self, room: LocalRoom) -> None:
        if not room.current and self.rooms.get(room.room_id) is room:
            del self.rooms[room.room_id]
            metrics.ROOMS.set(len(self.rooms))
            await self.bus.unsubscribe(room.room_id, room.handler)

    def connection(self, room_id: str, pid: str) -> Connection | None:
        room = self.rooms.get(room_id)
        return room.current.get(pid) if room else None

    def connections(self) -> list[Connection]:
        return [conn for room in self.rooms.values() for conn in room.current.values()]

    def resync(self) -> None:
        """The bus was away and frames may be lost: every local client gets a fresh snapshot."""
        for conn in self.connections():
            conn.resync()

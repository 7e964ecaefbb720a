"""This node's connections, by room and participant, and the fan-out from the bus into them.

A frame from the bus is decoded to text once and pushed to each recipient's connection, which
writes it at once or queues it in its bounded outbox: fan-out never awaits a recipient, so a
slow client cannot delay the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Protocol

from rooms.backends.base import Bus, Frame, Presence, StoreUnavailable
from rooms.codes import Close
from server import metrics
from server.acks import ACK


class Connection(Protocol):
    """What the hub needs of a connection (``server.connection.Connection`` is one): who it is,
    and three calls that never await: take a frame, close after what is queued, resync."""

    conn_id: str
    pid: str
    admitted: bool

    def push(self, frame: Frame, text: str) -> None: ...
    def close_soon(self, code: int) -> None: ...
    def resync(self) -> None: ...


Watch = Callable[[str, Frame | None], None]
"""Told of every frame of a room that reaches this node, and (``None``) of every socket of it
that goes: how SFU mode (``server.sfu``) keeps the media server in step with the room."""


class LocalRoom:
    __slots__ = ("current", "handler", "pending", "room_id", "subscribed", "watch")

    def __init__(self, room_id: str, watch: Watch | None = None) -> None:
        self.room_id = room_id
        self.watch = watch
        # The connection each seat of this node names, by participant id.
        self.current: dict[str, Connection] = {}
        # Connections whose join or resume is not accepted yet, by connection id: they hold no
        # seat, and get only the frames addressed to them by connection (their own lobby state
        # or welcome), never another connection's frames for the participant they claim to be.
        self.pending: dict[str, Connection] = {}
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
            exact = frame.kind == ACK
            for pid in frame.to:
                target = self.socket(pid, frame.conn) if exact else self.target(pid, frame.conn)
                if target is None:
                    continue
                target.push(frame, text)
                count += 1
        if frame.ts:
            metrics.FANOUT_SECONDS.observe(max(0.0, time.time() - frame.ts))
        metrics.count_out(frame.kind, count)
        if self.watch is not None:
            self.watch(self.room_id, frame)

    def target(self, pid: str, conn_id: str) -> Connection | None:
        """The connection of ``pid`` a frame addressed to its seat's connection ``conn_id`` (empty:
        whichever holds the seat here) goes to. The seat names a pending connection only once its
        join or resume was accepted: that connection takes the seat here at once. A connection
        the seat no longer names gets nothing more; a welcome for another closes it (4009)."""
        current = self.current.get(pid)
        if not conn_id or (current is not None and current.conn_id == conn_id):
            return current
        waiting = self.pending.get(conn_id)
        if waiting is not None and waiting.pid == pid:
            self.promote(pid, waiting)
            return waiting
        if current is not None:
            current.close_soon(Close.REPLACED)  # the seat was taken by a newer socket elsewhere
        return None

    def socket(self, pid: str, conn_id: str) -> Connection | None:
        """The socket ``conn_id`` of ``pid`` if it is here (holding the seat or about to), and
        nothing else: an ack is for the socket that sent the command, and changes no seat."""
        current = self.current.get(pid)
        if current is not None and current.conn_id == conn_id:
            return current
        waiting = self.pending.get(conn_id)
        return waiting if waiting is not None and waiting.pid == pid else None

    def promote(self, pid: str, conn: Connection) -> None:
        """``conn``'s join or resume was accepted: it holds the seat here now; the connection that
        held it before is closed (4009) after what it was sent already."""
        self.pending.pop(conn.conn_id, None)
        previous = self.current.get(pid)
        if previous is conn:
            return
        self.current[pid] = conn
        if previous is not None:
            previous.close_soon(Close.REPLACED)


class Hub:
    def __init__(self, bus: Bus, presence: Presence) -> None:
        self.bus = bus
        self.presence = presence
        self.rooms: dict[str, LocalRoom] = {}
        self.watch: Watch | None = None

    async def prepare(self, room_id: str, pid: str, conn: Connection) -> None:
        """Make ready for ``conn``'s join or resume as ``pid``, before the command runs: this node
        hears the room (so the connection's own frames reach it), and presence has the socket's
        own entry (so an accepted seat is never without one). Nothing of the seat changes: the
        connection holding it keeps it, and its frames, until the command is accepted.

        While the bus is away (Redis is back for commands, but the bus still waits to reconnect)
        this node would not hear the join's own welcome: ``StoreUnavailable``, a fixable refusal."""
        if not self.bus.available:
            raise StoreUnavailable("the bus is reconnecting")
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = LocalRoom(room_id, self.watch)
            metrics.ROOMS.set(len(self.rooms))
            try:
                await self.bus.subscribe(room_id, room.handler)
            finally:
                room.subscribed.set_result(None)
        elif not room.subscribed.done():  # another join is subscribing this node to the room
            await asyncio.shield(room.subscribed)
        room.pending[conn.conn_id] = conn
        try:
            await self.presence.attach(room_id, pid, conn.conn_id)
        except BaseException:  # the store is away: undo, so nothing stays half-prepared
            del room.pending[conn.conn_id]
            await self._forget_if_empty(room)
            raise

    def accepted(self, room_id: str, pid: str, conn: Connection) -> bool:
        """The join or resume of ``conn`` was accepted: it holds the seat here (if its welcome
        did not already do that). False if it is no longer this node's to hold."""
        room = self.rooms.get(room_id)
        if room is None:
            return False
        if room.current.get(pid) is conn:
            return True
        if room.pending.get(conn.conn_id) is not conn:
            return False
        room.promote(pid, conn)
        return True

    async def detach(self, room_id: str, pid: str, conn: Connection) -> bool:
        """Forget ``conn`` (holding a seat or still trying to take one) and its presence entry;
        true when it was the connection holding the seat of ``pid``."""
        room = self.rooms.get(room_id)
        if room is None:
            return False
        held = room.current.get(pid) is conn
        if held:
            del room.current[pid]
        elif room.pending.get(conn.conn_id) is conn:
            del room.pending[conn.conn_id]
        # Only this socket's own entry goes: a newer socket's (here or elsewhere) stays. With the
        # store away the entry stays, naming this node: the upkeep finds such seats (no socket
        # here) and disconnects them once the store is back.
        with contextlib.suppress(StoreUnavailable):
            await self.presence.detach(room_id, pid, conn.conn_id)
        await self._forget_if_empty(room)
        if self.watch is not None:
            self.watch(room_id, None)
        return held

    async def _forget_if_empty(self, room: LocalRoom) -> None:
        if not room.current and not room.pending and self.rooms.get(room.room_id) is room:
            del self.rooms[room.room_id]
            metrics.ROOMS.set(len(self.rooms))
            await self.bus.unsubscribe(room.room_id, room.handler)

    def connection(self, room_id: str, pid: str) -> Connection | None:
        room = self.rooms.get(room_id)
        return room.current.get(pid) if room else None

    def holds(self, room_id: str, pid: str, conn_id: str) -> bool:
        """Whether the socket ``conn_id`` of ``pid`` is here, holding its seat or about to."""
        room = self.rooms.get(room_id)
        return room is not None and room.socket(pid, conn_id) is not None

    def connections(self) -> list[Connection]:
        return [conn for room in self.rooms.values() for conn in room.current.values()]

    def resync(self) -> None:
        """The bus was away and frames may be lost: every local client gets a fresh snapshot."""
        for conn in self.connections():
            conn.resync()

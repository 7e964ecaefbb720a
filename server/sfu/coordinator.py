"""SFU mode on one node: the Janus side of every participant whose socket this node holds.

Ownership follows the socket: the node holding a participant's socket makes and drives their
Janus session (``SfuPeer``), so the SFU's offers and answers travel on that socket and nothing
crosses nodes but the room's state. What every node must agree on (which instance and Janus room
a session uses) is in that state (``RoomState.sfu``), placed by ``PlaceSfu``.

Level-triggered: whenever a frame that may change who is in the room, who may be heard or who
holds the floor reaches this node (``Hub.watch``), or a socket of the room goes, or Janus says
feeds came or went, one coalesced reconcile of that room runs: it loads the state and makes
every local peer match it (create, destroy, the feeds to receive, ``moderate``, the layers).
Reconciling twice changes nothing, so a missed or repeated trigger is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

from rooms.backends.base import Frame
from rooms.model import MediaPath, RoomState, SessionState, SfuPlacement
from rooms.service import RoomService
from server import protocol
from server.config import Settings
from server.hub import Hub
from server.sfu.instances import Instances
from server.sfu.janus import JanusError, JanusGone
from server.sfu.peer import SfuPeer, Wanted
from server.sfu.placement import destroy_room, place, sweep_empty_rooms
from server.sfu.room import SfuRoom, may_be_heard, may_be_seen
from server.sfu.subscription import feed_owner

log = logging.getLogger("hearth.sfu")

SWEEP_SECONDS = 60.0
"""How often each node looks for VideoRooms left empty (``sweep_empty_rooms``)."""

RETRY_SECONDS = 2.0
"""After a placement that found no live instance, or a failed look at the room's feeds."""

QUIET_KINDS = frozenset({"chat", "chat_deleted", "reaction", "signal", "ack", "floor_time_up"})
"""Frames that change nothing the media server enforces: no reconcile for them."""

FEED_CHANGES = ("publishers", "unpublished", "leaving", "joining", "configured")
"""Keys of a publisher handle's events that say someone's feeds came or went."""

NO_SUCH_ROOM = 426  # the VideoRoom plugin's "no such room"


class SfuCoordinator:
    def __init__(self, settings: Settings, service: RoomService, hub: Hub) -> None:
        self.secret = settings.janus_secret
        self.service, self.hub = service, hub
        self.instances = Instances(settings.janus_urls, settings.janus_secret, self._instance_lost)
        self.rooms: dict[str, SfuRoom] = {}
        self.mesh: set[str] = set()  # rooms whose current session is a mesh: nothing to do
        self._dirty: set[str] = set()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None  # started with the first SFU work
        hub.watch = self.watch

    # Triggers ------------------------------------------------------------------------------------

    def watch(self, room_id: str, frame: Frame | None) -> None:
        """From the hub: a frame of ``room_id`` reached this node, or (``None``) a socket went."""
        if frame is not None:
            if frame.kind in QUIET_KINDS:
                return
            if frame.kind == "session_ended":
                self.mesh.discard(room_id)
            elif room_id in self.mesh or not (
                frame.seq or frame.admit is not None or frame.kind == "removed"
            ):
                return
        elif room_id not in self.hub.rooms:
            self.mesh.discard(room_id)  # no socket of it here: the next session is looked at anew
        self.schedule(room_id)

    def schedule(self, room_id: str) -> None:
        """Reconcile ``room_id`` soon: once, however many times it is asked meanwhile."""
        self._dirty.add(room_id)
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        if room_id not in self._running:
            task = asyncio.get_running_loop().create_task(self._reconcile_while_dirty(room_id))
            self._running[room_id] = task

    async def _reconcile_while_dirty(self, room_id: str) -> None:
        try:
            while room_id in self._dirty:
                self._dirty.discard(room_id)
                try:
                    await self._reconcile(room_id)
                except Exception:
                    log.exception("sfu reconcile failed", extra={"room": room_id})
                    self._retry_later(room_id)
        finally:
            self._running.pop(room_id, None)

    async def _sweep(self) -> None:
        empty: set[tuple[str, str]] = set()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await sweep_empty_rooms(self.instances, self.secret, empty)
            except Exception:
                log.exception("sfu sweep failed")

    def _retry_later(self, room_id: str) -> None:
        room = self.rooms.get(room_id)
        if room is None or room.retry is not None:
            return

        def fire() -> None:
            room.retry = None
            self.schedule(room_id)

        room.retry = asyncio.get_running_loop().call_later(RETRY_SECONDS, fire)

    def _instance_lost(self, url: str) -> None:
        for room_id, room in self.rooms.items():
            if room.placement is not None and room.placement.instance == url:
                room.stale_epoch = max(room.stale_epoch, room.placement.epoch)
                self.schedule(room_id)

    # The reconcile -------------------------------------------------------------------------------

    async def _reconcile(self, room_id: str) -> None:
        state = await self.service.state(room_id, with_chat=False)
        room = self.rooms.get(room_id)
        live = state is not None and state.session is SessionState.LIVE
        if state is None or not live or state.media is not MediaPath.SFU:
            if live and state is not None and state.media is MediaPath.MESH:
                self.mesh.add(room_id)
            if room is not None:
                await self._end(room_id, room)
            return
        if room is not None and room.session_id != state.session_id:
            await self._end(room_id, room)  # a session ended and a new one began meanwhile
            room = None
        if room is None:
            room = self.rooms[room_id] = SfuRoom(state.session_id)
        wanted = self._local_seats(room_id, state)
        for pid, peer in list(room.peers.items()):
            if wanted.get(pid) != peer.conn_id:
                self._close_peer(room, pid)
        placement = state.sfu
        room.placement = placement
        if not wanted:
            if not room.peers and room_id not in self.hub.rooms:
                del self.rooms[room_id]  # no socket of it here: the nodes that hold some go on
            return
        if placement is None or placement.epoch <= room.stale_epoch:
            if not await place(self.service, self.instances, self.secret, state):
                self._retry_later(room_id)
            return  # the placement's own frame brings the next reconcile
        try:
            feeds = await self._feeds(placement)
        except JanusError as exc:
            if exc.code == NO_SUCH_ROOM:  # the instance restarted and forgot it: place again
                room.stale_epoch = max(room.stale_epoch, placement.epoch)
                self.schedule(room_id)
            else:
                self._retry_later(room_id)
            return
        except JanusGone:
            room.stale_epoch = max(room.stale_epoch, placement.epoch)
            self._retry_later(room_id)
            return
        for pid, conn_id in wanted.items():
            peer = room.peers.get(pid) or self._open_peer(room_id, room, pid, conn_id)
            seat = state.seats[pid]
            others = frozenset(
                feed
                for feed in feeds
                if feed_owner(feed) != pid
                and (other := state.seats.get(feed_owner(feed))) is not None
                and other.admitted
            )
            high = frozenset(p for p in (state.floor.holder, room.pins.get(pid)) if p)
            peer.want(Wanted(placement, others, may_be_heard(seat), may_be_seen(seat), high))

    def _local_seats(self, room_id: str, state: RoomState) -> dict[str, str]:
        """The participants whose seat this node's sockets hold (let in and here): id -> socket."""
        local = self.hub.rooms.get(room_id)
        seats: dict[str, str] = {}
        for pid, conn in local.current.items() if local is not None else ():
            seat = state.seats.get(pid)
            if seat is not None and seat.admitted and seat.person.connected and seat.conn == conn.conn_id:
                seats[pid] = conn.conn_id
        return seats

    async def _feeds(self, placement: SfuPlacement) -> list[str]:
        """The Janus ids of everyone publishing in the session's VideoRoom now."""
        body = {"request": "listparticipants", "room": placement.room, "secret": self.secret}
        answer = await self.instances.request(placement.instance, body)
        people = answer.get("participants")
        if not isinstance(people, list):
            return []
        return [str(p["id"]) for p in people if isinstance(p, dict) and p.get("publisher") and p.get("id")]

    async def _end(self, room_id: str, room: SfuRoom) -> None:
        """The session ended (or is no longer this node's business): every local peer goes, and
        the session's VideoRoom is destroyed (by every node that saw it: destroying twice is
        harmless)."""
        for pid in list(room.peers):
            self._close_peer(room, pid)
        if room.retry is not None:
            room.retry.cancel()
        if self.rooms.get(room_id) is room:  # not a newer session's, made meanwhile
            del self.rooms[room_id]
        if room.placement is not None:
            await destroy_room(self.instances, room.placement.instance, room.placement.room, self.secret)

    # Peers ---------------------------------------------------------------------------------------

    def _open_peer(self, room_id: str, room: SfuRoom, pid: str, conn_id: str) -> SfuPeer:
        def send(message: dict[str, Any]) -> None:
            self.send(room_id, pid, conn_id, message)

        peer = SfuPeer(room_id, pid, conn_id, self.instances, self.secret, send, self._peer_event)
        room.peers[pid] = peer
        return peer

    def _close_peer(self, room: SfuRoom, pid: str) -> None:
        peer = room.peers.pop(pid)
        room.pins.pop(pid, None)
        self._spawn(peer.close())

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run ``job`` (closing a peer, ending a room) on its own; shutdown waits for it."""
        task = asyncio.get_running_loop().create_task(job)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _peer_event(self, peer: SfuPeer, data: dict[str, Any]) -> None:
        """An unsolicited event on a local publisher handle: feeds came or went, or someone in the
        room started or stopped talking."""
        kind = data.get("videoroom")
        room = self.rooms.get(peer.room_id)
        if room is None:
            return
        if kind in ("talking", "stopped-talking"):
            who = feed_owner(data.get("id", ""))
            speaker = who if kind == "talking" else (None if room.speaker == who else room.speaker)
            if speaker != room.speaker:
                room.speaker = speaker
                for pid, other in room.peers.items():
                    self.send(peer.room_id, pid, other.conn_id, {"type": "sfu", "speaking": speaker})
        elif kind == "event" and any(k in data for k in FEED_CHANGES):
            self.schedule(peer.room_id)

    def send(self, room_id: str, pid: str, conn_id: str, message: dict[str, Any]) -> None:
        """An ``sfu`` frame to the socket ``conn_id`` of ``pid``, if it still holds the seat here."""
        conn = self.hub.connection(room_id, pid)
        if conn is None or conn.conn_id != conn_id:
            return
        data = protocol.encode(message)
        conn.push(Frame(data, (pid,), 0, None, None, "sfu", time.time(), conn_id), data.decode())

    # The client's messages (server.requests) ---------------------------------------------------

    def peer_for(self, room_id: str, pid: str, conn_id: str, state: RoomState) -> SfuPeer:
        """The peer of a participant the caller found let in to a live SFU session, made now if
        the reconcile has not got to it yet."""
        room = self.rooms.get(room_id)
        if room is None or room.session_id != state.session_id:
            if room is not None:  # an ended session's, still here: it goes now
                self._spawn(self._end(room_id, room))
            room = self.rooms[room_id] = SfuRoom(state.session_id)
            self.schedule(room_id)
        peer = room.peers.get(pid)
        if peer is None or peer.conn_id != conn_id:
            if peer is not None:
                self._close_peer(room, pid)
            peer = self._open_peer(room_id, room, pid, conn_id)
            self.schedule(room_id)
        return peer

    def pin(self, room_id: str, pid: str, pinned: str | None) -> None:
        room = self.rooms.get(room_id)
        if room is not None and room.pins.get(pid) != pinned:
            room.pins[pid] = pinned
            self.schedule(room_id)

    async def close(self) -> None:
        for task in [*self._running.values(), *([self._sweeper] if self._sweeper else [])]:
            task.cancel()
        for room in self.rooms.values():
            if room.retry is not None:
                room.retry.cancel()
            for pid in list(room.peers):
                self._close_peer(room, pid)
        self.rooms.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.instances.close()

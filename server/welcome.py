"""``welcome`` and ``snapshot``: the room as one participant may see it, built from the state.

It needs the settings and the state, never the node: ``Views`` is what a connection is given to
build its welcome or snapshot when its writer gets there.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rooms.backends.base import StoreUnavailable
from rooms.engine import floor_view, speaking_view, waiting_view
from rooms.handlers import REACTIONS
from rooms.handlers.help import alerts_view
from rooms.handlers.phases import phase_view, script_view
from rooms.model import Role, RoomConfig, RoomState, Seat, SessionState
from rooms.permissions import Capability, can, capabilities_of
from rooms.service import RoomService
from server import protocol, tokens
from server.config import Settings

RESUME_TTL_SECONDS = 24 * 3600  # the seat, not the token, limits a resume: it lasts the grace period


def media_view(settings: Settings, room: RoomConfig, state: RoomState | None) -> dict[str, object]:
    """How media travels in ``room``: the live session's path (fixed when it started), else the
    path a session starting now would take; the room's setting (which may have changed since:
    it applies from the next session); and whether a media server is set up at all. Never the
    media server's address."""
    live = state is not None and state.session is SessionState.LIVE
    path = state.media if state is not None and live else settings.media_path(room)
    return {"path": path, "setting": room.media, "sfu_available": settings.sfu_available()}


def room_view(settings: Settings, state: RoomState, seat: Seat, kind: str) -> dict[str, Any]:
    role = seat.person.role
    view: dict[str, Any] = {
        "type": kind,
        "you": seat.person,
        "room": state.room.public(),
        "session": {"id": state.session_id, "state": state.session, "started_at": state.started_at},
        "participants": [s.person for s in state.admitted()],
        "floor": floor_view(state),
        "locked": state.locked,
        "seq": state.seq,
        # What this participant may do and see: the page shows and hides by these, not by role.
        "capabilities": capabilities_of(role),
        "media": media_view(settings, state.room, state),
    }
    # The recent part only; older messages come a page at a time on request (``chat_history``).
    view["chat"], view["chat_more"] = state.chat_page(seat, settings.chat_page)
    if can(role, Capability.SEE_LOBBY):
        view["lobby"] = waiting_view(state)
    if can(role, Capability.SEE_SPEAKING):
        view["speaking"] = speaking_view(state)
    if can(role, Capability.ANSWER_HELP):
        view["help_alerts"] = alerts_view(state)
    # The run-sheet phase under way, for everyone; the facilitators' notes only with the script.
    view["phase"] = phase_view(state)
    if can(role, Capability.SEE_SCRIPT):
        view["script"] = script_view(state)
    return view


def welcome_for(settings: Settings, state: RoomState, seat: Seat, kind: str) -> bytes:
    view = room_view(settings, state, seat, kind)
    if kind == "welcome":
        view["ice_servers"] = tokens.turn_credentials(
            settings.turn_secret, settings.turn_urls, seat.id, settings.turn_ttl, time.time()
        )
        view["ice_transport_policy"] = settings.ice_policy
        view["reactions"] = list(REACTIONS)
        # Each role's capabilities, for what the page shows about others (``protected``).
        view["role_capabilities"] = {str(r): capabilities_of(r) for r in Role}
        view["resume"] = tokens.mint_resume(
            settings.secret,
            room=state.room.id,
            participant=seat.id,
            session=state.session_id,
            gen=seat.resume_gen,
            ttl_seconds=RESUME_TTL_SECONDS,
        )
        view["limits"] = settings.limits()  # the page takes its maxlength, min and max from it
    return protocol.encode(view)


class Views:
    """Builds a connection's ``welcome`` or ``snapshot`` from the latest state of its room."""

    __slots__ = ("service", "settings")

    def __init__(self, service: RoomService, settings: Settings) -> None:
        self.service = service
        self.settings = settings

    async def __call__(self, room_id: str, pid: str, conn_id: str, kind: str) -> tuple[str, int] | None:
        """The text of ``kind`` for socket ``conn_id`` of ``pid``, and the ``seq`` it covers
        (numbered frames up to it are skipped after it). ``("", 0)`` when there is nothing of the
        room for this socket (still in the lobby, or the seat names a newer socket). ``None`` for a
        snapshot when the session itself is gone from the store though the socket still holds a
        seat: a live store restarted without its data (it keeps nothing on disk) ends the
        sessions it held, and the client is told so (4010) instead of waiting for frames that
        will never come."""
        delay = 0.05
        while True:
            try:
                state = await self.service.state(room_id)
                break
            except StoreUnavailable:
                # Never dropped: the bus can be back before the store answers again (a pooled
                # connection broken by the outage fails once). What follows waits behind this
                # message in the outbox; the reader stops this writer if the socket goes.
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        seat = state.seats.get(pid) if state is not None else None
        if state is None or seat is None:
            return None if kind == "snapshot" else ("", 0)
        if not seat.admitted or seat.conn not in ("", conn_id):
            return ("", 0)  # not (or no longer) this socket's seat: nothing of the room for it
        return welcome_for(self.settings, state, seat, kind).decode(), state.seq

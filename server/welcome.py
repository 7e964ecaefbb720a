"""``welcome`` and ``snapshot``: the room as one participant may see it, built from the state."""

from __future__ import annotations

import time
from typing import Any

from rooms.engine import floor_view, speaking_view, waiting_view
from rooms.handlers import REACTIONS
from rooms.model import Role, RoomState, Seat
from rooms.permissions import Capability, can, capabilities_of
from server import protocol, tokens
from server.node import Node

RESUME_TTL_SECONDS = 24 * 3600  # the seat, not the token, limits a resume: it lasts the grace period


def room_view(node: Node, state: RoomState, seat: Seat, kind: str) -> dict[str, Any]:
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
    }
    # The recent part only; older messages come a page at a time on request (``chat_history``).
    view["chat"], view["chat_more"] = state.chat_page(seat, node.settings.chat_page)
    if can(role, Capability.SEE_LOBBY):
        view["lobby"] = waiting_view(state)
    if can(role, Capability.SEE_SPEAKING):
        view["speaking"] = speaking_view(state)
    return view


def welcome_for(node: Node, state: RoomState, seat: Seat, kind: str) -> bytes:
    view = room_view(node, state, seat, kind)
    if kind == "welcome":
        settings = node.settings
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

"""The HTML pages (Jinja2, ``web/templates``): the home page, where rooms are made, a room's page,
and a group's between-sessions page (its journey, and the board's printable handout)."""

from __future__ import annotations

import contextlib
import time

from starlette.requests import Request
from starlette.responses import Response

from rooms.backends.base import StoreUnavailable
from rooms.journey.schedule import describe, next_sessions
from rooms.model import DEFAULT_AGREEMENT, RoomConfig
from rooms.service import RoomNotFound
from server.http_common import node_of
from server.welcome import media_view


async def home(request: Request) -> Response:
    node = node_of(request)
    templates = request.app.state.templates
    context = {
        "organizer_key_required": node.settings.organizer_key is not None,
        "default_agreement": DEFAULT_AGREEMENT,
        "limits": node.limits,
        "sfu_available": node.settings.sfu_available(),
        "sfu_min_seats": node.settings.sfu_min_seats,
    }
    return templates.TemplateResponse(request, "home.html", context)  # type: ignore[no-any-return]


async def room_page(request: Request) -> Response:
    node = node_of(request)
    templates = request.app.state.templates
    try:
        # The directory's copy, not this node's: another node may have changed the room's media.
        config = await node.service.current_config(request.path_params["room_id"])
    except RoomNotFound:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "error.html", {"message": "This room does not exist."}, status_code=404
        )
    # How media travels here (the live session's path, else the next session's), so the join
    # screen can say it before anyone joins; a store that does not answer leaves the setting's.
    state = None
    with contextlib.suppress(StoreUnavailable):
        state = await node.service.state(config.id, with_chat=False)
    media = media_view(node.settings, config, state)
    context = {"room": config, "limits": node.limits, "media": media}  # the join form's maxlength
    context["next_session"] = _next_session(config)
    return templates.TemplateResponse(request, "room.html", context)  # type: ignore[no-any-return]


def _next_session(config: RoomConfig) -> str | None:
    """ "Tue 8 Dec, 18:00 (Europe/London)": when the group meets next, in its own time zone (the
    join screen and the lobby say it; docs/journey.md). ``None``: no schedule, or none ahead."""
    schedule = config.schedule
    starts = [] if schedule is None else next_sessions(schedule, time.time(), 1)
    if schedule is None or not starts:
        return None
    return f"{describe(starts[0], schedule.timezone)} ({schedule.timezone})"


async def journey_page(request: Request) -> Response:
    """``/r/{room_id}/journey``: the group between sessions (``?view=handout``: the board, to print).

    The page holds nothing but the room's title: everything personal comes from the journey API
    with the link's token, which the page takes from the address's fragment (never sent here)."""
    node = node_of(request)
    templates = request.app.state.templates
    try:
        config = await node.service.current_config(request.path_params["room_id"])
    except RoomNotFound:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "error.html", {"message": "This room does not exist."}, status_code=404
        )
    context = {"room": config, "handout": request.query_params.get("view") == "handout"}
    return templates.TemplateResponse(request, "journey.html", context)  # type: ignore[no-any-return]

"""The HTML pages (Jinja2, ``web/templates``): the home page, where rooms are made, and a room's page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rooms.model import DEFAULT_AGREEMENT
from rooms.service import RoomNotFound
from server.http_common import node_of


async def home(request: Request) -> Response:
    node = node_of(request)
    templates = request.app.state.templates
    context = {
        "organizer_key_required": node.settings.organizer_key is not None,
        "default_agreement": DEFAULT_AGREEMENT,
        "limits": node.limits,
    }
    return templates.TemplateResponse(request, "home.html", context)  # type: ignore[no-any-return]


async def room_page(request: Request) -> Response:
    node = node_of(request)
    templates = request.app.state.templates
    try:
        config = await node.service.config(request.path_params["room_id"])
    except RoomNotFound:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "error.html", {"message": "This room does not exist."}, status_code=404
        )
    context = {"room": config, "limits": node.limits}  # the join form's maxlength
    return templates.TemplateResponse(request, "room.html", context)  # type: ignore[no-any-return]

"""The room API over HTTP: create a room, change it, and replace its links (docs/protocol.md §1.1).

The fields' rules and how a room is made are ``server.rooms_api``'s, shared with the CLI; this
module checks who asks (the organizer key, a facilitator link) and answers in JSON.
"""

from __future__ import annotations

import hmac
from typing import Any

from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rooms.codes import ErrorCode
from rooms.model import Role, RoomConfig
from rooms.permissions import Capability, can
from rooms.service import RoomNotFound
from server import rooms_api, tokens
from server.http_common import BodyTooLarge, api_error, bearer, limited_body, node_of
from server.links import room_link, room_links
from server.personal_links import LinkRefused, link_member


async def _fields(request: Request) -> rooms_api.RoomFields | JSONResponse:
    limit = node_of(request).settings.max_message_bytes  # a room's fields fit in far less
    try:
        return rooms_api.fields_from_json(await limited_body(request, limit))
    except BodyTooLarge:
        return api_error(413, ErrorCode.TOO_LARGE, f"the body is larger than {limit} bytes")
    except rooms_api.FieldsRefused as refused:
        return api_error(400, ErrorCode.BAD_MESSAGE, str(refused))


def room_json(config: RoomConfig) -> dict[str, Any]:
    return config.public()


async def create_room(request: Request) -> Response:
    node = node_of(request)
    key = node.settings.organizer_key
    if key is not None:
        given = bearer(request) or ""
        if not hmac.compare_digest(given.encode(), key.encode()):
            return api_error(401, ErrorCode.UNAUTHORIZED, "creating rooms needs the organizer key")
    fields = await _fields(request)
    if isinstance(fields, JSONResponse):
        return fields
    try:
        config = await rooms_api.create_room(node.service.directory, fields)
    except rooms_api.FieldsRefused as refused:
        return api_error(400, ErrorCode.BAD_MESSAGE, str(refused))
    facilitator_link, member_link = room_links(node.settings, config)
    body = {"room": room_json(config), "facilitator_link": facilitator_link, "member_link": member_link}
    return JSONResponse(body, status_code=201)


async def _facilitator_room(request: Request) -> RoomConfig | JSONResponse:
    node = node_of(request)
    room_id = request.path_params["room_id"]
    token = bearer(request)
    try:
        claims = tokens.verify_invite(node.settings.secret, token or "")
    except tokens.TokenError:
        return api_error(401, ErrorCode.UNAUTHORIZED, "a valid facilitator token is required")
    if claims.room != room_id or not can(claims.role, Capability.MANAGE_ROOM):
        return api_error(403, ErrorCode.FORBIDDEN, "only this room's facilitators may change it")
    try:
        config = await node.service.current_config(room_id)  # what a change starts from
    except RoomNotFound:
        return api_error(404, ErrorCode.NOT_FOUND, "no such room")
    if not claims.current_for(config):
        return api_error(401, ErrorCode.UNAUTHORIZED, "this facilitator link was replaced by a newer one")
    return config


async def update_room(request: Request) -> Response:
    config = await _facilitator_room(request)
    if isinstance(config, JSONResponse):
        return config
    fields = await _fields(request)
    if isinstance(fields, JSONResponse):
        return fields
    try:
        config = rooms_api.changed_room(config, fields)
    except rooms_api.FieldsRefused as refused:
        return api_error(400, ErrorCode.BAD_MESSAGE, str(refused))
    await node_of(request).service.update_room(config)
    return JSONResponse({"room": room_json(config)})


async def rotate_invite(request: Request) -> Response:
    """``POST /api/rooms/{id}/invite``: a new member link; older member links stop working."""
    return await _rotate(request, Role.MEMBER)


async def rotate_facilitator_link(request: Request) -> Response:
    """``POST /api/rooms/{id}/facilitator-link``: a new facilitator link; older ones stop working
    for new joins and for this API. Facilitators already in the session keep their seat."""
    return await _rotate(request, Role.FACILITATOR)


async def _rotate(request: Request, role: Role) -> Response:
    """Raise the version of one kind of link (the other kind is untouched) and answer the new
    link as ``member_link`` or ``facilitator_link``."""
    config = await _facilitator_room(request)
    if isinstance(config, JSONResponse):
        return config
    node = node_of(request)
    if role is Role.MEMBER:
        config = replace(config, invite_version=config.invite_version + 1)
    else:
        config = replace(config, facilitator_version=config.facilitator_version + 1)
    await node.service.update_room(config)
    link = room_link(node.settings, config, role)
    return JSONResponse({"room": room_json(config), f"{role}_link": link})


async def member_link(request: Request) -> Response:
    """``GET /api/rooms/{id}/member-link``: the member link at the room's current invite version,
    without rotating. A facilitator who came by a link printed by the CLI (or who reloaded in
    another tab) has no member link in the page; this lets the invite panel show the link that
    is already shared instead of offering to replace it."""
    config = await _facilitator_room(request)
    if isinstance(config, JSONResponse):
        return config
    link = room_link(node_of(request).settings, config, Role.MEMBER)
    return JSONResponse({"member_link": link}, headers={"cache-control": "no-store"})


async def check_link(request: Request) -> Response:
    """``GET /api/links/check`` with the invite token as a bearer token: whether this link could
    join its room now, without joining. The room page asks when it opens, so a bad or replaced
    link is reported at once rather than after the form is filled in."""
    node = node_of(request)
    try:
        claims = tokens.verify_invite(node.settings.secret, bearer(request) or "")
    except tokens.TokenError:
        return api_error(401, ErrorCode.UNAUTHORIZED, "this link is invalid or has expired")
    try:
        config = await node.service.current_config(claims.room)
    except RoomNotFound:
        return api_error(404, ErrorCode.NOT_FOUND, "no such room")
    try:  # a personal link is honoured by its roster entry (server.personal_links)
        await link_member(node.journey, claims, config)
    except LinkRefused as refused:
        return api_error(refused.status, refused.code, refused.message)
    return JSONResponse({"room": config.id, "role": str(claims.role)}, headers={"cache-control": "no-store"})

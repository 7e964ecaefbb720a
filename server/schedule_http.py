"""``GET /api/rooms/{room_id}/schedule.ics``: the group's next sessions as a calendar file.

Any current link of the room (member or facilitator) is the bearer token, as for the link check
(``rooms_http.check_link``): the file names no one, but a group's meeting times are still only
for its members. The file holds the next ``CALENDAR_SESSIONS`` sessions in UTC, the title, and
the room page's address without any token (docs/journey.md, "Schedule and calendar").
"""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from rooms.codes import ErrorCode
from rooms.journey.schedule import CALENDAR_SESSIONS, calendar, next_sessions
from rooms.service import RoomNotFound
from server import tokens
from server.http_common import api_error, bearer, node_of


async def schedule_ics(request: Request) -> Response:
    node = node_of(request)
    room_id = request.path_params["room_id"]
    try:
        claims = tokens.verify_invite(node.settings.secret, bearer(request) or "")
    except tokens.TokenError:
        return api_error(401, ErrorCode.UNAUTHORIZED, "a valid link of this room is required")
    if claims.room != room_id:
        return api_error(403, ErrorCode.FORBIDDEN, "this link is for another room")
    try:
        config = await node.service.current_config(room_id)
    except RoomNotFound:
        return api_error(404, ErrorCode.NOT_FOUND, "no such room")
    if not claims.current_for(config):
        return api_error(401, ErrorCode.UNAUTHORIZED, "this link was replaced by a newer one")
    if config.schedule is None:
        return api_error(404, ErrorCode.NOT_FOUND, "this group has no schedule")
    starts = next_sessions(config.schedule, time.time(), CALENDAR_SESSIONS)
    text = calendar(config, starts, config.schedule.minutes, f"{node.settings.public_url}/r/{config.id}")
    headers = {
        "cache-control": "no-store",
        "content-disposition": f'attachment; filename="hearth-{config.id}.ics"',
    }
    return Response(text, media_type="text/calendar; charset=utf-8", headers=headers)

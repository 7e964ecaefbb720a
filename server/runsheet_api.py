"""``GET /api/runsheet/templates``: the run-sheet templates the facilitator console offers.

The templates are the same for every room and hold no one's data (``rooms.runsheet``), so the
route needs no token; the console fetches them when a facilitator opens the run-sheet editor
instead of every room page carrying them. The run-sheet's bounds come with them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rooms.limits import (
    PHASE_MINUTES_MAX,
    PHASE_MINUTES_MIN,
    PHASE_NAME_MAX_CHARS,
    PHASE_NOTES_MAX_CHARS,
    PHASES_MAX,
)
from rooms.runsheet import templates_view

# The run-sheet's bounds (rooms.limits, where the room API checks them), for the editor's
# maxlength, min and max: written once, on the server.
LIMITS = {
    "phases_max": PHASES_MAX,
    "name_max_chars": PHASE_NAME_MAX_CHARS,
    "minutes_min": PHASE_MINUTES_MIN,
    "minutes_max": PHASE_MINUTES_MAX,
    "notes_max_chars": PHASE_NOTES_MAX_CHARS,
}


async def runsheet_templates(request: Request) -> Response:
    body = {"templates": templates_view(), "limits": LIMITS}
    return JSONResponse(body, headers={"cache-control": "public, max-age=3600"})

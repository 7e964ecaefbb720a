"""``GET /api/runsheet/templates``: the run-sheet templates the facilitator console offers.

The templates are the same for every room and hold no one's data (``rooms.runsheet``), so the
route needs no token; the console fetches them when a facilitator opens the run-sheet editor
instead of every room page carrying them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from rooms.runsheet import templates_view


async def runsheet_templates(request: Request) -> Response:
    return JSONResponse({"templates": templates_view()}, headers={"cache-control": "public, max-age=3600"})

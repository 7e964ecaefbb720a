"""What every HTTP handler shares: the node, the JSON error shape, bearer tokens, bounded bodies.

The handlers themselves are grouped by what they serve: ``server.pages`` (the HTML pages),
``server.rooms_http`` (the room API), ``server.check_api`` (the connection check API) and
``server.health`` (health, readiness, metrics); ``server.app`` wires their routes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from rooms.codes import ErrorCode
from server.node import Node


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def api_error(status: int, code: ErrorCode, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


class BodyTooLarge(Exception):
    pass


async def limited_body(request: Request, limit: int) -> bytes:
    """The request body, refused (``BodyTooLarge``) past ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return bytes(body)

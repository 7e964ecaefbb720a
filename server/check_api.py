"""The connection check API (``/api/check``; the echo peer is ``server/echo.py``): a browser
sends its camera and microphone to an echo peer, with an invite that could join the room now."""

from __future__ import annotations

from typing import TypeVar

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from rooms.codes import ErrorCode
from rooms.service import RoomNotFound
from server import tokens
from server.echo import BadOffer, CheckAccess, CheckRateLimited, ChecksBusy, EchoChecks, link_tag
from server.echo import log as check_log
from server.http_common import BodyTooLarge, api_error, bearer, limited_body, node_of
from server.personal_links import LinkRefused, link_member

BUSY_MESSAGE = "The connection check is busy. Please try again in a moment."
ROOM_BUSY_MESSAGE = "Too many connection checks are running for this room. Please try again in a moment."
RATE_MESSAGE = "Too many connection checks were started just now. Please try again in a moment."


B = TypeVar("B", bound=msgspec.Struct)


class CheckConfigBody(msgspec.Struct, kw_only=True):
    token: str = ""


class CheckOfferBody(CheckConfigBody, kw_only=True):
    sdp: str
    type: str


C = TypeVar("C", bound=CheckConfigBody)


class CheckEndBody(msgspec.Struct, kw_only=True):
    token: str = ""


def _checks(request: Request) -> EchoChecks:
    checks: EchoChecks = request.app.state.checks
    return checks


async def _check_body(request: Request, kind: type[B], allow_empty: bool = False) -> B | JSONResponse:
    limit = node_of(request).settings.max_message_bytes
    try:
        raw = await limited_body(request, limit)
        if allow_empty and not raw.strip():
            raw = b"{}"
        return msgspec.json.decode(raw, type=kind)
    except BodyTooLarge:
        return api_error(413, ErrorCode.TOO_LARGE, f"the body is larger than {limit} bytes")
    except msgspec.ValidationError as exc:
        return api_error(400, ErrorCode.BAD_MESSAGE, str(exc).replace("`", "'"))
    except msgspec.DecodeError:
        return api_error(400, ErrorCode.BAD_MESSAGE, "the body must be a JSON object")
    except RecursionError:  # msgspec gives up on deep nesting (in fields it would skip)
        return api_error(400, ErrorCode.BAD_MESSAGE, "the body is nested too deeply")
    except ClientDisconnect:
        return api_error(400, ErrorCode.BAD_MESSAGE, "the body was cut short")


async def _check_room(request: Request, token: str) -> CheckAccess | JSONResponse:
    """The room a check may be made for: the token must be an invite that could join it now
    (a member link of the room's current invite version, or a facilitator link of its current
    facilitator version)."""
    node = node_of(request)
    refusal = api_error(401, ErrorCode.UNAUTHORIZED, "this link is invalid or has expired")
    token = token or bearer(request) or ""
    try:
        claims = tokens.verify_invite(node.settings.secret, token)
    except tokens.TokenError:
        return refusal
    try:
        config = await node.service.current_config(claims.room)
    except RoomNotFound:
        return refusal
    try:  # a personal link is honoured by its roster entry (server.personal_links)
        await link_member(node.journey, claims, config)
    except LinkRefused:
        return refusal
    return CheckAccess(claims.room, link_tag(claims.jti or token))


def _checks_off(request: Request) -> JSONResponse | None:
    if node_of(request).settings.check_max == 0:
        return api_error(503, ErrorCode.UNAVAILABLE, "the connection check is turned off on this server")
    return None


async def _check_request(request: Request, kind: type[C]) -> tuple[C, CheckAccess] | JSONResponse:
    """A check request's body and room, or the refusal (bad body, bad token, checks off)."""
    body = await _check_body(request, kind)
    if isinstance(body, JSONResponse):
        return body
    access = await _check_room(request, body.token)
    if isinstance(access, JSONResponse):
        return access
    off = _checks_off(request)
    return off if off is not None else (body, access)


async def check_config(request: Request) -> Response:
    """``POST /api/check/config {token}``: the ICE servers and policy for the browser's side."""
    checked = await _check_request(request, CheckConfigBody)
    if isinstance(checked, JSONResponse):
        return checked
    access = checked[1]
    try:
        config = _checks(request).ice_config(access.room, access.link)
    except CheckRateLimited as limited:
        response = api_error(429, ErrorCode.RATE_LIMITED, RATE_MESSAGE)
        response.headers["retry-after"] = str(limited.retry_after)
        return response
    return JSONResponse(config, headers={"cache-control": "no-store"})


async def start_check(request: Request) -> Response:
    """``POST /api/check {token, sdp, type: "offer"}``: the echo peer's answer."""
    checked = await _check_request(request, CheckOfferBody)
    if isinstance(checked, JSONResponse):
        return checked
    body, access = checked
    try:
        answer = await _checks(request).start(body.sdp, body.type, access.room)
    except ChecksBusy as busy:
        response = api_error(429, ErrorCode.BUSY, ROOM_BUSY_MESSAGE if busy.room else BUSY_MESSAGE)
        response.headers["retry-after"] = str(busy.retry_after)
        return response
    except BadOffer as exc:
        return api_error(400, ErrorCode.BAD_MESSAGE, str(exc))
    except Exception as exc:  # TimeoutError (TURN unreachable) and whatever else setting up fails on
        # Only the exception's type: aiortc's messages may quote the SDP.
        check_log.warning("check could not start", extra={"room": access.room, "reason": type(exc).__name__})
        why = "the connection check could not start; try again shortly"
        return api_error(503, ErrorCode.UNAVAILABLE, why)
    return JSONResponse(answer, headers={"cache-control": "no-store"})


async def end_check(request: Request) -> Response:
    """``DELETE /api/check/{id}`` with the token in the body or as a bearer token."""
    body = await _check_body(request, CheckEndBody, allow_empty=True)
    if isinstance(body, JSONResponse):
        return body
    access = await _check_room(request, body.token)
    if isinstance(access, JSONResponse):
        return access
    if not await _checks(request).close(request.path_params["check_id"], access.room):
        return api_error(404, ErrorCode.NOT_FOUND, "no such connection check (it may have ended already)")
    return Response(status_code=204)

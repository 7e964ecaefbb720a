"""HTTP: the pages (Jinja2) and the JSON API for rooms, health and metrics."""

from __future__ import annotations

import hmac
from typing import Any, TypeVar

import msgspec
from msgspec.structs import replace
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from rooms.codes import ErrorCode
from rooms.model import DEFAULT_AGREEMENT, Role, RoomConfig
from rooms.permissions import Capability, can
from rooms.service import RoomNotFound
from server import metrics, rooms_api, tokens
from server.config import Settings
from server.echo import BadOffer, CheckAccess, CheckRateLimited, ChecksBusy, EchoChecks, link_tag
from server.echo import log as check_log
from server.guards import is_loopback_name
from server.links import room_link, room_links
from server.node import Node


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def api_error(status: int, code: ErrorCode, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _fields(request: Request) -> rooms_api.RoomFields | JSONResponse:
    limit = _node(request).settings.max_message_bytes  # a room's fields fit in far less
    try:
        return rooms_api.fields_from_json(await _limited_body(request, limit))
    except BodyTooLarge:
        return api_error(413, ErrorCode.TOO_LARGE, f"the body is larger than {limit} bytes")
    except rooms_api.FieldsRefused as refused:
        return api_error(400, ErrorCode.BAD_MESSAGE, str(refused))


class BodyTooLarge(Exception):
    pass


async def _limited_body(request: Request, limit: int) -> bytes:
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


def room_json(config: RoomConfig) -> dict[str, Any]:
    return config.public()


async def create_room(request: Request) -> Response:
    node = _node(request)
    key = node.settings.organizer_key
    if key is not None:
        given = _bearer(request) or ""
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
    node = _node(request)
    room_id = request.path_params["room_id"]
    token = _bearer(request)
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
    await _node(request).service.update_room(config)
    return JSONResponse({"room": room_json(config)})


async def rotate_invite(request: Request) -> Response:
    config = await _facilitator_room(request)
    if isinstance(config, JSONResponse):
        return config
    node = _node(request)
    config = replace(config, invite_version=config.invite_version + 1)
    await node.service.update_room(config)
    member_link = room_link(node.settings, config, Role.MEMBER)
    return JSONResponse({"room": room_json(config), "member_link": member_link})


async def rotate_facilitator_link(request: Request) -> Response:
    """``POST /api/rooms/{id}/facilitator-link``: a new facilitator link; older ones stop working
    for new joins and for this API. Facilitators already in the session keep their seat."""
    config = await _facilitator_room(request)
    if isinstance(config, JSONResponse):
        return config
    node = _node(request)
    config = replace(config, facilitator_version=config.facilitator_version + 1)
    await node.service.update_room(config)
    facilitator_link = room_link(node.settings, config, Role.FACILITATOR)
    return JSONResponse({"room": room_json(config), "facilitator_link": facilitator_link})


async def home(request: Request) -> Response:
    node = _node(request)
    templates = request.app.state.templates
    context = {"organizer_key_required": node.settings.organizer_key is not None,
               "default_agreement": DEFAULT_AGREEMENT, "limits": node.settings.limits()}
    return templates.TemplateResponse(request, "home.html", context)  # type: ignore[no-any-return]


async def room_page(request: Request) -> Response:
    node = _node(request)
    templates = request.app.state.templates
    try:
        config = await node.service.config(request.path_params["room_id"])
    except RoomNotFound:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "error.html", {"message": "This room does not exist."}, status_code=404
        )
    context = {"room": config, "limits": node.settings.limits()}  # the join form's maxlength
    return templates.TemplateResponse(request, "room.html", context)  # type: ignore[no-any-return]


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    service = _node(request).service
    ready = service.bus.available and await service.store.ping() and await service.directory.ping()
    return PlainTextResponse("ready" if ready else "unavailable", status_code=200 if ready else 503)


FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")


def metrics_refusal(settings: Settings, client: str | None, headers: Headers) -> JSONResponse | None:
    """Who may read ``/metrics``: with ``HEARTH_METRICS_KEY`` set, whoever presents it as a bearer
    token; without, only a client on this machine that did not come through a proxy (a proxy on
    the same host connects from loopback but adds a forwarding header)."""
    key = settings.metrics_key
    if key is not None:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode()):
            return None
        why = "the metrics need the metrics key (HEARTH_METRICS_KEY)"
        response = api_error(401, ErrorCode.UNAUTHORIZED, why)
        response.headers["www-authenticate"] = "Bearer"
        return response
    local = client is not None and is_loopback_name(client.lower())
    if local and not any(name in headers for name in FORWARDING_HEADERS):
        return None
    why = "the metrics are served to this machine only; set HEARTH_METRICS_KEY"
    return api_error(403, ErrorCode.FORBIDDEN, why)


async def metrics_page(request: Request) -> Response:
    client = request.client.host if request.client is not None else None
    refusal = metrics_refusal(_node(request).settings, client, request.headers)
    if refusal is not None:
        return refusal
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)


# The connection check (server/echo.py): a browser sends its camera and microphone to an echo peer.

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
    limit = _node(request).settings.max_message_bytes
    try:
        raw = await _limited_body(request, limit)
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
    node = _node(request)
    refusal = api_error(401, ErrorCode.UNAUTHORIZED, "this link is invalid or has expired")
    token = token or _bearer(request) or ""
    try:
        claims = tokens.verify_invite(node.settings.secret, token)
    except tokens.TokenError:
        return refusal
    try:
        config = await node.service.current_config(claims.room)
    except RoomNotFound:
        return refusal
    if not claims.current_for(config):
        return refusal
    return CheckAccess(claims.room, link_tag(claims.jti or token))


def _checks_off(request: Request) -> JSONResponse | None:
    if _node(request).settings.check_max == 0:
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

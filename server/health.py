"""Health for load balancers and operators: ``/healthz`` (the process answers), ``/readyz`` (its
store and bus answer) and ``/metrics`` (Prometheus, to this machine or the metrics key only)."""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from rooms.codes import ErrorCode
from server import metrics
from server.config import Settings
from server.guards import is_loopback_name
from server.http_common import api_error, node_of


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    service = node_of(request).service
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
    refusal = metrics_refusal(node_of(request).settings, client, request.headers)
    if refusal is not None:
        return refusal
    return Response(generate_latest(metrics.REGISTRY), media_type=CONTENT_TYPE_LATEST)

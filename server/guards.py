"""HTTP request guards: which ``Host`` a request may name, which ``Origin`` may change state, and
the security headers every response carries.

Why each exists:

- ``Host``: pages are built per request, and a response naming a forged host could be cached for
  everyone by a shared cache; a loopback node is also reachable from any web page through DNS
  rebinding (an attacker's name that resolves to 127.0.0.1), which only a Host check stops.
- ``Origin`` and ``Content-Type``: a browser sends a cross-origin ``text/plain`` or form POST
  without asking first (no CORS preflight) and with ambient credentials. Requiring JSON forces
  a preflight the server never grants, and an ``Origin`` that is not the server's own is refused
  outright; a request without ``Origin`` does not come from a page.
- Headers: the content security policy, HSTS when the public URL is https, and the rest, on
  every response, 500s included.

Health and metrics paths skip the Host check: proxies and scrapers ask for them by the node's
internal name (``hearth1:8080``), and they carry no links nor state to protect that way.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rooms.codes import ErrorCode
from server.config import Settings

LOOPBACK_NAMES = frozenset({"localhost"})
UNCHECKED_HOST_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HSTS = b"max-age=31536000"


def host_name(host: str) -> str:
    """The name part of a ``Host`` value (``name``, ``name:port``, ``[v6]:port``), lower case,
    without a trailing dot; ``""`` when it is not a plausible host."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            return ""
    else:
        name, colon, port = host.partition(":")
        if colon and not port.isdigit():
            return ""
    return name.rstrip(".")


def is_loopback_name(name: str) -> bool:
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def allowed_host_names(settings: Settings) -> frozenset[str]:
    """The names a request's ``Host`` may carry besides loopback ones: the public URL's and those
    of ``HEARTH_ALLOWED_ORIGINS``."""
    urls = (settings.public_url, *settings.allowed_origins)
    return frozenset(name for url in urls if (name := (urlsplit(url).hostname or "").rstrip(".")))


def host_allowed(host: str | None, allowed: frozenset[str]) -> bool:
    if not host:
        return False
    name = host_name(host)
    return bool(name) and (name in allowed or is_loopback_name(name))


def own_origins(headers: Headers, settings: Settings) -> set[str]:
    """Origins whose pages may change state: this server as the request names it (its ``Host``,
    already checked), its public URL, and ``HEARTH_ALLOWED_ORIGINS``."""
    host = headers.get("host", "")
    return {f"http://{host}", f"https://{host}", _origin(settings.public_url), *settings.allowed_origins}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def has_body(headers: Headers) -> bool:
    length = headers.get("content-length", "").strip()
    return "transfer-encoding" in headers or (length != "" and length != "0")


def state_change_refusal(
    method: str, headers: Headers, settings: Settings
) -> tuple[int, ErrorCode, str] | None:
    """Why a state-changing request must be refused, as (status, code, message), or None.

    The shared guard of every POST/PUT/PATCH/DELETE (the rooms API and the connection check):
    ``RequestGuard`` applies it before any route runs, and a route may call it itself."""
    if method.upper() not in STATE_CHANGING:
        return None
    origin = headers.get("origin")
    if origin is not None and origin not in own_origins(headers, settings):
        return 403, ErrorCode.FORBIDDEN_ORIGIN, "requests from another site may not change anything here"
    if has_body(headers):
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            why = "the body must be JSON (Content-Type: application/json)"
            return 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, why
    return None


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


async def send_error(send: Send, status: int, code: ErrorCode, message: str) -> None:
    body = error_body(code, message)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Refuses, before routing, HTTP requests naming a host that is not this server's (400) and
    state-changing requests from another site or with a non-JSON body (403, 415)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.allowed = allowed_host_names(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            checked = scope["path"] not in UNCHECKED_HOST_PATHS
            if checked and not host_allowed(headers.get("host"), self.allowed):
                why = "this server does not answer for that host name"
                await send_error(send, 400, ErrorCode.BAD_HOST, why)
                return
            refusal = state_change_refusal(scope["method"], headers, self.settings)
            if refusal is not None:
                await send_error(send, *refusal)
                return
        await self.app(scope, receive, send)


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The headers of every HTTP response. ``connect-src`` names the websocket origins pages may
    reach: the public URL's and the allowed origins' (``'self'`` covers the page's own in current
    browsers; older Safari needs it spelled out)."""
    sockets = " ".join(sorted(_socket_origins((settings.public_url, *settings.allowed_origins))))
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"media-src 'self' blob:; connect-src 'self' {sockets}; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'"
    )
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"referrer-policy", b"no-referrer"),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"permissions-policy", b"camera=(self), microphone=(self), display-capture=()"),
    ]
    if settings.public_url.startswith("https://"):
        headers.append((b"strict-transport-security", HSTS))
    return headers


def _socket_origins(urls: Iterable[str]) -> set[str]:
    origins = set()
    for url in urls:
        parts = urlsplit(url)
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme)
        if scheme and parts.netloc:
            origins.add(f"{scheme}://{parts.netloc}")
    return origins


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI: no body buffering). It wraps
    the whole stack, Starlette's error handler included, so a 500 carries them too."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

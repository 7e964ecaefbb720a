"""``create_app(settings)``: routes and a lifespan that opens and closes the backends.

The factory only stores configuration; nothing connects until the lifespan starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine
from importlib.resources import files
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from rooms.service import RoomService
from server import check_api, health, journey_api, logs, pages, rooms_http, schedule_http
from server.backends import build_backends
from server.config import Settings
from server.echo import EchoChecks
from server.guards import RequestGuard, SecurityHeaders, allowed_host_names, host_allowed, security_headers
from server.hub import Hub
from server.node import Node
from server.runsheet_api import runsheet_templates
from server.static_files import CompressPages, StaticFiles
from server.upkeep import run_upkeep
from server.ws import serve_socket

SocketApp = Callable[[Scope, Receive, Send], Coroutine[Any, Any, None]]


class HearthApp(Starlette):
    """Starlette, with the room socket (``/ws``) answered straight from the ASGI call.

    Every participant holds that socket for the whole session and every frame of it is on the
    hot path, so it skips the HTTP middleware stack and the router: that saves a coroutine per
    frame sent, and the suspended frames of every layer under each open socket (≈3 KB in all). None
    of those layers acts on a websocket: the security headers belong to HTTP responses, and the
    socket loop handles its own errors and close codes."""

    def __init__(self, *, socket: SocketApp, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket = socket
        self.security_headers = security_headers(settings)
        self.allowed_hosts = allowed_host_names(settings)

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        # Not a coroutine function: it hands the server the coroutine to await, so no frame of
        # its own stays suspended under every open socket (uvicorn is told: interface "asgi3").
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            if not host_allowed(Headers(scope=scope).get("host"), self.allowed_hosts):
                return _refuse_socket(receive, send)  # a forged Host (DNS rebinding): HTTP 403
            scope["app"] = self
            return self.socket(scope, receive, send)
        return super().__call__(scope, receive, send)

    def build_middleware_stack(self) -> ASGIApp:
        # Outside Starlette's own error handler, so its 500 responses get the headers too.
        return SecurityHeaders(super().build_middleware_stack(), self.security_headers)


async def _refuse_socket(receive: Receive, send: Send) -> None:
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008, "reason": ""})


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        node_id = secrets.token_hex(6)
        backends = build_backends(settings, node_id)
        await backends.open()
        service = RoomService(
            backends.directory,
            backends.store,
            backends.bus,
            grace_seconds=settings.grace_seconds,
            lobby_wait_seconds=settings.lobby_wait_seconds,
        )
        hub = Hub(backends.bus, backends.presence)
        node = Node(
            settings=settings,
            service=service,
            hub=hub,
            presence=backends.presence,
            node_id=node_id,
            journey=backends.journey,
        )
        app.state.node = node
        backends.bus.on_reconnect(hub.resync)
        upkeep = asyncio.create_task(run_upkeep(node, settings.upkeep_seconds))
        checks = app.state.checks = EchoChecks(settings)
        try:
            yield
        finally:
            await checks.close_all()
            if node.sfu is not None:
                await node.sfu.close()
            upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upkeep
            service.close()
            await backends.close()

    static = StaticFiles()
    routes = [
        Route("/", pages.home),
        Route("/api/rooms", rooms_http.create_room, methods=["POST"]),
        Route("/api/rooms/{room_id}", rooms_http.update_room, methods=["PATCH"]),
        Route("/api/rooms/{room_id}/invite", rooms_http.rotate_invite, methods=["POST"]),
        Route("/api/rooms/{room_id}/facilitator-link", rooms_http.rotate_facilitator_link, methods=["POST"]),
        Route("/api/rooms/{room_id}/member-link", rooms_http.member_link, methods=["GET"]),
        Route("/api/links/check", rooms_http.check_link, methods=["GET"]),
        Route("/api/check/config", check_api.check_config, methods=["POST"]),
        Route("/api/check", check_api.start_check, methods=["POST"]),
        Route("/api/check/{check_id}", check_api.end_check, methods=["DELETE"]),
        Route("/r/{room_id}", pages.room_page),
        Route("/healthz", health.healthz),
        Route("/readyz", health.readyz),
        Route("/metrics", health.metrics_page),
        Route("/static/v/{version}/{path:path}", static.versioned),
        Route("/static/{path:path}", static.plain),
        Route("/api/rooms/{room_id}/schedule.ics", schedule_http.schedule_ics, methods=["GET"]),
        Route("/api/runsheet/templates", runsheet_templates, methods=["GET"]),
        *journey_api.ROUTES,
        Route("/r/{room_id}/journey", pages.journey_page),
    ]
    app = HearthApp(
        socket=serve_socket,
        settings=settings,
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RequestGuard, settings=settings), Middleware(CompressPages)],
    )
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(files("web") / "templates"))
    app.state.templates.env.globals["static_url"] = static.url
    return app

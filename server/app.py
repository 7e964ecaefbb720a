"""``create_app(settings)``: routes and a lifespan that opens and closes the backends.

The factory only stores configuration; nothing connects until the lifespan starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from importlib.resources import files

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rooms.backends.base import Bus, LiveStore, RoomDirectory
from rooms.backends.memory import MemoryBus, MemoryLiveStore
from rooms.backends.sqlite import SqliteDirectory
from rooms.service import RoomService
from server import logs, views
from server.config import ConfigError, Settings
from server.hub import Hub
from server.node import Node
from server.ws import websocket_endpoint

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
     b"media-src 'self' blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
     b"form-action 'self'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), microphone=(self), display-capture=()"),
]


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_backends(settings: Settings) -> tuple[RoomDirectory, LiveStore, Bus]:
    if settings.store_kind() == "sqlite":
        bus = MemoryBus()
        return SqliteDirectory(settings.sqlite_path()), MemoryLiveStore(bus), bus
    raise ConfigError("HEARTH_STORE: redis:// stores arrive with multi-node support; use sqlite:///PATH")


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        directory, store, bus = build_backends(settings)
        await directory.open()
        await bus.open()
        await store.open()
        service = RoomService(directory, store, bus, grace_seconds=settings.grace_seconds)
        app.state.node = Node(settings=settings, service=service, hub=Hub(bus))
        try:
            yield
        finally:
            service.close()
            await store.close()
            await bus.close()
            await directory.close()

    routes = [
        Route("/", views.home),
        Route("/api/rooms", views.create_room, methods=["POST"]),
        Route("/api/rooms/{room_id}", views.update_room, methods=["PATCH"]),
        Route("/api/rooms/{room_id}/invite", views.rotate_invite, methods=["POST"]),
        Route("/r/{room_id}", views.room_page),
        Route("/healthz", views.healthz),
        Route("/readyz", views.readyz),
        Route("/metrics", views.metrics_page),
        WebSocketRoute("/ws", websocket_endpoint),
        Mount("/static", StaticFiles(directory=str(files("static"))), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=str(files("web") / "templates"))
    return app

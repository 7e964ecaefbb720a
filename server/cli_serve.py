"""What ``hearth serve`` does: check the configuration (and that the live store keeps nothing on
disk), make a first room on a fresh embedded store, and run uvicorn with Hearth's settings."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shlex
from typing import TYPE_CHECKING

import uvicorn

from server import logs
from server.cli_rooms import ensure_first_room, oldest_room, record_served_url
from server.config import ConfigError, Settings
from server.links import room_links
from server.logs import uvicorn_log_config

if TYPE_CHECKING:
    from starlette.applications import Starlette


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    settings.check()
    if settings.store_kind() == "redis":
        _check_live_store(settings)
    # The room commands run later build their links on this base (server.cli_rooms.link_settings).
    record_served_url(settings)
    if settings.store_kind() == "sqlite":
        first = asyncio.run(ensure_first_room(settings))
        if first is not None:
            facilitator_link, member_link = room_links(settings, first)
            print(f'Created your first room, "{first.title}".')
            print(f"Facilitator link (keep it to yourself): {facilitator_link}")
            print(f"Member link (share it with the group):  {member_link}")
        else:
            room = asyncio.run(oldest_room(settings))
            if room is not None:
                print(f'Links of your first room, "{room.title}": {links_command(args, room.id)}')
                print("(every room: hearth rooms list)")
    print(f"Hearth is running: open {settings.local_url()}/", flush=True)

    from server.app import create_app  # the app pulls in the whole server: load it only to serve

    server = uvicorn.Server(uvicorn_config(settings, create_app(settings)))
    # uvicorn re-raises Ctrl-C once it has shut down gracefully: stop there, without a traceback.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


def links_command(args: argparse.Namespace, room_id: str) -> str:
    """The ``hearth rooms links`` command that finds this server's store (the data directory or
    store given to ``serve`` as flags; the environment carries over by itself)."""
    words = ["hearth", "rooms", "links", room_id]
    for name in ("data_dir", "store"):
        value = getattr(args, name, None)
        if value is not None:
            words += [f"--{name.replace('_', '-')}", shlex.quote(str(value))]
    return " ".join(words)


def _check_live_store(settings: Settings) -> None:
    """Refuse (or, if the operator chose so, warn loudly) when the Redis holding live state, chat
    and names writes them to disk: a session's words must not outlive it in a data file."""
    from server.backends import live_store_persistence

    kept = asyncio.run(live_store_persistence(settings.live_url()))
    if kept is None:
        return
    where = "HEARTH_LIVE_STORE" if settings.live_store else "HEARTH_STORE (also the live store)"
    problem = (
        f"the Redis of {where} keeps {kept}: chat messages and names of sessions would be "
        "written to disk. Run a second Redis without persistence (redis-server --save '' "
        "--appendonly no, no volume) and set HEARTH_LIVE_STORE to it"
    )
    if settings.live_store_persistence != "warn":
        raise ConfigError(f"{problem}; or set HEARTH_LIVE_STORE_PERSISTENCE=warn to run anyway")
    # A running node's stderr is JSON lines only (docs/deploy.md, "Logs"): the warning is one.
    logs.configure(settings.log_level)
    logging.getLogger("hearth.serve").warning(
        f"{problem}. Running anyway (HEARTH_LIVE_STORE_PERSISTENCE=warn).",
        extra={"reason": "live_store_on_disk"},
    )


def uvicorn_config(settings: Settings, app: Starlette) -> uvicorn.Config:
    from server.transport import protocols  # uvicorn's protocol modules: only for serving

    # uvicorn's h11 and websockets-sansio protocols, with a header deadline and a per-address cap.
    http_protocol, ws_protocol = protocols(settings)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        interface="asgi3",  # HearthApp.__call__ returns the coroutine instead of being one
        http=http_protocol,
        ws=ws_protocol,
        ws_per_message_deflate=False,
        ws_max_size=settings.max_message_bytes,
        ws_ping_interval=settings.heartbeat_interval,
        ws_ping_timeout=settings.heartbeat_timeout,
        lifespan="on",
        log_level=uvicorn_log_level(settings.log_level),
        # JSON lines like Hearth's own, without client addresses (server.logs.ClientAddressFilter).
        log_config=uvicorn_log_config(),
        # Access logs would record paths and query strings, which can carry invite tokens.
        access_log=False,
        server_header=False,
        # Nothing reads the client address or scheme (no IPs in logs; links are built from
        # HEARTH_PUBLIC_URL): no X-Forwarded-* rewriting, and one ASGI layer less per request.
        proxy_headers=False,
    )


def uvicorn_log_level(level: str) -> str:
    """uvicorn's own loggers never go below info: at debug its websocket layer logs every frame it
    reads and writes (names, chat text, SDP), and at trace every ASGI message. ``HEARTH_LOG_LEVEL``
    debug/trace still applies to Hearth's own logs, which hold no content."""
    return "info" if level in ("debug", "trace") else level

"""The ``hearth`` command: ``serve``, ``rooms create|list``, ``token``, ``probe`` and ``bots``.

Every setting comes from the environment (``HEARTH_*``) and can be overridden by a flag; see
``server.config``. Errors in the configuration exit with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import msgspec
import uvicorn
from msgspec.structs import replace

from rooms.backends.base import RoomDirectory, StoreUnavailable
from rooms.backends.sqlite_directory import SqliteDirectory
from rooms.limits import (
    PARTICIPANTS_MAX,
    PARTICIPANTS_MIN,
    TITLE_MAX_CHARS,
    TOPIC_MAX_CHARS,
    TURN_SECONDS_MAX,
    TURN_SECONDS_MIN,
)
from rooms.model import FloorMode, Role, RoomConfig
from server import rooms_api
from server.config import ConfigError, Settings, flag_name, setting_help
from server.links import SECONDS_PER_DAY, room_link, room_links
from server.logs import uvicorn_log_config
from server.tokens import mint_invite

if TYPE_CHECKING:
    from starlette.applications import Starlette

T = TypeVar("T")

FIRST_ROOM_TITLE = "Our group"

# Flags of the store every subcommand needs; `serve` gets one flag per setting.
STORE_SETTINGS = ("data_dir", "store", "secret")
LINK_SETTINGS = ("host", "port", "public_url", "link_ttl_days")


class CommandError(Exception):
    """A command that cannot run as asked (exit status 1, or ``status``)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    try:
        settings = Settings.from_env(**{name: getattr(args, name, None) for name in _setting_names()})
        result: int = args.run(settings, args)
    except ConfigError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return exc.status
    except StoreUnavailable:
        print(f"hearth: cannot reach the store at {settings.store}", file=sys.stderr)
        return 1
    return result


# Parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearth", description="Live video and chat rooms for support groups."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the server")
    _add_setting_flags(serve, [name for name, _, _ in setting_help()])
    serve.set_defaults(run=run_serve)

    rooms = commands.add_parser("rooms", help="create and list rooms").add_subparsers(
        title="rooms commands", metavar="COMMAND", required=True
    )
    create = rooms.add_parser("create", help="create a room and print its links")
    # Only the flags given become fields: the room API's defaults and checks apply to the rest
    # (server.rooms_api), so the CLI accepts exactly what the API accepts.
    create.add_argument("title", help=f"shown to everyone (1-{TITLE_MAX_CHARS} characters)")
    create.add_argument("--topic", help=f"at most {TOPIC_MAX_CHARS} characters")
    create.add_argument("--agreement", help="the group agreement people accept before joining")
    create.add_argument(
        "--lobby",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="members wait until a facilitator admits them (default: on)",
    )
    create.add_argument(
        "--floor-mode", choices=[mode.value for mode in FloorMode], default=FloorMode.OPEN.value
    )
    create.add_argument(
        "--turn-seconds", type=int, help=f"length of a speaking turn ({TURN_SECONDS_MIN}-{TURN_SECONDS_MAX})"
    )
    create.add_argument(
        "--max-participants",
        type=int,
        help=f"{PARTICIPANTS_MIN}-{PARTICIPANTS_MAX} (default {_room_default('max_participants')})",
    )
    create.add_argument("--crisis-text", help="where to find help in a crisis")
    _add_setting_flags(create, [*STORE_SETTINGS, *LINK_SETTINGS])
    create.set_defaults(run=run_rooms_create)

    rotate = rooms.add_parser(
        "rotate",
        help="replace a room's member link and/or facilitator link and print the new ones",
        description="Older links of the rotated kind stop working for new joins (and, for "
        "facilitator links, for the room API); people already in a session keep their seat.",
    )
    rotate.add_argument("room", help="room id")
    rotate.add_argument("--member", action="store_true", help="replace the member link")
    rotate.add_argument("--facilitator", action="store_true", help="replace the facilitator link")
    _add_setting_flags(rotate, [*STORE_SETTINGS, *LINK_SETTINGS])
    rotate.set_defaults(run=run_rooms_rotate)

    listing = rooms.add_parser("list", help="list rooms")
    _add_setting_flags(listing, STORE_SETTINGS)
    listing.set_defaults(run=run_rooms_list)

    token = commands.add_parser("token", help="print an invite token for a room")
    token.add_argument("--room", required=True, help="room id")
    token.add_argument("--role", required=True, choices=[role.value for role in Role])
    token.add_argument("--sub", help="a personal invite: the same person always gets the same seat")
    token.add_argument("--name", help="display name proposed to the person")
    token.add_argument("--ttl", type=_positive_int, help="lifetime in seconds (default: the link lifetime)")
    _add_setting_flags(token, [*STORE_SETTINGS, "link_ttl_days"])
    token.set_defaults(run=run_token)

    probe = commands.add_parser(
        "probe",
        help="check that media flows through a deployment (exit 0) or not (exit 1)",
        description="Two synthetic participants join the room of LINK, connect to each other and "
        "report the ICE path, time to first frame, round-trip time and frame rate.",
    )
    probe.add_argument(
        "link",
        help="an invite link (a facilitator link of a room kept for probes, "
        "or a member link of a room without lobby with a session going on)",
    )
    probe.add_argument("--timeout", type=_positive_float, default=20.0, help="seconds (default 20)")
    probe.set_defaults(run=run_probe)

    bots = commands.add_parser("bots", help="synthetic participants for load tests, with a report")
    bots.add_argument("link", help="an invite link")
    bots.add_argument("--count", type=_positive_int, default=2, help="number of bots (default 2)")
    bots.add_argument(
        "--duration", type=_positive_float, default=10.0, help="seconds to stay once all joined (default 10)"
    )
    bots.add_argument(
        "--video",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="send a synthetic camera (default: on); audio is always sent",
    )
    bots.add_argument(
        "--size", type=_video_size, default=(640, 480), help="video WIDTHxHEIGHT (default 640x480)"
    )
    bots.add_argument("--fps", type=_positive_float, default=20.0, help="video frame rate (default 20)")
    bots.add_argument("--file", help="send this media file (looped) instead of the synthetic camera and tone")
    bots.add_argument(
        "--join-timeout",
        type=_positive_float,
        default=15.0,
        help="seconds a bot may wait to be let in (default 15)",
    )
    bots.set_defaults(run=run_bots)
    return parser


def _room_default(name: str) -> object:
    """A room field's default, as the room API applies it (for help texts)."""
    return next(f.default for f in msgspec.structs.fields(RoomConfig) if f.name == name)


def _add_setting_flags(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    helps = {name: (env, text) for name, env, text in setting_help()}
    group = parser.add_argument_group("settings (flags override the environment)")
    for name in names:
        env, text = helps[name]
        group.add_argument(flag_name(name), dest=name, metavar=name.upper(), help=f"{text} [{env}]")


def _setting_names() -> list[str]:
    return [name for name, _, _ in setting_help()]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < 86_400:
        raise argparse.ArgumentTypeError(f"must be more than 0 (and less than a day): {value}")
    return value


def _video_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"not WIDTHxHEIGHT: {text!r}")
    size = int(width), int(height)
    if min(size) < 16 or max(size) > 4096 or size[0] % 2 or size[1] % 2:
        raise argparse.ArgumentTypeError(f"width and height must be even, 16-4096: {text!r}")
    return size


# Commands


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    settings.check()
    if settings.store_kind() == "redis":
        _check_live_store(settings)
    if settings.store_kind() == "sqlite":
        first = asyncio.run(_ensure_first_room(settings))
        if first is not None:
            facilitator_link, member_link = room_links(settings, first)
            print(f'Created your first room, "{first.title}".')
            print(f"Facilitator link (keep it to yourself): {facilitator_link}")
            print(f"Member link (share it with the group):  {member_link}")
    print(f"Hearth is running: open {settings.local_url()}/", flush=True)

    from server.app import create_app  # the app pulls in the whole server: load it only to serve

    server = uvicorn.Server(uvicorn_config(settings, create_app(settings)))
    # uvicorn re-raises Ctrl-C once it has shut down gracefully: stop there, without a traceback.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


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
    print(f"hearth: WARNING: {problem}. Running anyway (HEARTH_LIVE_STORE_PERSISTENCE=warn).",
          file=sys.stderr, flush=True)


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


def run_rooms_create(settings: Settings, args: argparse.Namespace) -> int:
    names = ("title", "topic", "agreement", "lobby", "floor_mode", "turn_seconds", "max_participants",
             "crisis_text")  # fmt: skip
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    try:
        fields = rooms_api.fields_from_values(given)
        rooms_api.new_room(fields, 0.0)  # refuse before opening the store
    except rooms_api.FieldsRefused as refused:
        raise CommandError(str(refused), status=2) from None
    config = asyncio.run(_with_directory(settings, lambda store: rooms_api.create_room(store, fields)))
    facilitator_link, member_link = room_links(settings, config)
    print(f"Room {config.id}: {config.title}")
    print(f"Facilitator link: {facilitator_link}")
    print(f"Member link:      {member_link}")
    return 0


def run_rooms_rotate(settings: Settings, args: argparse.Namespace) -> int:
    if not (args.member or args.facilitator):
        raise CommandError("say which link to replace: --member, --facilitator, or both", status=2)

    async def work(directory: RoomDirectory) -> RoomConfig:
        config = await directory.get(args.room)
        if config is None:
            raise CommandError(f"no room {args.room!r} in {settings.store}")
        config = replace(
            config,
            invite_version=config.invite_version + int(args.member),
            facilitator_version=config.facilitator_version + int(args.facilitator),
        )
        await directory.update(config)
        return config

    config = asyncio.run(_with_directory(settings, work))
    print(f"Room {config.id}: {config.title}")
    if args.facilitator:
        print(f"Facilitator link: {room_link(settings, config, Role.FACILITATOR)}")
    if args.member:
        print(f"Member link:      {room_link(settings, config, Role.MEMBER)}")
    return 0


def run_rooms_list(settings: Settings, args: argparse.Namespace) -> int:
    rooms = asyncio.run(_with_directory(settings, lambda directory: directory.all()))
    for room in rooms:
        print(f"{room.id}\t{room.title}")
    return 0


def run_token(settings: Settings, args: argparse.Namespace) -> int:
    config = asyncio.run(_with_directory(settings, lambda directory: directory.get(args.room)))
    if config is None:
        raise CommandError(f"no room {args.room!r} in {settings.store}")
    ttl = args.ttl if args.ttl is not None else settings.link_ttl_days * SECONDS_PER_DAY
    token = mint_invite(
        settings.secret,
        room=config.id,
        role=Role(args.role),
        version=config.invite_version,
        ttl_seconds=ttl,
        sub=args.sub,
        name=args.name,
        facilitator_version=config.facilitator_version,
    )
    print(token)
    return 0


def run_probe(settings: Settings, args: argparse.Namespace) -> int:
    from server.peers.probe import run_probe as probe  # aiortc loads only for the commands that need it

    report = asyncio.run(probe(args.link, timeout=args.timeout))
    print("\n".join(report.lines()), file=sys.stdout if report.ok else sys.stderr, flush=True)
    return 0 if report.ok else 1


def run_bots(settings: Settings, args: argparse.Namespace) -> int:
    from server.peers.bots import run_bots as bots
    from server.peers.invite import InvalidLink, parse_link

    try:
        invite = parse_link(args.link)
    except InvalidLink as exc:
        raise CommandError(f"invalid link: {exc}") from None

    async def stay() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for number in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C ends the stay, then the report
            loop.add_signal_handler(number, stop.set)
        try:
            width, height = args.size
            report = await bots(
                invite,
                args.count,
                args.duration,
                video=args.video,
                width=width,
                height=height,
                fps=args.fps,
                path=args.file,
                join_timeout=args.join_timeout,
                stop=stop,
            )
        finally:
            for number in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(number)
        print("\n".join(report.lines()), flush=True)
        if report.stopped_early:
            return 130
        return 1 if report.failed else 0

    return asyncio.run(stay())


# The room directory


def open_directory(settings: Settings) -> RoomDirectory:
    """The directory of the configured store (not opened yet)."""
    if settings.store_kind() == "sqlite":
        return SqliteDirectory(settings.sqlite_path())
    from rooms.backends.redis_common import client_from_url
    from rooms.backends.redis_directory import RedisDirectory

    return RedisDirectory(client_from_url(settings.store), owns_client=True)


async def _with_directory(settings: Settings, work: Callable[[RoomDirectory], Awaitable[T]]) -> T:
    directory = open_directory(settings)
    await directory.open()
    try:
        return await work(directory)
    finally:
        await directory.close()


async def _ensure_first_room(settings: Settings) -> RoomConfig | None:
    """On a fresh store, a first room so a new organizer has a link to open; else None."""

    async def work(directory: RoomDirectory) -> RoomConfig | None:
        if await directory.all():
            return None
        return await rooms_api.create_room(directory, rooms_api.RoomFields(title=FIRST_ROOM_TITLE))

    return await _with_directory(settings, work)


if __name__ == "__main__":
    raise SystemExit(main())

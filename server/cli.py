"""The ``hearth`` command: ``serve``, ``rooms create|list``, ``token``, ``probe``, ``bots`` and
``janus-config``.

This module parses the command line; what each command does is in ``server.cli_serve``,
``server.cli_rooms`` (rooms and tokens), ``server.cli_peers`` (probe and bots) and
``server.sfu.janus_config`` (janus-config, which needs no Hearth settings).

Every setting comes from the environment (``HEARTH_*``) and can be overridden by a flag; see
``server.config``. Errors in the configuration exit with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import msgspec

from rooms.backends.base import StoreUnavailable
from rooms.limits import (
    PARTICIPANTS_MAX,
    PARTICIPANTS_MIN,
    TITLE_MAX_CHARS,
    TOPIC_MAX_CHARS,
    TURN_SECONDS_MAX,
    TURN_SECONDS_MIN,
)
from rooms.model import FloorMode, MediaMode, Role, RoomConfig
from server.cli_peers import run_bots, run_probe
from server.cli_rooms import (
    CommandError,
    run_rooms_create,
    run_rooms_links,
    run_rooms_list,
    run_rooms_rotate,
    run_token,
)
from server.cli_serve import run_serve
from server.config import ConfigError, Settings, flag_name, setting_help
from server.sfu import janus_config

# Flags of the store every subcommand needs; `serve` gets one flag per setting.
STORE_SETTINGS = ("data_dir", "store", "secret")
LINK_SETTINGS = ("host", "port", "public_url", "link_ttl_days")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help(sys.stderr)
        return 2
    if getattr(args, "skip_settings", False):
        return int(args.run(None, args))
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
    create.add_argument(
        "--media",
        metavar="|".join(MediaMode),  # checked by the room API's rules (the same message)
        help="how video travels: mesh (directly between devices), sfu (through the media server, "
        "HEARTH_JANUS_URLS), auto (the media server for rooms of at least HEARTH_SFU_MIN_SEATS "
        "seats; default); it applies from the next session",
    )
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

    show = rooms.add_parser(
        "links",
        help="print a room's current facilitator and member links",
        description="The links are those of the room's current versions (valid until the next "
        "rotate); their base is --public-url/--host/--port when given, else where `hearth serve` "
        "last ran with this data directory.",
    )
    show.add_argument("room", help="room id (hearth rooms list)")
    _add_setting_flags(show, [*STORE_SETTINGS, *LINK_SETTINGS])
    show.set_defaults(run=run_rooms_links)

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

    janus_config.add_parser(commands)
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


if __name__ == "__main__":
    raise SystemExit(main())

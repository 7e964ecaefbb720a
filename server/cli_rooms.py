"""What ``hearth rooms create|rotate|links|list`` and ``hearth token`` do, on the configured store.

A room's fields are checked and the room is made by ``server.rooms_api``, as for the room API,
so the CLI accepts exactly what the API accepts; the flags are parsed in ``server.cli``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from msgspec.structs import replace

from rooms.backends.base import RoomDirectory
from rooms.backends.sqlite_directory import SqliteDirectory
from rooms.model import Role, RoomConfig
from server import rooms_api
from server.config import Settings, env_name
from server.links import SECONDS_PER_DAY, room_link
from server.tokens import mint_invite

T = TypeVar("T")

FIRST_ROOM_TITLE = "Our group"

# Where `hearth serve` last ran with a data directory (its links' base, one line), so that the room
# commands run afterwards print links that reach that server instead of the default port.
SERVED_URL_FILE = "served-url"
# The settings a link's base comes from, as `hearth serve` takes them.
LINK_BASE_SETTINGS = ("public_url", "host", "port")


class CommandError(Exception):
    """A command that cannot run as asked (exit status 1, or ``status``)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def run_rooms_create(settings: Settings, args: argparse.Namespace) -> int:
    names = ("title", "topic", "agreement", "lobby", "floor_mode", "turn_seconds", "max_participants",
             "crisis_text", "media")  # fmt: skip
    given = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
    try:
        fields = rooms_api.fields_from_values(given)
        rooms_api.new_room(fields, 0.0)  # refuse before opening the store
    except rooms_api.FieldsRefused as refused:
        raise CommandError(str(refused), status=2) from None
    config = asyncio.run(_with_directory(settings, lambda store: rooms_api.create_room(store, fields)))
    _print_links(settings, args, config, facilitator=True, member=True)
    return 0


def run_rooms_links(settings: Settings, args: argparse.Namespace) -> int:
    """A room's current facilitator and member links again (after a restart, or a lost note):
    the same links ``create`` or the last ``rotate`` printed, valid until the next rotation."""
    config = asyncio.run(_with_directory(settings, lambda directory: directory.get(args.room)))
    if config is None:
        raise CommandError(f"no room {args.room!r} in {settings.store}")
    _print_links(settings, args, config, facilitator=True, member=True)
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
    _print_links(settings, args, config, facilitator=args.facilitator, member=args.member)
    return 0


def _print_links(
    settings: Settings, args: argparse.Namespace, config: RoomConfig, *, facilitator: bool, member: bool
) -> None:
    """The room, the links asked for, and which base they use (``link_settings``)."""
    settings, base = link_settings(settings, args)
    print(f"Room {config.id}: {config.title}")
    if facilitator:
        print(f"Facilitator link: {room_link(settings, config, Role.FACILITATOR)}")
    if member:
        print(f"Member link:      {room_link(settings, config, Role.MEMBER)}")
    print(base)


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


# The base of the links


def link_settings(settings: Settings, args: argparse.Namespace) -> tuple[Settings, str]:
    """The settings to build links with, and a line saying which base they use and how to change
    it. The links must reach the server people will open them on: a base the operator gave
    (``--public-url``/``--host``/``--port`` or their ``HEARTH_*`` variables) wins; else where
    ``hearth serve`` last ran with this data directory (``record_served_url``); else the default."""
    change = (
        "Another base: --public-url URL (or HEARTH_PUBLIC_URL), or the --host/--port given to `hearth serve`."
    )
    given = [
        name
        for name in LINK_BASE_SETTINGS
        if getattr(args, name, None) is not None or os.environ.get(env_name(name))
    ]
    if given:
        how = ", ".join(f"--{name.replace('_', '-')}/{env_name(name)}" for name in given)
        return settings, f"Links use {settings.public_url} (from {how})."
    served = served_url(settings)
    if served:
        settings = dataclasses.replace(settings, public_url=served)
        where = "where `hearth serve` last ran with this data directory"
        return settings, f"Links use {served} ({where}). {change}"
    where = "the default: no server has run with this data directory"
    return settings, f"Links use {settings.public_url} ({where}). {change}"


def record_served_url(settings: Settings) -> None:
    """Note in the data directory where ``hearth serve`` runs (best effort: a data directory that
    cannot be written only costs the room commands this default). Port 0 (any free port, in
    tests) names no server to reach: not noted."""
    if settings.public_url.endswith(":0"):
        return
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        (settings.data_dir / SERVED_URL_FILE).write_text(settings.public_url + "\n", encoding="utf-8")
    except OSError:
        pass


def served_url(settings: Settings) -> str:
    """The base ``hearth serve`` last ran with in this data directory, or ""."""
    try:
        text = (settings.data_dir / SERVED_URL_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    return text if text.startswith(("http://", "https://")) and len(text.split()) == 1 else ""


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


async def ensure_first_room(settings: Settings) -> RoomConfig | None:
    """On a fresh store, a first room so a new organizer has a link to open; else None."""

    async def work(directory: RoomDirectory) -> RoomConfig | None:
        if await directory.all():
            return None
        return await rooms_api.create_room(directory, rooms_api.RoomFields(title=FIRST_ROOM_TITLE))

    return await _with_directory(settings, work)


async def oldest_room(settings: Settings) -> RoomConfig | None:
    """The store's first room (the one a fresh store made), or None on an empty store."""
    rooms = await _with_directory(settings, lambda directory: directory.all())
    return rooms[0] if rooms else None

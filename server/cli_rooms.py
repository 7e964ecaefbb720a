"""What ``hearth rooms create|rotate|list`` and ``hearth token`` do, on the configured store.

A room's fields are checked and the room is made by ``server.rooms_api``, as for the room API,
so the CLI accepts exactly what the API accepts; the flags are parsed in ``server.cli``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from msgspec.structs import replace

from rooms.backends.base import RoomDirectory
from rooms.backends.sqlite_directory import SqliteDirectory
from rooms.model import Role, RoomConfig
from server import rooms_api
from server.config import Settings
from server.links import SECONDS_PER_DAY, room_link, room_links
from server.tokens import mint_invite

T = TypeVar("T")

FIRST_ROOM_TITLE = "Our group"


class CommandError(Exception):
    """A command that cannot run as asked (exit status 1, or ``status``)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


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

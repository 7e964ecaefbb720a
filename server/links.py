"""Invite links: ``{public_url}/r/{room_id}#k={token}``.

The token travels in the fragment, which browsers never send to the server, so it stays out of
access logs and proxies; the room page reads it and removes it from the address bar.
"""

from __future__ import annotations

import secrets

from rooms.model import Role, RoomConfig
from server.config import Settings
from server.tokens import mint_invite

SECONDS_PER_DAY = 86_400


def new_room_id() -> str:
    """An unguessable room id (72 random bits, URL-safe), never starting with "-", which a
    command line would take for an option (``hearth token --room -x...``)."""
    while True:
        room_id = secrets.token_urlsafe(9)
        if not room_id.startswith("-"):
            return room_id


def invite_link(settings: Settings, room_id: str, token: str) -> str:
    return f"{settings.public_url}/r/{room_id}#k={token}"


def room_link(settings: Settings, config: RoomConfig, role: Role) -> str:
    """A shared (no ``sub``) link to the room for ``role``, valid for ``link_ttl_days``."""
    token = mint_invite(
        settings.secret,
        room=config.id,
        role=role,
        version=config.invite_version,
        ttl_seconds=settings.link_ttl_days * SECONDS_PER_DAY,
        facilitator_version=config.facilitator_version,
    )
    return invite_link(settings, config.id, token)


def room_links(settings: Settings, config: RoomConfig) -> tuple[str, str]:
    """(facilitator link, member link) of a room, at its current invite version."""
    return room_link(settings, config, Role.FACILITATOR), room_link(settings, config, Role.MEMBER)

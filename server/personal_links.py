"""Personal links: a member link whose token carries the member's stable ``sub`` (docs/journey.md,
"Personal links and the roster").

A personal link is honoured by its member's roster entry, not by the room's shared invite
version: its ``v`` must equal the member's ``link_version`` (a new link raises it, so the old one
stops working), and rotating the shared member link leaves it alone. A removed member's link is
refused for good (``banned``). A token whose ``sub`` is not on the roster (minted outside Hearth)
keeps the shared links' rule: the room's current invite version. Every place that asks whether
a link may be used (joining, the link check, the connection check, the journey API) asks here.
"""

from __future__ import annotations

import secrets

from rooms.backends.journey_base import JourneyStore
from rooms.codes import ErrorCode
from rooms.journey.model import MEMBER, Member, decode
from rooms.model import Role, RoomConfig
from server.config import Settings
from server.links import SECONDS_PER_DAY, invite_link
from server.tokens import InviteClaims, mint_invite

REPLACED_PERSONAL = "this personal link was replaced by a newer one"
REPLACED_SHARED = "this invite link was replaced by a newer one"
REMOVED = "you are no longer in this group; ask the facilitator if you think this is a mistake"


class LinkRefused(Exception):
    """A link the room no longer honours: ``code``, HTTP ``status`` and a message to show."""

    def __init__(self, code: ErrorCode, status: int, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def new_sub() -> str:
    """A member's stable id: random, says nothing about them."""
    return "m" + secrets.token_urlsafe(12)


async def roster_entry(journey: JourneyStore, room_id: str, sub: str) -> Member | None:
    record = await journey.get(room_id, MEMBER, sub)
    return None if record is None else decode(record.data, Member)


async def link_member(journey: JourneyStore, claims: InviteClaims, config: RoomConfig) -> Member | None:
    """The roster entry a member's personal link stands for, or ``None`` for any other link
    that the room still honours. Raises ``LinkRefused`` (and ``StoreUnavailable``)."""
    if claims.sub is not None and claims.role is Role.MEMBER:
        member = await roster_entry(journey, config.id, claims.sub)
        if member is not None:
            if member.removed:
                raise LinkRefused(ErrorCode.BANNED, 403, REMOVED)
            if claims.version != member.link_version:
                raise LinkRefused(ErrorCode.UNAUTHORIZED, 401, REPLACED_PERSONAL)
            return member
    if not claims.current_for(config):
        raise LinkRefused(ErrorCode.UNAUTHORIZED, 401, REPLACED_SHARED)
    return None


def personal_link(settings: Settings, room_id: str, member: Member) -> str:
    """The member link URL whose token carries ``sub``, ``name`` and ``v`` = ``link_version``."""
    token = mint_invite(
        settings.secret,
        room=room_id,
        role=Role.MEMBER,
        version=member.link_version,
        ttl_seconds=settings.link_ttl_days * SECONDS_PER_DAY,
        sub=member.sub,
        name=member.name,
    )
    return invite_link(settings, room_id, token)

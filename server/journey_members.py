"""The journey API's overview, the roster and personal links, and "my data" (docs/journey.md).

A facilitator (``MANAGE_MEMBERS``) adds a member by pseudonym and gets their personal link, may
replace it (the old one stops working), delete the member's data or remove them from the group
(their data goes, and a tombstone keeps their link refused for good). A member with a personal
link sees everything kept about them as JSON, deletes it, or leaves the group.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta
from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import Response

from rooms import text as text_rules
from rooms.backends.journey_base import JourneyStore, Record
from rooms.codes import ErrorCode
from rooms.journey.limits import MEMBER_NAME_MAX_CHARS, ROSTER_MAX
from rooms.journey.model import (
    CHECKIN,
    CHEER,
    HELPED,
    MEMBER,
    PLAN,
    POST,
    SAVED,
    Member,
    decode,
    encode,
)
from rooms.permissions import Capability, capabilities_of
from server.journey_auth import Problem, Who, answer, body, notify, now, route, session
from server.journey_views import card_view, members_by_sub, plan_record_view, post_record_view
from server.personal_links import new_sub, personal_link, roster_entry


class NewMember(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, Meta(max_length=4 * MEMBER_NAME_MAX_CHARS)]


def member_view(member: Member) -> dict[str, Any]:
    return {"id": member.sub, "name": member.name, "added_at": member.added_at}


@route
async def overview(request: Request, who: Who) -> Response:
    """``GET /journey``: who I am here, the session, the room."""
    number, live = await session(who)
    capabilities = capabilities_of(who.viewer.role)
    if who.viewer.sub is None and not who.viewer.can(Capability.MANAGE_MEMBERS):
        # A member's shared link keeps no journey: the page asks for a personal link instead.
        capabilities = [c for c in capabilities if c != Capability.KEEP_JOURNEY]
    member = None if who.member is None else {"id": who.member.sub, "name": who.member.name}
    return answer(
        {
            "you": {"role": str(who.viewer.role), "member": member, "capabilities": capabilities},
            "session": {"number": number, "live": live},
            "room": who.config.public(),
            "next_sessions": [],
        }
    )


@route
async def list_members(request: Request, who: Who) -> Response:
    """``GET /journey/members``: the roster (removed members are not listed)."""
    who.need(Capability.MANAGE_MEMBERS)
    members = [decode(r.data, Member) for r in await who.journey.list(who.room, MEMBER)]
    return answer({"members": [member_view(m) for m in members if not m.removed]})


@route
async def add_member(request: Request, who: Who) -> Response:
    """``POST /journey/members {"name"}``: a new member and their personal link."""
    who.need(Capability.MANAGE_MEMBERS)
    given = await body(request, NewMember)
    try:
        name = text_rules.clean_name(given.name, MEMBER_NAME_MAX_CHARS)
    except text_rules.TextRefused as exc:
        raise Problem(400, ErrorCode.BAD_MESSAGE, str(exc)) from None
    posed = text_rules.imitates_role(name)
    if posed is not None:
        why = f'please choose another pseudonym: names like "{posed}" are kept for those who hold that role'
        raise Problem(400, ErrorCode.BAD_MESSAGE, why)
    taken = {n.casefold() for n in (await members_by_sub(who.journey, who.room)).values()}
    if name.casefold() in taken:  # two "Robin"s on one board and one plan list: nobody could tell
        raise Problem(400, ErrorCode.BAD_MESSAGE, "someone in the group already has this pseudonym")
    member = Member(sub=new_sub(), name=name, link_version=1, added_at=now())
    record = Record(
        kind=MEMBER, id=member.sub, owner=member.sub, created=member.added_at, data=encode(member)
    )
    if not await who.journey.add(who.room, record, limit=ROSTER_MAX):
        raise Problem(409, ErrorCode.LIMIT_REACHED, f"a group's roster holds at most {ROSTER_MAX} members")
    link = personal_link(who.node.settings, who.room, member)
    return answer({"member": member_view(member), "link": link}, 201)


async def _listed(who: Who, sub: str) -> Member:
    member = await roster_entry(who.journey, who.room, sub)
    if member is None or member.removed:
        raise Problem(404, ErrorCode.NOT_FOUND, "no such member in this group")
    return member


async def _store_member(who: Who, member: Member) -> None:
    data = encode(member)
    await who.journey.put(
        who.room, Record(kind=MEMBER, id=member.sub, owner=member.sub, created=member.added_at, data=data)
    )


@route
async def new_link(request: Request, who: Who) -> Response:
    """``POST /journey/members/{sub}/link``: a new personal link; the old one stops working."""
    who.need(Capability.MANAGE_MEMBERS)
    member = await _listed(who, request.path_params["sub"])
    member = replace(member, link_version=member.link_version + 1)
    await _store_member(who, member)
    return answer({"member": member_view(member), "link": personal_link(who.node.settings, who.room, member)})


async def delete_data(journey: JourneyStore, room: str, sub: str, *, keep_member: bool) -> int:
    """Everything kept about ``sub`` (and the marks others left on their plans and posts, which
    would otherwise point at nothing); with ``keep_member``, their roster entry stays."""
    plans = {r.id for r in await journey.list(room, PLAN, owner=sub)}
    posts = {r.id for r in await journey.list(room, POST, owner=sub)}
    gone = 0
    for kind, targets in ((CHEER, plans), (HELPED, posts), (SAVED, posts)):
        if not targets:
            continue
        for mark in await journey.list(room, kind):
            if mark.id.rpartition(".")[0] in targets and await journey.delete(room, kind, mark.id):
                gone += 1
    keep = frozenset({MEMBER}) if keep_member else frozenset()
    return gone + await journey.delete_owner(room, sub, keep=keep)


async def _after_deletion(who: Who) -> None:
    await notify(who, "board")
    await notify(who, "plans")


@route
async def delete_member_data(request: Request, who: Who) -> Response:
    """``DELETE /journey/members/{sub}/data``: the member's data goes; they stay on the roster."""
    who.need(Capability.MANAGE_MEMBERS)
    member = await _listed(who, request.path_params["sub"])
    gone = await delete_data(who.journey, who.room, member.sub, keep_member=True)
    await _after_deletion(who)
    return answer({"deleted": gone})


@route
async def remove_member(request: Request, who: Who) -> Response:
    """``DELETE /journey/members/{sub}``: out of the group: their data goes, and a tombstone
    (no name) keeps their personal link refused (``banned``) for good."""
    who.need(Capability.MANAGE_MEMBERS)
    member = await _listed(who, request.path_params["sub"])
    gone = await delete_data(who.journey, who.room, member.sub, keep_member=True)
    await _store_member(who, replace(member, name="", removed=True))
    await _after_deletion(who)
    return answer({"deleted": gone})


@route
async def my_data(request: Request, who: Who) -> Response:
    """``GET /journey/me``: everything kept about me, as JSON (``?download=1``: as a file)."""
    sub = who.personal()
    journey, room = who.journey, who.room
    names = await members_by_sub(journey, room)
    assert who.member is not None
    export = {
        "member": member_view(who.member),
        "plans": [plan_record_view(r) for r in await journey.list(room, PLAN, owner=sub)],
        "checkins": [card_view(r) for r in await journey.list(room, CHECKIN, owner=sub)],
        "posts": [post_record_view(r, names) for r in await journey.list(room, POST, owner=sub)],
        "helped": [r.id.rpartition(".")[0] for r in await journey.list(room, HELPED, owner=sub)],
        "saved": [r.id.rpartition(".")[0] for r in await journey.list(room, SAVED, owner=sub)],
        "cheers": [r.id.rpartition(".")[0] for r in await journey.list(room, CHEER, owner=sub)],
    }
    headers = {}
    if request.query_params.get("download") == "1":
        headers["content-disposition"] = 'attachment; filename="my-hearth-data.json"'
    return answer(export, headers=headers)


@route
async def delete_my_data(request: Request, who: Who) -> Response:
    """``DELETE /journey/me/data``: all of my data goes; I stay in the group."""
    sub = who.personal()
    gone = await delete_data(who.journey, who.room, sub, keep_member=True)
    await _after_deletion(who)
    return answer({"deleted": gone})


@route
async def leave_group(request: Request, who: Who) -> Response:
    """``DELETE /journey/me``: leave the group: my data and my roster entry go."""
    sub = who.personal()
    gone = await delete_data(who.journey, who.room, sub, keep_member=False)
    await _after_deletion(who)
    return answer({"deleted": gone})

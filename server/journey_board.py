"""The coping-strategies board over HTTP (docs/journey.md, "Coping-strategies board").

Everyone with a link of the room reads the board (hidden posts only moderators). Members with a
personal link and facilitators post (named, or anonymous to the group: moderators still see who
wrote it, for safety), say "this helped me too" and save posts to their private toolkit.
Moderators (``MODERATE_BOARD``) pin, hide, retag and delete; an author edits and deletes their
own post.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from msgspec.structs import replace
from starlette.requests import Request
from starlette.responses import Response

from rooms.backends.journey_base import Record
from rooms.codes import ErrorCode
from rooms.journey.limits import BOARD_TAGS, POST_MAX_CHARS, POSTS_PER_GROUP_MAX, POSTS_PER_MEMBER_MAX
from rooms.journey.model import HELPED, POST, SAVED, Empty, Strategy, decode, encode, mark_id
from rooms.journey.rules import Refused, clean_tags, clean_text
from rooms.journey.visibility import sees_post
from rooms.permissions import Capability
from server.journey_auth import PERSONAL, Problem, Who, answer, body, notify, now, refused, route
from server.journey_views import marks_by_target, members_by_sub, post_view
from server.links import new_room_id

Text = Annotated[str, Meta(max_length=4 * POST_MAX_CHARS)]
Tags = Annotated[list[Annotated[str, Meta(max_length=32)]], Meta(max_length=len(BOARD_TAGS))]


class NewPost(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Text
    tags: Tags = msgspec.field(default_factory=list)
    anonymous: bool = False


class PostChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    text: Text | msgspec.UnsetType = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET
    pinned: bool | msgspec.UnsetType = msgspec.UNSET
    hidden: bool | msgspec.UnsetType = msgspec.UNSET


def _writer(who: Who) -> str | None:
    """Who a post or mark is by: the member's ``sub``; ``None`` for a facilitator."""
    who.need(Capability.KEEP_JOURNEY)
    if who.viewer.sub is None and not who.viewer.can(Capability.MODERATE_BOARD):
        raise Problem(403, ErrorCode.PERSONAL_LINK_REQUIRED, PERSONAL)
    return who.viewer.sub


def _authored(who: Who, record: Record) -> bool:
    if record.owner is None:
        return who.viewer.can(Capability.MODERATE_BOARD)
    return who.viewer.owns(record.owner)


async def _visible(who: Who, post_id: str) -> tuple[Record, Strategy]:
    record = await who.journey.get(who.room, POST, post_id)
    if record is not None:
        post = decode(record.data, Strategy)
        if sees_post(who.viewer, post):
            return record, post
    raise Problem(404, ErrorCode.NOT_FOUND, "no such post")


async def _views(who: Who, records: list[Record]) -> list[dict[str, object]]:
    journey, room, viewer = who.journey, who.room, who.viewer
    names = await members_by_sub(journey, room)
    helped = await journey.list(room, HELPED)
    me = viewer.sub
    helped_by_me = {r.id.rpartition(".")[0] for r in helped if me is not None and r.owner == me}
    saved = {r.id.rpartition(".")[0] for r in await journey.list(room, SAVED, owner=me)} if me else set()
    counts = marks_by_target(helped)
    return [post_view(r, viewer, names, counts, helped_by_me, saved) for r in records]


def _ordered(records: list[Record]) -> list[Record]:
    """Pinned first, then newest first."""
    newest = sorted(records, key=lambda r: (r.created, r.id), reverse=True)
    return sorted(newest, key=lambda r: not decode(r.data, Strategy).pinned)


@route
async def board(request: Request, who: Who) -> Response:
    """``GET /journey/board``: the posts this link may see, and the tags to choose from."""
    records = [
        r for r in await who.journey.list(who.room, POST) if sees_post(who.viewer, decode(r.data, Strategy))
    ]
    return answer({"posts": await _views(who, _ordered(records)), "tags": list(BOARD_TAGS)})


def _text(value: str) -> str:
    try:
        return clean_text(value, "text", POST_MAX_CHARS, required=True)
    except Refused as exc:
        raise refused(exc) from None


def _tags(value: list[str]) -> tuple[str, ...]:
    try:
        return clean_tags(value)
    except Refused as exc:
        raise refused(exc) from None


@route
async def add_post(request: Request, who: Who) -> Response:
    """``POST /journey/board {"text","tags","anonymous"}``: a new post."""
    owner = _writer(who)
    given = await body(request, NewPost)
    post = Strategy(text=_text(given.text), tags=_tags(given.tags), anonymous=given.anonymous)
    record = Record(kind=POST, id=new_room_id(), owner=owner, created=now(), data=encode(post))
    if not await who.journey.add(who.room, record, limit=POSTS_PER_GROUP_MAX):
        raise Problem(409, ErrorCode.LIMIT_REACHED, f"the board holds at most {POSTS_PER_GROUP_MAX} posts")
    if owner is not None and await who.journey.count(who.room, POST, owner=owner) > POSTS_PER_MEMBER_MAX:
        await who.journey.delete(who.room, POST, record.id)  # the group's limit held; the member's did not
        raise Problem(409, ErrorCode.LIMIT_REACHED, f"you can keep at most {POSTS_PER_MEMBER_MAX} posts")
    await notify(who, "board")
    return answer((await _views(who, [record]))[0], 201)


@route
async def change_post(request: Request, who: Who) -> Response:
    """``PATCH /journey/board/{post}``: moderators pin, hide, retag; the author edits the text."""
    record, post = await _visible(who, request.path_params["post"])
    change = await body(request, PostChange)
    moderating = any(v is not msgspec.UNSET for v in (change.tags, change.pinned, change.hidden))
    if moderating and not who.viewer.can(Capability.MODERATE_BOARD):
        raise Problem(403, ErrorCode.FORBIDDEN, "only a facilitator may pin, hide or retag a post")
    if change.text is not msgspec.UNSET and not _authored(who, record):
        raise Problem(403, ErrorCode.FORBIDDEN, "only its author may edit a post's text")
    new = post
    if change.text is not msgspec.UNSET:
        new = replace(new, text=_text(change.text))
    if change.tags is not msgspec.UNSET:
        new = replace(new, tags=_tags(change.tags))
    if change.pinned is not msgspec.UNSET:
        new = replace(new, pinned=change.pinned)
    if change.hidden is not msgspec.UNSET:
        new = replace(new, hidden=change.hidden)
    record = replace(record, data=encode(new))
    await who.journey.put(who.room, record)
    await notify(who, "board")
    return answer((await _views(who, [record]))[0])


@route
async def delete_post(request: Request, who: Who) -> Response:
    """``DELETE /journey/board/{post}``: by a moderator or its author; its marks go with it."""
    record, _ = await _visible(who, request.path_params["post"])
    if not (_authored(who, record) or who.viewer.can(Capability.MODERATE_BOARD)):
        raise Problem(403, ErrorCode.FORBIDDEN, "only its author or a facilitator may delete a post")
    for kind in (HELPED, SAVED):
        for mark in await who.journey.list(who.room, kind):
            if mark.id.rpartition(".")[0] == record.id:
                await who.journey.delete(who.room, kind, mark.id)
    await who.journey.delete(who.room, POST, record.id)
    await notify(who, "board")
    return answer({"deleted": record.id})


async def _mark(request: Request, who: Who, kind: str, on: bool) -> Response:
    sub = who.personal()
    record, _ = await _visible(who, request.path_params["post"])
    mark = mark_id(record.id, sub)
    if on:
        await who.journey.put(
            who.room, Record(kind=kind, id=mark, owner=sub, created=now(), data=encode(Empty()))
        )
    else:
        await who.journey.delete(who.room, kind, mark)
    if kind == HELPED:  # the count is the group's; what one saved is theirs alone
        await notify(who, "board")
    return answer((await _views(who, [record]))[0])


@route
async def helped(request: Request, who: Who) -> Response:
    """``PUT /journey/board/{post}/helped``: "This helped me too"."""
    return await _mark(request, who, HELPED, True)


@route
async def unhelped(request: Request, who: Who) -> Response:
    return await _mark(request, who, HELPED, False)


@route
async def save(request: Request, who: Who) -> Response:
    """``PUT /journey/board/{post}/saved``: "Save to my toolkit"."""
    return await _mark(request, who, SAVED, True)


@route
async def unsave(request: Request, who: Who) -> Response:
    return await _mark(request, who, SAVED, False)


@route
async def toolkit(request: Request, who: Who) -> Response:
    """``GET /journey/toolkit``: the posts I saved (that are still on the board and not hidden)."""
    sub = who.personal()
    saved = [r.id.rpartition(".")[0] for r in await who.journey.list(who.room, SAVED, owner=sub)]
    records = []
    for post_id in saved:
        record = await who.journey.get(who.room, POST, post_id)
        if record is not None and sees_post(who.viewer, decode(record.data, Strategy)):
            records.append(record)
    return answer({"posts": await _views(who, records)})

"""Action plans, their reviews and cheers over HTTP (docs/journey.md, "Action plans").

A plan is its owner's: only they change it or mark how it went; it is private to them and the
facilitators (``SEE_PLANS``) unless they share it (or share its review) with the group, who may
then cheer it. A plan that is not the asker's to see answers ``not_found``, exactly as one that
does not exist, so ids reveal nothing.
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
from rooms.journey.limits import (
    CONFIDENCE_MAX,
    CONFIDENCE_MIN,
    PLAN_FIELD_MAX_CHARS,
    PLAN_WHAT_MAX_CHARS,
    PLANS_PER_MEMBER_MAX,
    REVIEW_NOTE_MAX_CHARS,
)
from rooms.journey.model import CHEER, PLAN, ActionPlan, Empty, Review, ReviewStatus, decode, encode, mark_id
from rooms.journey.rules import Refused, clean_text
from rooms.journey.visibility import may_cheer, sees_plan, shared_with_group
from rooms.permissions import Capability
from server.journey_auth import PERSONAL, Problem, Who, answer, body, notify, now, refused, route, session
from server.journey_views import marks_by_target, members_by_sub, plan_view, who_mark
from server.links import new_room_id

# Lengths here only bound what is read; the rules count again once the text is cleaned.
What = Annotated[str, Meta(max_length=4 * PLAN_WHAT_MAX_CHARS)]
Field = Annotated[str, Meta(max_length=4 * PLAN_FIELD_MAX_CHARS)]
Note = Annotated[str, Meta(max_length=4 * REVIEW_NOTE_MAX_CHARS)]
Confidence = Annotated[int, Meta(ge=CONFIDENCE_MIN, le=CONFIDENCE_MAX)]


class NewPlan(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    what: What
    how_much: Field = ""
    when: Field = ""
    how_often: Field = ""
    confidence: Confidence
    shared: bool = False


class PlanChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    what: What | msgspec.UnsetType = msgspec.UNSET
    how_much: Field | msgspec.UnsetType = msgspec.UNSET
    when: Field | msgspec.UnsetType = msgspec.UNSET
    how_often: Field | msgspec.UnsetType = msgspec.UNSET
    confidence: Confidence | msgspec.UnsetType = msgspec.UNSET
    shared: bool | msgspec.UnsetType = msgspec.UNSET


class NewReview(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    status: ReviewStatus
    note: Note = ""
    shared: bool = False


def _cleaned(plan: ActionPlan) -> ActionPlan:
    try:
        return replace(
            plan,
            what=clean_text(plan.what, "what", PLAN_WHAT_MAX_CHARS, required=True),
            how_much=clean_text(plan.how_much, "how_much", PLAN_FIELD_MAX_CHARS, required=False),
            when=clean_text(plan.when, "when", PLAN_FIELD_MAX_CHARS, required=False),
            how_often=clean_text(plan.how_often, "how_often", PLAN_FIELD_MAX_CHARS, required=False),
        )
    except Refused as exc:
        raise refused(exc) from None


async def plan_session(who: Who) -> tuple[int, int]:
    """(the number a new plan or review gets, the current session's number). Between sessions a
    plan belongs to the session just held (made in the week after it), so the next session
    reviews it; a review belongs to the session it is made in (or the next one)."""
    number, live = await session(who)
    return (number if live else number - 1), number


async def _visible(who: Who, pid: str) -> tuple[Record, ActionPlan]:
    record = await who.journey.get(who.room, PLAN, pid)
    if record is not None:
        plan = decode(record.data, ActionPlan)
        if sees_plan(who.viewer, record.owner, plan):
            return record, plan
    raise Problem(404, ErrorCode.NOT_FOUND, "no such plan")


async def _owned(who: Who, pid: str) -> tuple[Record, ActionPlan]:
    record, plan = await _visible(who, pid)
    if not who.viewer.owns(record.owner):
        raise Problem(403, ErrorCode.FORBIDDEN, "only the member who made a plan may change it")
    return record, plan


def _needs_plans_reader(who: Who) -> None:
    if who.viewer.sub is None and not who.viewer.can(Capability.SEE_PLANS):
        raise Problem(403, ErrorCode.PERSONAL_LINK_REQUIRED, PERSONAL)


async def _view(who: Who, records: list[Record]) -> list[dict[str, object]]:
    names = await members_by_sub(who.journey, who.room)
    cheers = await who.journey.list(who.room, CHEER)
    me = who_mark(who.viewer)
    mine = {r.id.rpartition(".")[0] for r in cheers if r.id.rpartition(".")[2] == me}
    _, current = await plan_session(who)
    counts = marks_by_target(cheers)
    return [plan_view(r, who.viewer, names, counts, mine, current) for r in records]


@route
async def list_plans(request: Request, who: Who) -> Response:
    """``GET /journey/plans``: mine, others' shared ones, all of them for ``SEE_PLANS``."""
    _needs_plans_reader(who)
    records = await who.journey.list(who.room, PLAN)
    seen = [r for r in records if sees_plan(who.viewer, r.owner, decode(r.data, ActionPlan))]
    return answer({"plans": await _view(who, seen)})


@route
async def add_plan(request: Request, who: Who) -> Response:
    """``POST /journey/plans``: a new action plan of mine."""
    sub = who.personal()
    given = await body(request, NewPlan)
    made_in, _ = await plan_session(who)
    plan = _cleaned(ActionPlan(**msgspec.structs.asdict(given), session=made_in))
    record = Record(kind=PLAN, id=new_room_id(), owner=sub, created=now(), data=encode(plan))
    if not await who.journey.add(who.room, record, limit=PLANS_PER_MEMBER_MAX, per_owner=True):
        raise Problem(409, ErrorCode.LIMIT_REACHED, f"you can keep at most {PLANS_PER_MEMBER_MAX} plans")
    if plan.shared:
        await notify(who, "plans")
    return answer((await _view(who, [record]))[0], 201)


@route
async def change_plan(request: Request, who: Who) -> Response:
    """``PATCH /journey/plans/{pid}``: the owner changes any of its fields."""
    record, plan = await _owned(who, request.path_params["pid"])
    change = await body(request, PlanChange)
    given = {k: v for k, v in msgspec.structs.asdict(change).items() if v is not msgspec.UNSET}
    new = _cleaned(replace(plan, **given))
    record = replace(record, data=encode(new))
    await who.journey.put(who.room, record)
    if shared_with_group(plan) or shared_with_group(new):
        await notify(who, "plans")
    return answer((await _view(who, [record]))[0])


@route
async def delete_plan(request: Request, who: Who) -> Response:
    """``DELETE /journey/plans/{pid}``: by its owner or a facilitator (``SEE_PLANS``)."""
    record, plan = await _visible(who, request.path_params["pid"])
    if not (who.viewer.owns(record.owner) or who.viewer.can(Capability.SEE_PLANS)):
        raise Problem(403, ErrorCode.FORBIDDEN, "only the member who made a plan may delete it")
    for cheer in await who.journey.list(who.room, CHEER):
        if cheer.id.rpartition(".")[0] == record.id:
            await who.journey.delete(who.room, CHEER, cheer.id)
    await who.journey.delete(who.room, PLAN, record.id)
    if shared_with_group(plan):
        await notify(who, "plans")
    return answer({"deleted": record.id})


@route
async def review_plan(request: Request, who: Who) -> Response:
    """``POST /journey/plans/{pid}/review {"status","note","shared"}``: how it went (owner)."""
    record, plan = await _owned(who, request.path_params["pid"])
    given = await body(request, NewReview)
    try:
        note = clean_text(given.note, "note", REVIEW_NOTE_MAX_CHARS, required=False)
    except Refused as exc:
        raise refused(exc) from None
    _, current = await plan_session(who)
    new = replace(plan, review=Review(status=given.status, note=note, shared=given.shared, session=current))
    record = replace(record, data=encode(new))
    await who.journey.put(who.room, record)
    if shared_with_group(plan) or shared_with_group(new):
        await notify(who, "plans")
    return answer((await _view(who, [record]))[0])


async def _cheer(request: Request, who: Who, on: bool) -> Response:
    who.need(Capability.KEEP_JOURNEY)
    if who.viewer.sub is None and not who.viewer.can(Capability.SEE_PLANS):
        raise Problem(403, ErrorCode.PERSONAL_LINK_REQUIRED, PERSONAL)
    record, plan = await _visible(who, request.path_params["pid"])
    if not may_cheer(who.viewer, record.owner, plan):
        raise Problem(403, ErrorCode.FORBIDDEN, "only a plan or review shared with the group can be cheered")
    cheer_id = mark_id(record.id, who_mark(who.viewer))
    if on:
        mark = Record(kind=CHEER, id=cheer_id, owner=who.viewer.sub, created=now(), data=encode(Empty()))
        await who.journey.put(who.room, mark)
    else:
        await who.journey.delete(who.room, CHEER, cheer_id)
    await notify(who, "plans")
    return answer((await _view(who, [record]))[0])


@route
async def cheer(request: Request, who: Who) -> Response:
    """``PUT /journey/plans/{pid}/cheer``: celebrate a shared plan or review."""
    return await _cheer(request, who, True)


@route
async def uncheer(request: Request, who: Who) -> Response:
    """``DELETE /journey/plans/{pid}/cheer``."""
    return await _cheer(request, who, False)

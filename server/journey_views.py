"""How the journey's records look in the API's answers (docs/protocol.md §12).

Names come from the roster at the time of reading (a post or plan stores no name), so a
member's data deleted or a member removed leaves no name behind.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rooms.backends.journey_base import JourneyStore, Record
from rooms.journey.model import MEMBER, ActionPlan, CheckIn, Member, Strategy, decode
from rooms.journey.rules import score, suggest_smaller
from rooms.journey.visibility import Viewer, sees_author
from rooms.permissions import Capability

ANONYMOUS = "Anonymous"
FACILITATOR = "Facilitator"
FACILITATOR_MARK = "f"  # who cheered / helped, for a facilitator (no personal sub)


async def members_by_sub(journey: JourneyStore, room: str) -> dict[str, str]:
    members = (decode(r.data, Member) for r in await journey.list(room, MEMBER))
    return {m.sub: m.name for m in members if not m.removed}


def marks_by_target(records: list[Record]) -> Counter[str]:
    return Counter(r.id.rpartition(".")[0] for r in records)


def who_mark(viewer: Viewer) -> str:
    return viewer.sub if viewer.sub is not None else FACILITATOR_MARK


def plan_record_view(record: Record) -> dict[str, Any]:
    """A plan as stored (what "my data" exports)."""
    plan = decode(record.data, ActionPlan)
    review = None
    if plan.review is not None:
        r = plan.review
        review = {"status": str(r.status), "note": r.note, "shared": r.shared, "session": r.session}
    return {
        "id": record.id,
        "what": plan.what,
        "how_much": plan.how_much,
        "when": plan.when,
        "how_often": plan.how_often,
        "confidence": plan.confidence,
        "shared": plan.shared,
        "session": plan.session,
        "created": record.created,
        "review": review,
    }


def plan_view(
    record: Record, viewer: Viewer, names: dict[str, str], cheers: Counter[str], mine: set[str], current: int
) -> dict[str, Any]:
    """A plan as ``GET /journey/plans`` shows it. ``mine``: the plans the viewer cheered;
    ``current``: the session number, for ``for_review`` (last week's plans, not reviewed)."""
    plan = decode(record.data, ActionPlan)
    view = plan_record_view(record)
    view.update(
        owner_name=names.get(record.owner or "", ""),
        mine=viewer.owns(record.owner),
        cheers=cheers.get(record.id, 0),
        cheered=record.id in mine,
        suggest_smaller=suggest_smaller(plan.confidence),
        for_review=plan.review is None and plan.session < current,
    )
    return view


def author(record: Record, post: Strategy, names: dict[str, str]) -> str:
    if record.owner is None:
        return FACILITATOR
    return names.get(record.owner, ANONYMOUS)


def post_record_view(record: Record, names: dict[str, str]) -> dict[str, Any]:
    """A post as stored (what "my data" exports)."""
    post = decode(record.data, Strategy)
    return {
        "id": record.id,
        "text": post.text,
        "tags": list(post.tags),
        "anonymous": post.anonymous,
        "pinned": post.pinned,
        "hidden": post.hidden,
        "created": record.created,
    }


def post_view(
    record: Record,
    viewer: Viewer,
    names: dict[str, str],
    helped: Counter[str],
    helped_by_me: set[str],
    saved: set[str],
) -> dict[str, Any]:
    """A post as ``GET /journey/board`` shows it to ``viewer``."""
    post = decode(record.data, Strategy)
    view = post_record_view(record, names)
    named = author(record, post, names)
    # A facilitator's post (no owner) is every moderator's to edit, as the board's own.
    mine = viewer.owns(record.owner) or (record.owner is None and viewer.can(Capability.MODERATE_BOARD))
    view.update(
        author=named if not post.anonymous else ANONYMOUS,
        mine=mine,
        helped=helped.get(record.id, 0),
        helped_by_me=record.id in helped_by_me,
        saved=record.id in saved,
    )
    if post.anonymous and sees_author(viewer, record.owner, post):
        view["author_name"] = named
    return view


def card_view(record: Record) -> dict[str, Any]:
    card = decode(record.data, CheckIn)
    return {
        "session": card.session,
        "kind": str(card.kind),
        "pain": card.pain,
        "enjoyment": card.enjoyment,
        "activity": card.activity,
        "score": score(card),
    }

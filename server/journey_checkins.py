"""Check-in and check-out cards and the group's summary over HTTP (docs/journey.md, "Check-ins
and the group summary").

A card (the three PEG items) is its member's: they see their own trend. The group sees at most
a summary of a round, made once by a facilitator (``RUN_SESSION``) when at least five answered,
and frozen: later answers and deleted data never change it, so no two published values can be
subtracted to reveal one person's numbers. Facilitators see individual cards only where the
room says so (``facilitators_see_checkins``, stated on the card itself).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response

from rooms.backends.journey_base import Record
from rooms.codes import ErrorCode
from rooms.journey.limits import CARD_MAX, CARD_MIN, SUMMARY_MIN_ANSWERS
from rooms.journey.model import (
    CHECKIN,
    SUMMARY,
    CardKind,
    CheckIn,
    Summary,
    checkin_id,
    decode,
    encode,
    summary_id,
)
from rooms.journey.rules import summary
from rooms.journey.visibility import sees_card
from rooms.permissions import Capability
from server.journey_auth import Problem, Who, answer, body, notify, now, route, session
from server.journey_views import card_view, members_by_sub

Item = Annotated[int, Meta(ge=CARD_MIN, le=CARD_MAX)]
_KIND_ORDER = {CardKind.IN: 0, CardKind.OUT: 1}


class Card(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    pain: Item
    enjoyment: Item
    activity: Item


class Round(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    kind: CardKind


def _kind(request: Request) -> CardKind:
    try:
        return CardKind(request.path_params["kind"])
    except ValueError:
        raise Problem(404, ErrorCode.NOT_FOUND, "a card is 'in' or 'out'") from None


async def _round(who: Who) -> int:
    """The session whose round is closed or shown: the live one, or the one just held."""
    number, live = await session(who)
    return number if live else number - 1


@route
async def put_card(request: Request, who: Who) -> Response:
    """``PUT /journey/checkins/{in|out}``: my card for the current session (or the next)."""
    sub = who.personal()
    kind = _kind(request)
    given = await body(request, Card)
    number, _ = await session(who)
    card = CheckIn(
        session=number, kind=kind, pain=given.pain, enjoyment=given.enjoyment, activity=given.activity
    )
    record = Record(
        kind=CHECKIN, id=checkin_id(number, kind, sub), owner=sub, created=now(), data=encode(card)
    )
    await who.journey.put(who.room, record)
    await _tell_facilitators(who)
    return answer(card_view(record))


@route
async def delete_card(request: Request, who: Who) -> Response:
    """``DELETE /journey/checkins/{in|out}``: take back my card of the current session."""
    sub = who.personal()
    kind = _kind(request)
    number, _ = await session(who)
    gone = await who.journey.delete(who.room, CHECKIN, checkin_id(number, kind, sub))
    if gone:
        await _tell_facilitators(who)
    return answer({"deleted": gone})


async def _tell_facilitators(who: Who) -> None:
    """Where facilitators see the cards, a card saved or taken back refreshes their list live
    (``journey_changed`` "checkins": no content, like every notice); elsewhere nobody hears of
    it, so a private card leaves no trace in anyone's page."""
    if who.config.facilitators_see_checkins:
        await notify(who, "checkins")


@route
async def my_cards(request: Request, who: Who) -> Response:
    """``GET /journey/checkins/mine``: my cards, oldest first (my trend)."""
    sub = who.personal()
    cards = [card_view(r) for r in await who.journey.list(who.room, CHECKIN, owner=sub)]
    cards.sort(key=lambda c: (c["session"], _KIND_ORDER[CardKind(str(c["kind"]))]))
    return answer({"cards": cards})


def _summary_view(value: Summary) -> dict[str, object]:
    return {"session": value.session, "kind": str(value.kind), "n": value.n, "score": value.score}


@route
async def summaries(request: Request, who: Who) -> Response:
    """``GET /journey/checkins/summary``: the group's summaries, any link of the room."""
    found = [decode(r.data, Summary) for r in await who.journey.list(who.room, SUMMARY)]
    found.sort(key=lambda s: (s.session, _KIND_ORDER[s.kind]))
    return answer({"summaries": [_summary_view(s) for s in found]})


@route
async def close_round(request: Request, who: Who) -> Response:
    """``POST /journey/checkins/summary {"kind"}``: the round's summary, made once."""
    who.need(Capability.RUN_SESSION)
    kind = (await body(request, Round)).kind
    number = await _round(who)
    key = summary_id(number, kind)
    stored = await who.journey.get(who.room, SUMMARY, key)
    if stored is not None:
        return answer(_summary_view(decode(stored.data, Summary)))
    prefix = f"{number}.{kind}."
    cards = [
        decode(r.data, CheckIn) for r in await who.journey.list(who.room, CHECKIN) if r.id.startswith(prefix)
    ]
    made = summary(cards, number, kind)
    if made is None:
        why = f"fewer than {SUMMARY_MIN_ANSWERS} answered, so the group sees no summary"
        raise Problem(409, ErrorCode.TOO_FEW_ANSWERS, why)
    await who.journey.put(
        who.room, Record(kind=SUMMARY, id=key, owner=None, created=now(), data=encode(made))
    )
    await notify(who, "checkins")
    return answer(_summary_view(made), 201)


@route
async def session_cards(request: Request, who: Who) -> Response:
    """``GET /journey/checkins``: this session's individual cards with names, for facilitators
    (``SEE_CHECKINS``) in a room whose ``facilitators_see_checkins`` is on."""
    if who.viewer.sub is not None or not sees_card(who.viewer, None, who.config):
        raise Problem(403, ErrorCode.FORBIDDEN, "individual check-in cards are private in this group")
    number = await _round(who)
    names = await members_by_sub(who.journey, who.room)
    cards = []
    for record in await who.journey.list(who.room, CHECKIN):
        if record.id.startswith(f"{number}."):
            cards.append({"name": names.get(record.owner or "", ""), **card_view(record)})
    return answer({"session": number, "cards": cards})

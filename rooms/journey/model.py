"""What the journey stores, one struct per record kind (docs/journey.md, "The store").

Each struct is the ``data`` of one ``rooms.backends.journey_base.Record``, encoded as msgspec
JSON; who owns it (a member's ``sub``) and when it was made are the record's own fields, so they
are not repeated here. Only what is needed is kept: a member is a pseudonym and a link version,
a check-in card is three numbers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

import msgspec

# Record kinds (rooms.backends.journey_base.Record.kind).
MEMBER = "member"
PLAN = "plan"
CHEER = "cheer"
POST = "post"
HELPED = "helped"
SAVED = "saved"
CHECKIN = "checkin"
SUMMARY = "summary"


class CardKind(StrEnum):
    """A check-in card is filled when joining (``in``) or at check-out (``out``)."""

    IN = "in"
    OUT = "out"


class ReviewStatus(StrEnum):
    DONE = "done"
    PARTLY = "partly"
    CHANGED = "changed"


class Member(msgspec.Struct, frozen=True, kw_only=True):
    """A roster entry. ``link_version``: the version (``v``) a personal link must carry; a new
    link raises it, so the old one stops working. ``removed``: a tombstone (no name), kept so
    that the member's link is refused (``banned``) for good."""

    sub: str
    name: str
    link_version: int = 1
    added_at: float = 0.0
    removed: bool = False


class Review(msgspec.Struct, frozen=True, kw_only=True):
    """How a plan went, marked at a later session. ``shared``: the group sees it (and may cheer)."""

    status: ReviewStatus
    note: str = ""
    shared: bool = False
    session: int = 0


class ActionPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A Stanford-style action plan: what, how much, when, how often, and how sure (0-10)."""

    what: str
    how_much: str = ""
    when: str = ""
    how_often: str = ""
    confidence: int
    shared: bool = False
    session: int = 0
    review: Review | None = None


class Strategy(msgspec.Struct, frozen=True, kw_only=True):
    """A post on the coping-strategies board. Its author is the record's owner (``None``: a
    facilitator); ``anonymous`` hides the name from the group, never from moderators."""

    text: str
    tags: tuple[str, ...] = ()
    anonymous: bool = False
    pinned: bool = False
    hidden: bool = False


class CheckIn(msgspec.Struct, frozen=True, kw_only=True):
    """The three PEG items, 0-10 each (pain, interference with enjoyment, with general activity)."""

    session: int
    kind: CardKind
    pain: int
    enjoyment: int
    activity: int


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    """The group's aggregate of one round: how many answered and the mean score. Frozen once
    made: it holds nobody's numbers, and later answers never change it."""

    session: int
    kind: CardKind
    n: int
    score: float


class Empty(msgspec.Struct, frozen=True):
    """The data of a mark (a cheer, "helped me too", a saved post): its id says it all."""


T = TypeVar("T")
_encoder = msgspec.json.Encoder()


def encode(value: msgspec.Struct) -> bytes:
    return _encoder.encode(value)


def decode(data: bytes, kind: type[T]) -> T:
    return msgspec.json.decode(data, type=kind)


def checkin_id(session: int, kind: CardKind, sub: str) -> str:
    return f"{session}.{kind}.{sub}"


def summary_id(session: int, kind: CardKind) -> str:
    return f"{session}.{kind}"


def mark_id(target: str, who: str) -> str:
    """The id of a cheer, "helped" or "saved" mark: ``{plan or post id}.{who}``."""
    return f"{target}.{who}"

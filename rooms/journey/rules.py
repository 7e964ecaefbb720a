"""The journey's rules, pure: text, tags, confidence, scores, the group's aggregate.

Text that others see follows the chat's rules (``rooms.text``): direction controls and stray
invisible characters are removed, and a required text needs something visible. The aggregate
follows one rule: nothing below ``SUMMARY_MIN_ANSWERS`` cards, and once made it never changes,
so no two published values can be subtracted to reveal one person's numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from rooms import text as text_rules
from rooms.journey.limits import (
    BOARD_TAGS,
    CARD_MAX,
    CARD_MIN,
    CONFIDENCE_MAX,
    CONFIDENCE_MIN,
    CONFIDENCE_SUGGEST_SMALLER,
    SUMMARY_MIN_ANSWERS,
    TAGS_PER_POST_MAX,
)
from rooms.journey.model import CardKind, CheckIn, Summary


class Refused(ValueError):
    """Input the journey cannot keep; the message says which field and why (never its value)."""


def clean_text(value: str, field: str, max_chars: int, *, required: bool) -> str:
    """``value`` cleaned as chat text is, within ``max_chars`` once cleaned; empty only when not
    ``required``."""
    if not text_rules.visible(value):
        if required:
            raise Refused(f"{field} needs something visible")
        return ""
    try:
        cleaned = text_rules.clean_chat_text(value)
    except text_rules.TextRefused:
        raise Refused(f"{field} needs something visible") from None
    if len(cleaned) > max_chars:
        raise Refused(f"{field} is longer than {max_chars} characters")
    return cleaned


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags from the fixed list (``BOARD_TAGS``), at most ``TAGS_PER_POST_MAX``, each once, in
    the list's order."""
    given = list(tags)
    unknown = [t for t in given if t not in BOARD_TAGS]
    if unknown:
        raise Refused(f"tags must be from the list: {', '.join(BOARD_TAGS)}")
    chosen = tuple(t for t in BOARD_TAGS if t in given)
    if len(chosen) > TAGS_PER_POST_MAX:
        raise Refused(f"a post has at most {TAGS_PER_POST_MAX} tags")
    return chosen


def check_confidence(value: int) -> int:
    if isinstance(value, bool) or not CONFIDENCE_MIN <= value <= CONFIDENCE_MAX:
        raise Refused(f"confidence is a whole number from {CONFIDENCE_MIN} to {CONFIDENCE_MAX}")
    return value


def suggest_smaller(confidence: int) -> bool:
    """Below 7 the page suggests making the plan a little smaller."""
    return confidence < CONFIDENCE_SUGGEST_SMALLER


def check_item(value: int, field: str) -> int:
    if isinstance(value, bool) or not CARD_MIN <= value <= CARD_MAX:
        raise Refused(f"{field} is a whole number from {CARD_MIN} to {CARD_MAX}")
    return value


def _one_decimal(value: Fraction) -> float:
    """Rounded half up to one decimal, exactly (no float surprises: 2.25 -> 2.3)."""
    tenths = value * 10
    return float(Fraction(int(tenths + Fraction(1, 2)), 10))


def _card_mean(card: CheckIn) -> Fraction:
    return Fraction(card.pain + card.enjoyment + card.activity, 3)


def score(card: CheckIn) -> float:
    """A card's score: the mean of its three items, one decimal (the PEG score)."""
    return _one_decimal(_card_mean(card))


def summary(cards: Sequence[CheckIn], session: int, kind: CardKind) -> Summary | None:
    """The group's aggregate of one round: ``None`` with fewer than ``SUMMARY_MIN_ANSWERS``
    cards, else how many and the mean of their scores (one decimal). The caller stores it and
    never computes it again for that round."""
    if len(cards) < SUMMARY_MIN_ANSWERS:
        return None
    mean = sum((_card_mean(c) for c in cards), Fraction(0)) / len(cards)
    return Summary(session=session, kind=kind, n=len(cards), score=_one_decimal(mean))

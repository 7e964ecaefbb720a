"""Every bound of the group's journey (docs/journey.md), in one place: the API checks them, the
docs list them and the tests try each one."""

from __future__ import annotations

ROSTER_MAX = 200  # roster entries of a group, removed members' tombstones included
MEMBER_NAME_MAX_CHARS = 40  # a pseudonym, as a display name (MAX_NAME_CHARS)

PLANS_PER_MEMBER_MAX = 30
PLAN_WHAT_MAX_CHARS = 200  # 1-200: a plan says what
PLAN_FIELD_MAX_CHARS = 100  # how much, when, how often: 0-100
REVIEW_NOTE_MAX_CHARS = 500
CONFIDENCE_MIN = 0
CONFIDENCE_MAX = 10
CONFIDENCE_SUGGEST_SMALLER = 7  # below this the page suggests a smaller plan

POST_MAX_CHARS = 1000
POSTS_PER_GROUP_MAX = 300
POSTS_PER_MEMBER_MAX = 30
TAGS_PER_POST_MAX = 4
BOARD_TAGS = (
    "pacing",
    "sleep",
    "flare-ups",
    "relaxation",
    "movement",
    "mood",
    "medication",
    "work",
    "relationships",
    "other",
)

CARD_MIN = 0  # each PEG item (pain, enjoyment, activity): 0-10
CARD_MAX = 10
SUMMARY_MIN_ANSWERS = 5  # the group sees an aggregate only from this many cards

BODY_MAX_BYTES = 8 * 1024  # every JSON body of the journey API
# HTTP rate per link (token): a member hammering the board must not slow other rooms.
RATE_PER_SECOND = 10.0
RATE_BURST = 60
# Beyond its one token, an answer costs a token per this many bytes (a full board, ~330 KiB: ~20).
ANSWER_BYTES_PER_TOKEN = 16 * 1024

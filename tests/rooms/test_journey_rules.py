"""The journey's rules (rooms.journey): text and tags, confidence, scores, the group's aggregate
(nothing below five answers, frozen once made), and who sees what."""

from __future__ import annotations

import pytest

from rooms.journey.model import ActionPlan, CardKind, CheckIn, Review, ReviewStatus, Strategy
from rooms.journey.rules import Refused, check_confidence, check_item, clean_tags, clean_text, score, summary
from rooms.journey.visibility import Viewer, may_cheer, sees_author, sees_card, sees_plan, sees_post
from rooms.model import Role, RoomConfig


@pytest.mark.parametrize(
    ("text", "required", "expected"),
    [
        ("  walk 10 minutes  ", True, "walk 10 minutes"),
        ("walk\u202e10", True, "walk10"),  # a direction control goes, as in chat
        ("", False, ""),
        ("\u200b", False, ""),
    ],
)
def test_text_is_cleaned_as_chat_text(text: str, required: bool, expected: str) -> None:
    assert clean_text(text, "what", 200, required=required) == expected


@pytest.mark.parametrize(
    ("text", "limit"), [("", 200), ("\u200b\u200b", 200), ("x" * 201, 200), (" " + "y" * 6, 5)]
)
def test_text_refused(text: str, limit: int) -> None:
    with pytest.raises(Refused):
        clean_text(text, "what", limit, required=True)


def test_tags_come_from_the_list_at_most_four_each_once() -> None:
    assert clean_tags(["sleep", "pacing", "sleep"]) == ("pacing", "sleep")
    assert clean_tags([]) == ()
    with pytest.raises(Refused):
        clean_tags(["gardening"])
    with pytest.raises(Refused):
        clean_tags(["pacing", "sleep", "mood", "work", "other"])


@pytest.mark.parametrize("value", [0, 7, 10])
def test_confidence_in_range(value: int) -> None:
    assert check_confidence(value) == value


@pytest.mark.parametrize("value", [-1, 11, True])
def test_confidence_out_of_range(value: int) -> None:
    with pytest.raises(Refused):
        check_confidence(value)


@pytest.mark.parametrize("value", [-1, 11])
def test_card_items_out_of_range(value: int) -> None:
    with pytest.raises(Refused):
        check_item(value, "pain")


def card(pain: int, enjoyment: int, activity: int, session: int = 1) -> CheckIn:
    return CheckIn(session=session, kind=CardKind.IN, pain=pain, enjoyment=enjoyment, activity=activity)


@pytest.mark.parametrize(
    ("items", "expected"), [((5, 5, 5), 5.0), ((1, 2, 2), 1.7), ((0, 0, 1), 0.3), ((10, 10, 9), 9.7)]
)
def test_a_cards_score_is_the_mean_to_one_decimal(items: tuple[int, int, int], expected: float) -> None:
    assert score(card(*items)) == expected


def test_four_answers_show_nothing_five_show_the_mean() -> None:
    cards = [card(4, 4, 4), card(6, 6, 6), card(5, 5, 5), card(3, 3, 3)]
    assert summary(cards, 1, CardKind.IN) is None
    made = summary([*cards, card(7, 7, 7)], 1, CardKind.IN)
    assert made is not None and (made.n, made.score, made.session) == (5, 5.0, 1)


def test_the_mean_rounds_half_up_exactly() -> None:
    # 19 cards of 2 and one of 3: the mean is 123/60 = 2.05 exactly, 2.1 (a float rounds to 2.0).
    made = summary([card(2, 2, 2)] * 19 + [card(3, 3, 3)], 1, CardKind.OUT)
    assert made is not None and (made.n, made.score) == (20, 2.1)


viewer_ann = Viewer(Role.MEMBER, "ann")
viewer_bob = Viewer(Role.MEMBER, "bob")
shared_link = Viewer(Role.MEMBER, None)
facilitator = Viewer(Role.FACILITATOR, None)
private = ActionPlan(what="walk", confidence=8)
shared = ActionPlan(what="walk", confidence=8, shared=True)
review_shared = ActionPlan(what="walk", confidence=8, review=Review(status=ReviewStatus.DONE, shared=True))


@pytest.mark.parametrize(
    ("viewer", "plan", "sees", "cheers"),
    [
        (viewer_ann, private, True, False),  # her own, private: seen, nothing to cheer
        (viewer_bob, private, False, False),  # another's private plan: never
        (shared_link, private, False, False),
        (shared_link, shared, False, False),  # a shared link reads nothing about a person
        (viewer_bob, shared, True, True),
        (viewer_bob, review_shared, True, True),
        (facilitator, private, True, False),
        (facilitator, shared, True, True),
    ],
)
def test_who_sees_a_plan(viewer: Viewer, plan: ActionPlan, sees: bool, cheers: bool) -> None:
    assert sees_plan(viewer, "ann", plan) is sees
    assert may_cheer(viewer, "ann", plan) is cheers


@pytest.mark.parametrize(
    ("viewer", "setting", "sees"),
    [
        (viewer_ann, False, True),
        (viewer_bob, False, False),
        (viewer_bob, True, False),  # a member never reads another's card
        (shared_link, True, False),
        (facilitator, False, False),
        (facilitator, True, True),
    ],
)
def test_who_sees_a_card(viewer: Viewer, setting: bool, sees: bool) -> None:
    config = RoomConfig(id="r", title="t", facilitators_see_checkins=setting)
    assert sees_card(viewer, "ann", config) is sees


def test_hidden_posts_and_anonymous_authors() -> None:
    hidden = Strategy(text="x", hidden=True)
    anonymous = Strategy(text="x", anonymous=True)
    assert not sees_post(viewer_bob, hidden) and sees_post(facilitator, hidden)
    assert not sees_author(viewer_bob, "ann", anonymous)
    assert sees_author(viewer_ann, "ann", anonymous) and sees_author(facilitator, "ann", anonymous)

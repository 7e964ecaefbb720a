"""Issue 14's "done when", in the browser: two consecutive sessions of one group on the embedded
default. The facilitator adds a member in the console and runs each session from the CBT
run-sheet with Next phase; the member (on their personal link) checks in when the check-in
round begins, writes an action plan in goal setting and posts to the board; the facilitator
ends the session with its confirmation. At the next session last week's plan is there to
review in the review phase, the board has grown, and the member's trend shows both sessions.
The same, on the embedded default (SQLite) and on a real redis-server."""

from __future__ import annotations

import re

import msgspec
import pytest
from playwright.async_api import Page, expect

from rooms.runsheet import TEMPLATES
from tests.e2e.conftest import People, in_room, join_through_screens, room_url, wait_in_room
from tests.e2e.journey_flow import fill_card, journey_url, open_section
from tests.server.conftest import StartServer, token_of

_LABEL, PHASES = TEMPLATES["cbt_pain"]
KINDS = [str(phase.kind) for phase in PHASES]


async def next_phase_until(fran: Page, member: Page, kind: str) -> None:
    """Next phase, one click at a time (each waiting for the member's page to show the phase it
    began), until the member's page shows the phase of ``kind``."""
    target = KINDS.index(kind) + 1
    step = member.locator("#phase-step")
    shown = await step.text_content() if await member.locator("#phase-bar").is_visible() else None
    current = int(shown.split()[2]) if shown else 0  # "Session phase 2 of 7"; 0: none yet
    assert current <= target, f"{shown!r} is past {kind}"
    for number in range(current + 1, target + 1):
        await fran.locator("#phase-next").click()
        await expect(step).to_have_text(re.compile(rf"^Session phase {number} of "))
    await expect(member.locator("#phase-name")).to_have_text(PHASES[target - 1].name)


async def check_in(ann: Page, answers: tuple[int, int, int]) -> None:
    card = ann.locator("#journey-checkin")
    await expect(card).to_have_attribute("open", "")  # the check-in round opens it by itself
    await fill_card(card, answers)
    await card.get_by_role("button", name="Save my check-in").click()
    await expect(card.get_by_role("status")).to_contain_text("Saved")


async def post(ann: Page, text: str) -> None:
    await open_section(ann, "journey-board")
    await ann.locator("#journey-post-text").fill(text)
    await ann.get_by_role("button", name="Post to the board").click()
    await expect(ann.locator("#journey-board .post", has_text=text)).to_be_visible()


async def end_session(fran: Page, ann: Page) -> None:
    await fran.locator("#end-session").click()
    await fran.locator("#confirm-end").click()
    for page in (fran, ann):
        await expect(page.locator("#screen-ended")).to_be_visible()


@pytest.mark.parametrize("store", ["sqlite", "redis"])
async def test_two_consecutive_sessions_with_phases_goals_reviewed_a_growing_board_and_check_ins(
    start_server: StartServer, people: People, store: str, request: pytest.FixtureRequest
) -> None:
    if store == "redis":
        server = await start_server(store=request.getfixturevalue("redis_server").url)
    else:
        server = await start_server()
    expected = {"sqlite": "SqliteJourney", "redis": "RedisJourney"}[store]
    assert type(server.node.journey).__name__ == expected
    room = await server.create_room(
        title="Tuesday pain group", lobby=False, run_sheet=msgspec.to_builtins(PHASES)
    )

    # Session 1. The facilitator adds Ann to the group and gets her personal link.
    fran = await in_room(people, server, room.id, room.facilitator, "Fran")
    await fran.locator("#roster-name").fill("Ann")
    await fran.locator("#roster-add-button").click()
    link = fran.locator("#roster-link")
    await expect(link).to_have_value(re.compile(r"/r/.+#k="))  # once the roster has answered
    token = token_of(await link.input_value())
    ann = await people.open(room_url(server.base_url, room.id, token))
    await join_through_screens(ann, "Ann")
    ann_id = await wait_in_room(ann)

    await next_phase_until(fran, ann, "check_in")
    await expect(ann.locator("#floor-banner")).to_contain_text("circle", ignore_case=True)
    await check_in(ann, (7, 6, 5))
    await next_phase_until(fran, ann, "goals")
    plans = ann.locator("#journey-plans")
    await expect(plans).to_have_attribute("open", "")
    await ann.locator("#journey-plan-what").fill("Walk to the corner shop")
    await ann.locator("#journey-plan-how-much").fill("10 minutes")
    await ann.locator("#journey-plan-confidence").fill("8")
    await ann.get_by_role("button", name="Save my plan").click()
    await expect(plans.locator(".plan", has_text="Walk to the corner shop")).to_be_visible()
    await post(ann, "A heat pack before getting up")
    await end_session(fran, ann)

    # Session 2: the same people come back on the same links.
    fran = await in_room(people, server, room.id, room.facilitator, "Fran")
    ann = await people.open(room_url(server.base_url, room.id, token))
    await join_through_screens(ann, "Ann")
    assert await wait_in_room(ann) == ann_id, "a personal link is the same person next week"
    await next_phase_until(fran, ann, "check_in")
    await check_in(ann, (5, 4, 3))
    await next_phase_until(fran, ann, "review")
    plans = ann.locator("#journey-plans")
    await expect(plans).to_have_attribute("open", "")
    review = ann.locator("#journey-plan-review .plan", has_text="Walk to the corner shop")
    await expect(review).to_be_visible()
    await review.get_by_label("Done").check()
    await review.get_by_role("button", name="Save").click()
    await expect(review).to_be_hidden()
    await expect(plans.locator(".plan-review", has_text="Done")).to_be_visible()
    await post(ann, "Breaking chores into ten-minute pieces")
    await expect(ann.locator("#journey-board .post")).to_have_count(2)  # the board grows
    await end_session(fran, ann)

    # Between sessions: Ann's own trend, session by session.
    page = await people.open(journey_url(server, room.id, token))
    rows = page.locator("#trend table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("Session 1")
    await expect(rows.nth(0)).to_contain_text("6.0")
    await expect(rows.nth(1)).to_contain_text("Session 2")
    await expect(rows.nth(1)).to_contain_text("4.0")

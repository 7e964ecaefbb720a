"""The group's journey in the browser (issue 14): the check-in card in the lobby, an action plan
with the "make it smaller" hint, an anonymous post another member sees live, last week's plan
to review at the next session, the between-sessions page (trend chart, My data, Delete my data),
the printable handout (pinned first, hidden never), a shared link asked for a personal one, and
axe on the new panel and page at desktop and phone sizes. Members get personal links through the
journey API, as a facilitator's console does."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from rooms.backends.journey_base import Record
from rooms.journey.model import CHECKIN, CardKind, CheckIn, checkin_id, encode
from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.e2e.test_accessibility import SIZES, violations
from tests.server.conftest import Client, Running, StartServer
from tests.server.journey_helpers import Api, add_member

PEG = (
    "Pain on average this week",
    "How much pain got in the way of enjoying life",
    "How much pain got in the way of your general activity",
)


def journey_url(server: Running, room: str, token: str, query: str = "") -> str:
    return f"{server.base_url}/r/{room}/journey{query}#k={token}"


async def admit(fac: Client, name: str) -> None:
    """The facilitator (a socket) lets ``name`` in from the lobby."""

    def waiting(m: dict[str, Any]) -> bool:
        return any(w["name"] == name for w in m.get("waiting", []))

    frame = await fac.recv_until("lobby_changed", waiting)
    target = next(w["id"] for w in frame["waiting"] if w["name"] == name)
    await fac.ok({"type": "admit", "target": target})


async def fill_card(scope: Any, answers: tuple[int, int, int]) -> None:
    for legend, value in zip(PEG, answers, strict=True):
        await scope.get_by_role("group", name=legend).get_by_label(str(value), exact=True).check()


async def open_section(page: Page, section: str) -> None:
    details = page.locator(f"#{section}")
    if await details.get_attribute("open") is None:
        await details.locator("> summary").click()
    await expect(details).to_have_attribute("open", "")


async def test_a_member_checks_in_in_the_lobby_plans_and_posts_and_another_sees_it(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=True)
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        _, bob_token = await add_member(fac_api, "Bob")
        fran = await server.joined(room.facilitator, "Fran")

        bob = await people.open(room_url(server.base_url, room.id, bob_token))
        await join_through_screens(bob, "Bob")
        await admit(fran, "Bob")
        await wait_in_room(bob)
        await open_section(bob, "journey-board")

        ann = await people.open(room_url(server.base_url, room.id, ann_token))
        await join_through_screens(ann, "Ann")
        card = ann.locator("#lobby-checkin")
        await expect(card).to_be_visible()
        await expect(card).to_contain_text("Only you, and the group's total once five people have answered")
        await fill_card(card, (6, 5, 4))
        await card.get_by_role("button", name="Save my check-in").click()
        await expect(card.get_by_role("status")).to_contain_text("Saved")
        link = ann.get_by_role("link", name="Our group between sessions")
        await expect(link).to_have_attribute("href", f"/r/{room.id}/journey#k={ann_token}")
        cards = (await Api(http, room.id, ann_token).ok("GET", "/checkins/mine"))["cards"]
        assert [(c["kind"], c["pain"], c["enjoyment"], c["activity"]) for c in cards] == [("in", 6, 5, 4)]

        await admit(fran, "Ann")
        await wait_in_room(ann)
        await open_section(ann, "journey-checkin")
        await expect(ann.locator("#journey-checkin [role=status]")).to_contain_text(
            "Your check-in for this session is saved (score 5.0)"
        )
        await open_section(ann, "journey-plans")
        await ann.locator("#journey-plan-what").fill("Walk to the corner shop")
        await ann.locator("#journey-plan-how-much").fill("10 minutes")
        hint = ann.locator("#journey-plan-smaller")
        await ann.locator("#journey-plan-confidence").fill("5")
        await expect(hint).to_be_visible()
        await expect(hint).to_have_text("Below 7: could you make it a little smaller?")
        await ann.locator("#journey-plan-confidence").fill("8")
        await expect(hint).to_be_hidden()
        await ann.get_by_role("button", name="Save my plan").click()
        await expect(ann.locator("#journey-plans .plan", has_text="Walk to the corner shop")).to_be_visible()

        await open_section(ann, "journey-board")
        await ann.locator("#journey-post-text").fill("A warm bath before bed")
        await ann.locator("#journey-board .tag-choice", has_text="sleep").locator("input").check()
        await ann.get_by_label("Anonymous to the group (your facilitators still see who wrote it)").check()
        await ann.get_by_role("button", name="Post to the board").click()
        await expect(ann.locator("#journey-board .post", has_text="A warm bath")).to_be_visible()

        # Bob's board was open already: journey_changed brings the post without a click.
        post = bob.locator("#journey-board .post", has_text="A warm bath before bed")
        await expect(post).to_be_visible()
        await expect(post.locator(".post-meta")).to_contain_text("Anonymous · sleep")
        await expect(post).not_to_contain_text("Ann")
        await post.get_by_role("button", name="This helped me too: A warm bath before bed").click()
        await expect(
            post.get_by_role("button", name="This helped me too: A warm bath before bed")
        ).to_have_attribute("aria-pressed", "true")


async def test_last_weeks_plan_is_there_to_review_at_the_next_session(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False)
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        fran = await server.joined(room.facilitator, "Fran")  # session 1
        ann_api = Api(http, room.id, ann_token)
        plan = {
            "what": "Stretch after breakfast",
            "how_much": "5 minutes",
            "when": "Mornings",
            "how_often": "Every day",
            "confidence": 8,
            "shared": True,
        }
        await ann_api.ok("POST", "/plans", plan, status=201)
        await fran.ok({"type": "end_session"})

        await server.joined(room.facilitator, "Fran")  # session 2
        ann = await people.open(room_url(server.base_url, room.id, ann_token))
        await join_through_screens(ann, "Ann")
        await wait_in_room(ann)
        await open_section(ann, "journey-plans")
        review = ann.locator("#journey-plan-review .plan", has_text="Stretch after breakfast")
        await expect(review).to_be_visible()
        await review.get_by_label("Partly").check()
        await review.get_by_label("How it went (optional)").fill("Four days out of seven")
        await review.get_by_label("Share how it went with the group").check()
        await review.get_by_role("button", name="Save").click()
        await expect(review).to_be_hidden()
        await expect(
            ann.locator("#journey-plans .plan-review", has_text="Partly: Four days out of seven")
        ).to_be_visible()
        plans = (await ann_api.ok("GET", "/plans"))["plans"]
        assert plans[0]["review"]["status"] == "partly" and plans[0]["review"]["shared"] is True


async def put_cards(server: Running, room: str, sub: str, sessions: dict[int, tuple[int, int]]) -> None:
    """Check-in and check-out cards of past sessions, as the store keeps them."""
    for session, (start, end) in sessions.items():
        for kind, value in ((CardKind.IN, start), (CardKind.OUT, end)):
            card = CheckIn(session=session, kind=kind, pain=value, enjoyment=value, activity=value)
            record = Record(
                kind=CHECKIN,
                id=checkin_id(session, kind, sub),
                owner=sub,
                created=time.time(),
                data=encode(card),
            )
            await server.node.journey.put(room, record)


async def test_the_journey_page_shows_my_trend_and_my_data_and_deletes_it(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group")
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        sub, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        await put_cards(server, room.id, sub, {1: (7, 6), 2: (6, 5), 3: (5, 3)})
        await ann_api.ok(
            "POST", "/plans", {"what": "Pace the housework", "confidence": 7, "shared": False}, status=201
        )
        post = await fac_api.ok(
            "POST",
            "/board",
            {"text": "Sit to chop vegetables", "tags": ["pacing"], "anonymous": False},
            status=201,
        )
        await ann_api.ok("PUT", f"/board/{post['id']}/saved")

        page = await people.open(journey_url(server, room.id, ann_token))
        assert "#k=" not in page.url and "k=" not in page.url  # the token left the address bar
        chart = page.locator("#trend svg.trend-chart")
        await expect(chart).to_be_visible()
        await expect(chart.locator("circle.trend-in")).to_have_count(3)
        await expect(chart.locator("rect.trend-out")).to_have_count(3)
        await expect(chart.locator("polyline")).to_have_count(2)
        rows = page.locator("#trend table tbody tr")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(2)).to_contain_text("Session 3")
        await expect(rows.nth(2)).to_contain_text("5.0")
        await expect(rows.nth(2)).to_contain_text("3.0")
        await expect(
            page.locator("#page-plans .plan:not(.review)", has_text="Pace the housework")
        ).to_be_visible()

        summary = page.locator("#my-data-summary")
        await expect(summary).to_contain_text("1 action plan, 6 check-in cards")
        await page.locator("#my-data summary").click()
        await expect(page.locator("#my-data-json")).to_contain_text('"Pace the housework"')
        await expect(page.locator("#toolkit-list .post")).to_have_text(
            ["Sit to chop vegetablesFacilitator · pacing"]
        )
        async with page.expect_download() as download_info:
            await page.get_by_role("button", name="Download my data").click()
        download = await download_info.value
        exported = json.loads(Path(await download.path()).read_text())
        assert [p["what"] for p in exported["plans"]] == ["Pace the housework"]
        assert len(exported["checkins"]) == 6

        await page.get_by_role("button", name="Delete my data").click()
        dialog = page.locator("#delete-data-dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Delete my data").click()
        await expect(page.locator("#my-data-status")).to_contain_text("Your data is deleted")
        await expect(summary).to_contain_text("0 action plans, 0 check-in cards, 0 posts")
        await expect(page.locator("#trend")).to_contain_text("Your trend shows here once")
        assert (await ann_api.ok("GET", "/checkins/mine"))["cards"] == []
        assert (await ann_api.ok("GET", "/plans"))["plans"] == []


async def test_the_handout_lists_pinned_posts_first_and_never_hidden_ones(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group")
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        ids = {}
        for text in ("Heat pack on the lower back", "Three slow breaths", "Something to hide"):
            ids[text] = (
                await ann_api.ok("POST", "/board", {"text": text, "tags": [], "anonymous": False}, status=201)
            )["id"]
        await fac_api.ok("PATCH", f"/board/{ids['Heat pack on the lower back']}", {"pinned": True})
        await fac_api.ok("PATCH", f"/board/{ids['Something to hide']}", {"hidden": True})

        page = await people.open(journey_url(server, room.id, room.facilitator, "?view=handout"))
        await expect(page.locator("h1")).to_have_text("Tuesday pain group: coping strategies")
        posts = page.locator(".board-list .post")
        await expect(posts).to_have_count(2)
        await expect(posts.nth(0)).to_contain_text("Heat pack on the lower back")
        await expect(posts.nth(0)).to_contain_text("Pinned")
        await expect(posts.nth(1)).to_contain_text("Three slow breaths")
        assert await page.locator("button, form").count() == 0
        assert "view=handout" in page.url and "k=" not in page.url


async def test_a_shared_link_is_asked_for_a_personal_link(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Drop-in group")
    page = await people.open(journey_url(server, room.id, room.member))
    await expect(page.locator("#journey-personal")).to_have_text(
        "Ask your facilitator for a personal link to keep your goals and check-ins."
    )
    await expect(page.locator("#my-data")).to_be_hidden()
    await expect(page.locator("#page-board")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
async def test_no_violations_on_the_journey_panel_and_page(
    start_server: StartServer, people: People, size: str
) -> None:
    width, height = SIZES[size]
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=True)
    seen: dict[str, list[dict[str, Any]]] = {}
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        sub, ann_token = await add_member(fac_api, "Ann")
        await put_cards(server, room.id, sub, {1: (7, 6), 2: (6, 5)})
        await Api(http, room.id, ann_token).ok(
            "POST", "/board", {"text": "Pacing", "tags": ["pacing"], "anonymous": True}, status=201
        )
        fran = await server.joined(room.facilitator, "Fran")
        ann = await people.open(room_url(server.base_url, room.id, ann_token), width=width, height=height)
        await join_through_screens(ann, "Ann")
        await expect(ann.locator("#lobby-checkin")).to_be_visible()
        seen["lobby with the check-in card"] = await violations(ann)
        await admit(fran, "Ann")
        await wait_in_room(ann)
        for section in ("journey-checkin", "journey-plans", "journey-board", "journey-summary"):
            await open_section(ann, section)
        await ann.locator("#journey-plan-confidence").fill("4")
        await expect(ann.locator("#journey-plan-smaller")).to_be_visible()
        await expect(ann.locator("#journey-board .post", has_text="Pacing")).to_be_visible()
        seen["room, Our group open"] = await violations(ann)
        page = await people.open(journey_url(server, room.id, ann_token), width=width, height=height)
        await expect(page.locator("#trend svg")).to_be_visible()
        seen["journey page"] = await violations(page)
        handout = await people.open(
            journey_url(server, room.id, ann_token, "?view=handout"), width=width, height=height
        )
        await expect(handout.locator(".board-list .post")).to_have_count(1)
        seen["handout"] = await violations(handout)
        if size == "phone":
            for name, shown in (("journey page", page), ("room", ann)):
                scroll = await shown.evaluate("() => document.documentElement.scrollWidth")
                assert scroll <= width, f"the {name} is {scroll} px wide on a {width} px phone"
    found = {name: v for name, v in seen.items() if v}
    assert not found, found


SHEET = [
    {"name": "Check-in round", "minutes": 10, "kind": "check_in", "floor": "circle"},
    {"name": "Review of last week's goals", "minutes": 10, "kind": "review"},
    {"name": "Goal setting", "minutes": 10, "kind": "goals"},
    {"name": "Check-out round", "minutes": 10, "kind": "check_out"},
]


async def test_the_section_that_fits_the_phase_opens_and_check_out_is_its_own_card(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False, run_sheet=SHEET)
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        fran = await server.joined(room.facilitator, "Fran")
        ann = await people.open(room_url(server.base_url, room.id, ann_token))
        await join_through_screens(ann, "Ann")
        await wait_in_room(ann)
        checkin, plans = ann.locator("#journey-checkin"), ann.locator("#journey-plans")
        await expect(checkin).not_to_have_attribute("open", "")

        await fran.ok({"type": "set_phase", "index": 0})
        await expect(checkin).to_have_attribute("open", "")
        await expect(checkin.locator("h3")).to_have_text("Check-in")
        await fran.ok({"type": "set_phase", "index": 1})
        await expect(plans).to_have_attribute("open", "")
        await expect(ann.locator("#journey-plan-review")).to_be_visible()
        await plans.locator("> summary").click()
        await fran.ok({"type": "set_phase", "index": 2})
        await expect(plans).to_have_attribute("open", "")
        await expect(ann.locator("#journey-plan-what")).to_be_visible()

        await checkin.locator("> summary").click()  # folded by hand: the next phase opens it again
        await expect(checkin).not_to_have_attribute("open", "")
        await fran.ok({"type": "set_phase", "index": 3})
        await expect(checkin).to_have_attribute("open", "")
        await expect(checkin.locator("h3")).to_have_text("Check-out")
        await fill_card(checkin, (3, 2, 2))
        await checkin.get_by_role("button", name="Save my check-in").click()
        await expect(checkin.get_by_role("status")).to_contain_text("Saved")
        cards = (await Api(http, room.id, ann_token).ok("GET", "/checkins/mine"))["cards"]
        assert [(c["kind"], c["pain"]) for c in cards] == [("out", 3)]


async def test_a_facilitator_asks_for_the_summary_and_hears_kindly_that_too_few_answered(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False)
    fran = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fran, "Fran")
    await wait_in_room(fran)
    await open_section(fran, "journey-summary")
    await expect(fran.locator("#journey-checkin")).to_be_hidden()  # no personal sub: no card of their own
    await fran.get_by_role("button", name="Show the group's check-in summary").click()
    await expect(fran.locator("#journey-summary-status")).to_contain_text(
        "Fewer than five people have answered, so the group's total stays private for now."
    )
    await expect(fran.locator("#journey-summary-list li")).to_have_count(0)


async def test_leaving_the_group_deletes_everything_and_the_link_keeps_nothing(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group")
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        await ann_api.ok("POST", "/plans", {"what": "Rest before I am tired", "confidence": 9}, status=201)
        page = await people.open(journey_url(server, room.id, ann_token))
        await expect(page.locator("#my-data-summary")).to_contain_text("1 action plan")
        await page.get_by_role("button", name="Leave the group").click()
        dialog = page.locator("#leave-group-dialog")
        await expect(dialog).to_be_visible()
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        assert len((await ann_api.ok("GET", "/plans"))["plans"]) == 1  # Cancel changed nothing
        await page.get_by_role("button", name="Leave the group").click()
        await dialog.get_by_role("button", name="Leave the group").click()
        await expect(page.locator("#my-data-status")).to_contain_text("You have left the group")
        await expect(page.locator("#page-plans")).to_be_hidden()
        # The group no longer knows her: her link keeps nothing, like a shared link.
        await ann_api.refused("GET", "/me", None, 403, "personal_link_required")
        assert (await fac_api.ok("GET", "/members"))["members"] == []


async def test_a_facilitator_moderates_the_board(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False)
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, ann_token)
        text = "Ice, then heat, on a bad knee day"
        await ann_api.ok("POST", "/board", {"text": text, "tags": ["pacing"], "anonymous": True}, status=201)
        fran = await people.open(room_url(server.base_url, room.id, room.facilitator))
        await join_through_screens(fran, "Fran")
        await wait_in_room(fran)
        await open_section(fran, "journey-board")
        post = fran.locator("#journey-board .post", has_text=text)
        await expect(post.locator(".post-meta")).to_contain_text("Anonymous (written by Ann) · pacing")

        await post.get_by_role("button", name=f"Pin: {text}").click()
        post = fran.locator("#journey-board .post", has_text=text)
        await expect(post.locator(".post-badge")).to_have_text("Pinned")
        await post.locator(".post-retag > summary").click()
        await post.get_by_role("group", name=f"Tags of: {text}").get_by_label("flare-ups").check()
        await post.get_by_role("button", name="Save the tags").click()
        post = fran.locator("#journey-board .post", has_text=text)
        await expect(post.locator(".post-meta")).to_contain_text("pacing, flare-ups")
        await post.get_by_role("button", name=f"Hide from the group: {text}").click()
        post = fran.locator("#journey-board .post", has_text=text)
        await expect(post).to_contain_text("Hidden from the group")
        assert (await ann_api.ok("GET", "/board"))["posts"] == []  # the group no longer sees it
        stored = (await fac_api.ok("GET", "/board"))["posts"][0]
        assert stored["pinned"] and stored["hidden"] and stored["tags"] == ["pacing", "flare-ups"]
        await post.get_by_role("button", name=f"Delete: {text}").click()
        await expect(fran.locator("#journey-board .post")).to_have_count(0)
        assert (await fac_api.ok("GET", "/board"))["posts"] == []

        # Plans: a facilitator's link keeps none of its own, and sees every member's (see_plans).
        await ann_api.ok(
            "POST", "/plans", {"what": "Rest for ten minutes at noon", "confidence": 6}, status=201
        )
        await open_section(fran, "journey-plans")
        plan = fran.locator("#journey-plans .plan", has_text="Rest for ten minutes at noon")
        await expect(plan).to_be_visible()
        await expect(plan.locator(".plan-owner")).to_have_text("Ann")
        await expect(fran.locator("#journey-plan-what")).to_be_hidden()

"""The room's "Our group" panel in the browser (issue 14): the check-in card in the lobby, an
action plan with the "make it smaller" hint, an anonymous post another member sees live, last
week's plan to review at the next session, the section that fits the run-sheet's phase (and the
check-out card), the group summary refused kindly with too few answers, and a facilitator
moderating the board. Members get personal links through the journey API, as a facilitator's
console does."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.e2e.journey_flow import admit, fill_card, open_section
from tests.server.conftest import StartServer
from tests.server.journey_helpers import Api, add_member


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

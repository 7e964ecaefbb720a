"""Check-ins seen by facilitators, and personal links on the join screen (issue 14): the console's
setting ``facilitators_see_checkins`` (the member's card follows it live), the individual cards in
the panel's group section for facilitators where it is on (and nothing asked where it is off),
and the join screen of a personal link (the name from the link, "Our group between sessions")."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.e2e.conftest import People, in_room, room_url
from tests.e2e.journey_flow import open_section
from tests.server.conftest import StartServer
from tests.server.journey_helpers import Api, add_member

FACILITATORS_SEE = "Facilitators see each member's check-in card (for therapist-led groups)"


async def test_the_console_turns_on_facilitators_seeing_cards_and_the_members_card_says_so_at_once(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False)
    async with server.http() as http:
        _, ann_token = await add_member(Api(http, room.id, room.facilitator), "Ann")
        fran = await in_room(people, server, room.id, room.facilitator, "Fran")
        ann = await in_room(people, server, room.id, ann_token, "Ann")
        await open_section(ann, "journey-checkin")
        who = ann.locator("#journey-checkin-who")
        await expect(who).to_contain_text("Only you, and the group's total once five people have answered")

        box = fran.get_by_label(FACILITATORS_SEE)
        await expect(box).to_be_visible()
        await expect(box).not_to_be_checked()
        await expect(fran.locator("#checkins-setting-hint")).to_have_text("Each card says who can see it.")
        await box.check()
        await expect(who).to_contain_text("You and your facilitators.")
        stored = await server.node.service.directory.get(room.id)
        assert stored is not None and stored.facilitators_see_checkins is True

        await box.uncheck()
        await expect(who).to_contain_text("Only you, and the group's total")
        stored = await server.node.service.directory.get(room.id)
        assert stored is not None and stored.facilitators_see_checkins is False
        await expect(ann.get_by_label(FACILITATORS_SEE)).to_be_hidden()  # a member has no console


async def _requests_to(page: Page, path: str) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if request.url.endswith(path) else None)
    return seen


async def test_facilitators_see_this_sessions_cards_only_where_the_room_says_so(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False, facilitators_see_checkins=True)
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        _, ann_token = await add_member(fac_api, "Ann")
        _, bob_token = await add_member(fac_api, "Bob")
        fran = await in_room(people, server, room.id, room.facilitator, "Fran")
        ann_api, bob_api = Api(http, room.id, ann_token), Api(http, room.id, bob_token)
        await ann_api.ok("PUT", "/checkins/in", {"pain": 6, "enjoyment": 5, "activity": 4})
        await open_section(fran, "journey-summary")
        cards = fran.locator("#journey-cards-list li")
        await expect(cards).to_have_count(1)
        await expect(cards.first).to_have_text("Ann, check-in: pain 6, enjoyment 5, activity 4; score 5.0")

        # A card saved while the section is open shows without a click (journey_changed "checkins").
        await bob_api.ok("PUT", "/checkins/in", {"pain": 2, "enjoyment": 2, "activity": 3})
        await expect(cards).to_have_count(2)
        await expect(fran.locator("#journey-cards-list li", has_text="Bob, check-in")).to_contain_text(
            "pain 2, enjoyment 2, activity 3; score 2.3"
        )

        # A member sees no one's card.
        ann = await in_room(people, server, room.id, ann_token, "Ann")
        await open_section(ann, "journey-summary")
        await expect(ann.locator("#journey-cards")).to_be_hidden()

    # Off (the default): the page asks nothing and shows nothing.
    other = await server.create_room(title="Drop-in group", lobby=False)
    fran2 = await people.open(room_url(server.base_url, other.id, other.facilitator))
    asked = await _requests_to(fran2, f"/api/rooms/{other.id}/journey/checkins")
    await fran2.locator("#join-name").fill("Fran")
    await fran2.locator("#join-agree").check()
    await fran2.locator("#join-button").click()
    await fran2.locator("#screen-room").wait_for(state="visible")
    await open_section(fran2, "journey-summary")
    await expect(fran2.locator("#journey-summary-none")).to_be_visible()
    await expect(fran2.locator("#journey-cards")).to_be_hidden()
    assert asked == []


async def test_a_personal_link_fills_in_the_name_and_offers_the_journey_page_on_the_join_screen(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False)
    async with server.http() as http:
        _, zoe_token = await add_member(Api(http, room.id, room.facilitator), "Zoë")
    zoe = await people.open(room_url(server.base_url, room.id, zoe_token))
    await expect(zoe.locator("#join-name")).to_have_value("Zoë")
    link = zoe.locator("#screen-join").get_by_role("link", name="Our group between sessions")
    await expect(link).to_be_visible()
    await expect(link).to_have_attribute("href", f"/r/{room.id}/journey#k={zoe_token}")

    # The shared member link: no name to fill in, no journey link.
    shared = await people.open(room_url(server.base_url, room.id, room.member))
    await expect(shared.locator("#join-name")).to_have_value("")
    await expect(shared.locator("#join-journey")).to_be_hidden()

    # A malformed token leaves the field as it is (the link check then says what is wrong).
    broken = await people.open(room_url(server.base_url, room.id, "not.a-token!.x"))
    await expect(broken.locator("#join-name")).to_have_value("")
    await expect(broken.locator("#join-journey")).to_be_hidden()

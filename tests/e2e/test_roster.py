"""The console's roster (docs/journey.md, "Personal links and the roster"): a facilitator adds a
member by pseudonym and copies their personal link; the member opens it and is the same
participant each time they join."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect

from server.tokens import verify_invite
from tests.e2e.conftest import People, in_room, join_through_screens, room_url, wait_in_room
from tests.server.conftest import SECRET, StartServer, token_of


async def test_a_facilitator_adds_a_member_whose_personal_link_keeps_their_id(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fac = await in_room(people, server, room.id, room.facilitator, "Fran")
    await fac.context.grant_permissions(["clipboard-read", "clipboard-write"])
    section = fac.locator("section[data-needs='manage_members']")
    await expect(section).to_be_visible()
    await expect(fac.locator("#roster-empty")).to_be_visible()
    await fac.locator("#roster-name").fill("Robin")
    await fac.locator("#roster-add-button").click()
    await expect(fac.locator("#roster-link-text")).to_have_text(
        "Send this link to Robin privately; it is theirs alone."
    )
    await expect(fac.locator("#roster-link")).to_have_value(re.compile(r"/r/.+#k="))
    await fac.locator("#roster-copy").click()
    await expect(fac.locator("#roster-status")).to_have_text("Link copied. Send it to them privately.")
    link = await fac.evaluate("() => navigator.clipboard.readText()")
    assert link == await fac.locator("#roster-link").input_value()
    claims = verify_invite(SECRET, token_of(link))
    assert claims.sub is not None and claims.name == "Robin"
    await expect(fac.locator("#roster-list li", has_text="Robin")).to_be_visible()
    await expect(fac.locator("#roster-empty")).to_be_hidden()

    # The link names the server's public URL (port 0 in tests): open the same token here.
    robin = await people.open(room_url(server.base_url, room.id, token_of(link)))
    await join_through_screens(robin, "Robin")
    first = await wait_in_room(robin)
    await robin.close()
    again = await people.open(room_url(server.base_url, room.id, token_of(link)))
    await join_through_screens(again, "Robin")
    assert await wait_in_room(again) == first

    # A member's page has no roster.
    await expect(again.locator("section[data-needs='manage_members']")).to_be_hidden()

    # The page hears that the group's journey changed (and refetches it over HTTP).
    await again.evaluate(
        "() => { window.journeyChanged = new Promise((done) => "
        "window.hearth.client.on('journey_changed', done)); }"
    )
    async with server.http() as http:
        posted = await http.post(
            f"/api/rooms/{room.id}/journey/board",
            json={"text": "Pacing with a timer"},
            headers={"Authorization": f"Bearer {token_of(link)}"},
        )
    assert posted.status_code == 201
    heard = await asyncio.wait_for(again.evaluate("() => window.journeyChanged"), 10)
    assert heard == {"what": "board"}

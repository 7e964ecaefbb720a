"""Revoking links from the page: after a ban the console offers to rotate the member link at
once, and a facilitator can replace their own facilitator link (with a confirmation)."""

from __future__ import annotations

import re

from playwright.async_api import expect

from server.tokens import verify_invite
from tests.e2e.conftest import People, in_room
from tests.server.conftest import SECRET, Running, StartServer, token_of


async def refused(server: Running, token: str) -> None:
    client = await server.connect()
    assert (await client.join(token, "Old link"))["code"] == "unauthorized"
    assert await client.expect_close() == 4001


async def test_a_ban_offers_to_rotate_the_member_link_and_the_facilitator_link_can_be_replaced(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fac = await in_room(people, server, room.id, room.facilitator, "Fran")
    ann = await in_room(people, server, room.id, room.member, "Ann")

    await fac.locator("#people-list li", has_text="Ann").locator(".remove-ban").click()
    await fac.locator("#confirm-remove").click()  # removing asks first
    await expect(ann.locator("#screen-removed")).to_be_visible()
    dialog = fac.locator("#rotate-member-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Rotate the member link now?")
    await expect(dialog).to_contain_text("The old link stops working")
    await fac.locator("#rotate-member-now").click()
    await expect(dialog).to_be_hidden()
    member_link = fac.locator("#member-link")
    await expect(member_link).to_have_value(re.compile(r"/r/.+#k="))
    new_member = token_of(await member_link.input_value())
    assert verify_invite(SECRET, new_member).version == 2
    await refused(server, room.member)  # the link Ann had no longer opens the room

    # Replacing my own facilitator link: a confirmation, then the new link; I stay in.
    await fac.locator("#replace-facilitator-link").click()
    replace = fac.locator("#facilitator-link-dialog")
    await expect(replace).to_be_visible()
    await expect(replace).to_contain_text("Nobody is disconnected")
    await fac.locator("#confirm-facilitator-link").click()
    link = fac.locator("#facilitator-link")
    await expect(link).to_have_value(re.compile(r"/r/.+#k="))
    new_facilitator = token_of(await link.input_value())
    assert verify_invite(SECRET, new_facilitator).facilitator_version == 2
    await fac.locator("#close-facilitator-link").click()
    await refused(server, room.facilitator)
    # The page uses the new link from now on (reconnections, the member-link button).
    uses = await fac.evaluate(
        "(room) => [window.hearth.client.options.token, sessionStorage.getItem(`hearth:${room}:token`)]",
        room.id,
    )
    assert uses == [new_facilitator, new_facilitator]
    before = await member_link.input_value()
    await fac.locator("#rotate-invite").click()
    await fac.locator("#confirm-rotate-invite").click()  # replacing the shared link asks first
    await expect(fac.locator("#invite-status")).to_contain_text("New link ready")
    await expect(member_link).not_to_have_value(before)  # the status above may be the last rotation's
    assert verify_invite(SECRET, token_of(await member_link.input_value())).version == 3
    await expect(fac.locator("#screen-room")).to_be_visible()

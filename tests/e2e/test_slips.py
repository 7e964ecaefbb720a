"""What a slip or a repeat must not do (issue 13, items 2, 4, 8): Remove asks first and Cancel
keeps the person; the invite panel shows the member link already shared and asks before
replacing it; a double click on Admit shows no technical error; a replaced link is reported as
soon as the page opens, before the form is filled in."""

from __future__ import annotations

import re

from playwright.async_api import expect

from server.tokens import verify_invite
from tests.e2e.conftest import People, in_room, join_through_screens, room_url, wait_in_room
from tests.server.conftest import SECRET, StartServer, token_of


async def test_remove_asks_first_and_cancel_keeps_the_person(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fac = await in_room(people, server, room.id, room.facilitator, "Fran")
    ann = await in_room(people, server, room.id, room.member, "Ann")

    row = fac.locator("#people-list li", has_text="Ann")
    await row.locator("button.remove").click()
    dialog = fac.locator("#remove-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("Remove Ann from the session?")
    await expect(fac.locator("#cancel-remove")).to_be_focused()
    await fac.keyboard.press("Enter")  # the focused Cancel: a slip of the keyboard keeps Ann
    await expect(dialog).to_be_hidden()
    await expect(ann.locator("#screen-room")).to_be_visible()
    await expect(row).to_have_count(1)

    # Remove and ban sit in their own group, apart from "Give the floor".
    removal = row.locator(".person-removal")
    await expect(removal.locator("button.remove")).to_be_visible()
    await expect(removal.locator("button.remove-ban")).to_be_visible()
    await expect(removal.locator("button.give-floor")).to_have_count(0)

    # Ban: the dialog says what happens; Escape cancels too; confirming removes.
    await row.locator("button.remove-ban").click()
    await expect(dialog).to_contain_text("Remove and ban Ann?")
    await expect(dialog).to_contain_text("cannot come back")
    await fac.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(ann.locator("#screen-room")).to_be_visible()
    await row.locator("button.remove").click()
    await fac.locator("#confirm-remove").click()
    await expect(ann.locator("#screen-removed")).to_be_visible()
    await expect(row).to_have_count(0)


async def test_the_invite_panel_shows_the_shared_link_and_asks_before_replacing_it(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    # Came by the link the CLI printed: this tab never saw the member link.
    fac = await in_room(people, server, room.id, room.facilitator, "Fran")
    member_link = fac.locator("#member-link")
    await expect(member_link).to_have_value(re.compile(rf"/r/{room.id}#k="))
    shown = token_of(await member_link.input_value())
    assert verify_invite(SECRET, shown).version == 1  # the link already shared, not a new one
    await expect(fac.locator("#rotate-invite")).to_have_text("Replace with a new link")

    await fac.locator("#rotate-invite").click()
    ask = fac.locator("#rotate-invite-dialog")
    await expect(ask).to_be_visible()
    await expect(ask).to_contain_text("stops working")
    await expect(fac.locator("#cancel-rotate-invite")).to_be_focused()
    await fac.locator("#cancel-rotate-invite").click()
    await expect(ask).to_be_hidden()
    await expect(member_link).to_have_value(re.compile(re.escape(shown)))
    ann = await people.open(room_url(server.base_url, room.id, room.member))  # the shared link still works
    await join_through_screens(ann, "Ann")
    await wait_in_room(ann)

    await fac.locator("#rotate-invite").click()
    await fac.locator("#confirm-rotate-invite").click()
    await expect(fac.locator("#invite-status")).to_contain_text("New link ready")
    assert verify_invite(SECRET, token_of(await member_link.input_value())).version == 2


async def test_a_double_click_on_admit_shows_no_technical_error(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=True)
    fac = await in_room(people, server, room.id, room.facilitator, "Fran")
    ann = await people.open(room_url(server.base_url, room.id, room.member))
    await join_through_screens(ann, "Ann")
    waiting = fac.locator("#lobby-list li", has_text="Ann")
    await waiting.locator(".admit").dblclick()
    await wait_in_room(ann)
    await expect(fac.locator("#people-list li", has_text="Ann")).to_have_count(1)
    # The second click's answer (if any was sent) has had time to come back: a ping is acked
    # after it, in order, on the same socket.
    await fac.evaluate("async () => await window.hearth.client.ping()")
    await expect(fac.locator("body")).not_to_contain_text("nobody with that id")


async def test_a_replaced_link_is_reported_when_the_page_opens(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    async with server.http() as http:
        rotated = await http.post(
            f"/api/rooms/{room.id}/invite", headers={"Authorization": f"Bearer {room.facilitator}"}
        )
        assert rotated.status_code == 200
    page = await people.open(room_url(server.base_url, room.id, room.member))
    # Nothing filled in, nothing pressed.
    await expect(page.locator("#screen-error")).to_be_visible()
    await expect(page.locator("#error-message")).to_contain_text("replaced by a newer one")
    await expect(page.locator("#screen-join")).to_be_hidden()

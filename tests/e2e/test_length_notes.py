"""Text past a limit is never cut silently (issue 13, item 10): typing up to the name's limit
says so, and a paste into the chat that does not fit says how much of it was kept."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import People, in_room, room_url
from tests.server.conftest import StartServer


async def test_typing_to_the_name_limit_says_so(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    page = await people.open(room_url(server.base_url, room.id, room.member))
    name = page.locator("#join-name")
    limit = int(await name.get_attribute("maxlength") or 0)
    assert limit > 10
    await name.press_sequentially("A" * (limit - 10))
    note = page.locator("#join-name-length-note")
    await expect(note).to_be_hidden()
    await name.press_sequentially("B" * 9)
    await expect(note).to_have_text("1 character left.")
    await name.press_sequentially("CDE")
    await expect(name).to_have_value("A" * (limit - 10) + "B" * 9 + "C")
    await expect(note).to_have_text(f"That's the limit: {limit} characters.")
    described = await name.get_attribute("aria-describedby") or ""
    assert "join-name-length-note" in described.split() and "name-hint" in described.split()
    for _ in range(3):
        await name.press("Backspace")
    await expect(note).to_have_text("3 characters left.")
    while len(await name.input_value()) >= limit * 0.9:
        await name.press("Backspace")
    await expect(note).to_be_hidden()


async def test_a_paste_that_does_not_fit_in_the_chat_says_how_much_was_kept(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    page = await in_room(people, server, room.id, room.facilitator, "Fran")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    box = page.locator("#chat-input")
    limit = await box.evaluate("b => b.maxLength")
    assert limit > 100
    await box.fill("Hello ")
    await page.evaluate("t => navigator.clipboard.writeText(t)", "x" * 2500)
    await box.focus()
    await page.keyboard.press("Control+V")
    await expect(box).to_have_value("Hello " + "x" * (limit - 6))
    note = page.locator("#chat-input-length-note")
    kept = f"{limit - 6:,}"
    await expect(note).to_have_text(
        f"Only the first {kept} characters of what you pasted fit: the limit is {limit:,} characters."
    )
    await page.locator("#chat-send").click()
    await expect(box).to_have_value("")
    await expect(note).to_be_hidden()

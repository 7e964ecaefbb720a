"""Paged chat in a real browser: the room shows the newest messages, and "Show earlier messages"
brings the older ones a page at a time (welcome carries only the recent part)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.server.conftest import StartServer


async def test_show_earlier_messages_pages_back_through_the_chat(
    start_server: StartServer, people: People
) -> None:
    server = await start_server(chat_page=3)
    room, _fac, (ann,) = await server.live_room("Ann")
    for n in range(7):
        await ann.ok({"type": "chat", "text": f"message {n}"}, ref=f"c{n}")
    page = await people.open(room_url(server.base_url, room.id, room.member))
    await join_through_screens(page, "Bo")
    await wait_in_room(page)
    texts = page.locator("#chat-log .chat-text")
    earlier = page.locator("#chat-earlier")
    await expect(texts).to_have_text(["message 4", "message 5", "message 6"])
    await expect(earlier).to_be_visible()
    await earlier.click()
    await expect(texts).to_have_count(6)
    await earlier.click()
    await expect(texts).to_have_text([f"message {n}" for n in range(7)])
    await expect(earlier).to_be_hidden()
    await ann.ok({"type": "chat", "text": "a new one"}, ref="new")
    await expect(texts.last).to_have_text("a new one")


async def test_the_page_takes_its_limits_from_the_server(start_server: StartServer, people: People) -> None:
    """The chat box, the private message and the turn timer take their bounds from
    ``welcome.limits`` and the join form its name length from the same limits: change a setting,
    see it on the page (nothing is written into the HTML or the JavaScript)."""
    server = await start_server(max_chat_chars=123, max_name_chars=17)
    room = await server.create_room(lobby=False)
    page = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await expect(page.locator("#join-name")).to_have_attribute("maxlength", "17")
    await join_through_screens(page, "Fran")
    await wait_in_room(page)
    for box in ("#chat-input", "#help-message"):
        assert await page.locator(box).evaluate("(el) => el.maxLength") == 123
    turn = page.locator("#turn-seconds")
    await expect(turn).to_have_attribute("min", "10")
    await expect(turn).to_have_attribute("max", "3600")
    await page.locator("#chat-input").fill("x" * 200)  # the browser keeps it to the limit
    assert len(await page.locator("#chat-input").input_value()) == 123

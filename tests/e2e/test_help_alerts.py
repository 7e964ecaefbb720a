""" "Need help now?" must be impossible to miss (issue 13, item 1): a member asks, the facilitators
see a distinct alert box with who, when and the words, still there after a reload; "Reply
privately" writes to that member only; "I'm on it" closes it for both facilitators and tells the
member; on a phone the alert shows without opening the facilitator tools."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.e2e.conftest import People, in_room, join_through_screens, room_url, wait_in_room
from tests.server.conftest import Running, StartServer


async def ask_for_help(page: Page, text: str) -> None:
    await page.locator("#help-button").click()
    await page.locator("#help-message").fill(text)
    await page.locator("#help-send").click()


async def phone_in_room(people: People, server: Running, room_id: str, token: str, name: str) -> Page:
    page = await people.open(room_url(server.base_url, room_id, token), width=390, height=844)
    await join_through_screens(page, name)
    await wait_in_room(page)
    return page


async def test_a_help_request_is_an_alert_that_survives_a_reload_and_is_answered(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await in_room(people, server, room.id, room.facilitator, "Fran")
    cleo = await in_room(people, server, room.id, room.facilitator, "Cleo")
    ann = await in_room(people, server, room.id, room.member, "Ann")
    ben = await in_room(people, server, room.id, room.member, "Ben")

    await ask_for_help(ann, "I am having a really hard time")
    await expect(ann.locator("#help-status")).to_have_text("Sent. A facilitator has been alerted.")

    for helper in (fran, cleo):
        box = helper.locator("#help-alerts")
        await expect(box).to_be_visible()
        await expect(box.locator("h2")).to_have_text("Needs help now")
        alert = box.locator(".help-alert", has_text="Ann")
        await expect(alert.locator(".help-alert-tag")).to_have_text("Needs help now")
        await expect(alert.locator(".help-alert-text")).to_have_text("I am having a really hard time")
        await expect(alert.locator(".help-alert-when")).to_have_text(re.compile(r"^asked just now \(\d"))
        await expect(helper.locator("#help-alert-live")).to_contain_text("Ann needs help now")
    await expect(ben.locator("#help-alerts")).to_be_hidden()
    await expect(ben.locator(".chat-message")).to_have_count(0)

    # A reload: the alert comes back with the welcome.
    await fran.reload()
    await join_through_screens(fran, "Fran")
    await wait_in_room(fran)
    alert = fran.locator("#help-alerts .help-alert", has_text="Ann")
    await expect(alert.locator(".help-alert-text")).to_have_text("I am having a really hard time")

    # Reply privately: the chat writes to Ann only, and says so.
    await alert.get_by_role("button", name="Reply privately to Ann").click()
    await expect(fran.locator("#chat-audience-text")).to_have_text("To Ann only")
    await expect(fran.locator("#chat-input")).to_be_focused()
    await fran.locator("#chat-input").fill("I'm here with you, Ann. Shall we talk?")
    await fran.locator("#chat-send").click()
    reply = "I'm here with you, Ann. Shall we talk?"
    got = ann.locator(".chat-message", has_text=reply)
    await expect(got.locator(".chat-private-tag")).to_have_text("Private reply from the facilitator")
    await expect(fran.locator(".chat-message", has_text=reply).locator(".chat-private-tag")).to_have_text(
        "Private, to Ann"
    )
    await expect(cleo.locator(".chat-message", has_text=reply)).to_have_count(1)
    await ben.locator("#chat-input").fill("hello all")
    await ben.locator("#chat-send").click()  # Ben's own line arrives after the reply was sent
    await expect(ann.locator(".chat-message", has_text="hello all")).to_have_count(1)
    await expect(ben.locator(".chat-message", has_text=reply)).to_have_count(0)
    await expect(ben.locator(".chat-message")).to_have_count(1)

    # I'm on it: closed for both facilitators, the other one sees who took it, Ann is told.
    await (
        cleo.locator("#help-alerts .help-alert", has_text="Ann")
        .get_by_role("button", name="I'm on it")
        .click()
    )
    await expect(fran.locator("#help-alerts")).to_be_hidden()
    await expect(cleo.locator("#help-alerts")).to_be_hidden()
    await expect(fran.locator("#toast")).to_contain_text("Cleo is on it")
    await expect(ann.locator("#help-status")).to_have_text("A facilitator is on it.")


async def test_on_a_phone_the_alert_shows_without_opening_the_tools(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await phone_in_room(people, server, room.id, room.facilitator, "Fran")
    ann = await phone_in_room(people, server, room.id, room.member, "Ann")
    await expect(fran.locator("#console-toggle")).to_have_attribute("aria-expanded", "false")
    await ask_for_help(ann, "please help")
    alert = fran.locator("#help-alerts .help-alert", has_text="Ann")
    await expect(alert).to_be_visible()
    await expect(alert).to_be_in_viewport()
    await expect(alert.get_by_role("button", name="I'm on it")).to_be_in_viewport()
    await expect(fran.locator("#console-toggle")).to_have_attribute("aria-expanded", "false")

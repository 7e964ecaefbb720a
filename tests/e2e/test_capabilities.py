"""The page shows and hides by the capabilities the server grants (``welcome.capabilities``),
never by role name: with the table changed (members may mute and remove chat messages,
facilitators may not end the session), the pages change with it (docs/protocol.md §1.7.1)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from rooms.model import Role
from rooms.permissions import CAPABILITIES, Capability
from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.polling import eventually
from tests.server.conftest import StartServer


async def hidden(page: Page, element_id: str) -> bool:
    """Whether the element or the console around it is hidden (by the page, not by layout)."""
    return bool(
        await page.evaluate(
            "(id) => { const el = document.getElementById(id); return Boolean(el.closest('[hidden]')); }",
            element_id,
        )
    )


async def shown(page: Page, element_id: str) -> bool:
    return not await hidden(page, element_id)


async def test_the_page_shows_what_the_capabilities_allow(
    start_server: StartServer, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = CAPABILITIES[Role.MEMBER] | {Capability.MUTE_OTHERS, Capability.MODERATE_CHAT}
    monkeypatch.setitem(CAPABILITIES, Role.MEMBER, member)
    facilitator = CAPABILITIES[Role.FACILITATOR] - {Capability.END_SESSION}
    monkeypatch.setitem(CAPABILITIES, Role.FACILITATOR, facilitator)
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    fran_id = await wait_in_room(fac)
    pages: dict[str, Page] = {}
    ids: dict[str, str] = {}
    for name in ("Ann", "Bob"):
        pages[name] = await people.open(room_url(server.base_url, room.id, room.member))
        await join_through_screens(pages[name], name)
        ids[name] = await wait_in_room(pages[name])
    ann = pages["Ann"]

    # Ann may mute others: the console shows "Mute all" and nothing she may not use.
    await eventually(lambda: shown(ann, "mute-all"), "Ann's console to offer Mute all")
    for other in ("end-session", "lock-room", "next-floor", "admit-all", "show-invite", "speaking-balance"):
        assert await hidden(ann, other), other
    # In her people list: Mute for Bob, not for Fran (facilitators are protected), no Remove.
    bob_row = ann.locator(f"#people-list li[data-participant-id='{ids['Bob']}']")
    await expect(bob_row.locator("button.mute")).to_have_count(1)
    await expect(bob_row.locator("button.remove")).to_have_count(0)
    fran_row = ann.locator(f"#people-list li[data-participant-id='{fran_id}']")
    await expect(fran_row.locator("button.mute")).to_have_count(0)
    await bob_row.locator("button.mute").click()
    await eventually(lambda: _muted(pages["Bob"]), "Bob to be muted by Ann's click")

    # Ann may remove chat messages: the button is there, and it works for everyone.
    await fac.locator("#chat-input").fill("Welcome, everyone")
    await fac.locator("#chat-send").click()
    message = ann.locator("#chat-log .chat-message", has_text="Welcome, everyone")
    await message.locator(".delete-message").click()
    await expect(pages["Bob"].locator("#chat-log .chat-message.deleted")).to_have_count(1)

    # Fran has the console, but not "End the session".
    assert not await hidden(fac, "lock-room")
    assert await hidden(fac, "end-session")


async def _muted(page: Page) -> bool:
    return bool(await page.evaluate("() => window.hearth.client.state.you.muted_by_facilitator"))

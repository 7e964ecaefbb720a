"""What a person sees where (issue 13, items 3, 5, 6, 7): roles as badges apart from names, a
phone member who joins without scrolling, a phone facilitator who sees who waits and who speaks
at once, a desktop facilitator whose own controls and chat stay above the fold while the invite
link shows, a visible prompt to switch the microphone on, tiles in a stable order, a floor-mode
select whose words fit, reactions with words, and the chat saying where the next message goes.

Positions are read with getBoundingClientRect at the top of the page (no scrolling), in the
viewport sizes of the issue: a phone 390x844 and a desktop 1280x800."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import People, in_room, join_through_screens, room_url, wait_in_room
from tests.server.conftest import StartServer

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
IN_VIEW_ON_DESKTOP = (
    "#member-link",
    "#copy-invite",
    "#toggle-mic",
    "#mute-all",
    "#lock-room",
    "#end-session",
    "#chat-input",
    "#chat-send",
)
LONG_AGREEMENT = "\n".join(
    f"{n}. What is said in the group stays in the group; we listen without fixing or judging."
    for n in range(1, 16)
)


async def box(page: Page, selector: str) -> dict[str, float]:
    """The element's box relative to the top of the page as first shown (scrolled to the top)."""
    found: dict[str, float] | None = await page.evaluate(
        """(selector) => {
          window.scrollTo(0, 0);
          const node = document.querySelector(selector);
          if (!node) return null;
          const r = node.getBoundingClientRect();
          return { top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, left: r.left,
                   right: r.right, width: r.width, height: r.height };
        }""",
        selector,
    )
    assert found is not None, f"{selector} is missing"
    return found


async def in_first_screen(page: Page, selector: str) -> None:
    """The element is shown, whole, without scrolling."""
    await expect(page.locator(selector).first).to_be_visible()
    height = page.viewport_size["height"] if page.viewport_size else 0
    where = await box(page, selector)
    assert where["height"] > 0 and where["top"] >= 0, (selector, where)
    assert where["bottom"] <= height, f"{selector} ends at {where['bottom']:.0f} px, below {height}"


@pytest.mark.parametrize("size", SIZES)
async def test_roles_are_badges_apart_from_names(
    start_server: StartServer, people: People, size: str
) -> None:
    width, height = SIZES[size]
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await server.joined(room.facilitator, "Fran")  # a socket is enough for the others
    page = await people.open(room_url(server.base_url, room.id, room.member), width=width, height=height)
    await join_through_screens(page, "Ann")
    await wait_in_room(page)

    fran_row = page.locator("#people-list li", has_text="Fran")
    await expect(fran_row.locator(".person-name")).to_have_text("Fran")  # the name, nothing added
    badge = fran_row.locator(".role-badge")
    await expect(badge).to_be_visible()
    await expect(badge).to_have_text("Role: Facilitator")  # "Role:" is for screen readers only
    await expect(badge.locator(".visually-hidden")).to_have_text("Role:")
    ann_row = page.locator("#people-list li", has_text="Ann")
    await expect(ann_row.locator(".person-name")).to_have_text("Ann (you)")
    await expect(ann_row.locator(".role-badge")).to_have_count(0)

    fran_tile = page.locator(f'#tiles .tile[data-participant-id="{fran.id}"]')
    await expect(fran_tile.locator(".role-badge")).to_be_visible()
    await expect(fran_tile.locator(".role-badge")).to_have_text("Role: Facilitator")
    await expect(fran_tile.locator(".tile-name")).to_have_text("Fran")
    await expect(page.locator("#tiles .tile.self .role-badge")).to_have_count(0)


async def test_a_phone_member_joins_without_scrolling(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(
        title="Tuesday pain support group",
        topic="Pacing through flare-ups",
        lobby=False,
        agreement=LONG_AGREEMENT,
    )
    page = await people.open(room_url(server.base_url, room.id, room.member), width=390, height=844)
    await expect(page.locator("#screen-join")).to_be_visible()
    for selector in ("#join-title", "#join-name", "#agreement-title", "#join-agree", "#join-button"):
        await in_first_screen(page, selector)
    # The agreement scrolls inside itself; the camera check and the connection test come after
    # the form, on the screen as in reading order.
    scrolls: bool = await page.evaluate(
        "() => { const a = document.getElementById('agreement-text');"
        " return a.scrollHeight > a.clientHeight; }"
    )
    assert scrolls
    form, preview = await box(page, "#join-form"), await box(page, ".preview-card")
    assert preview["top"] >= form["bottom"], (form, preview)
    first: bool = await page.evaluate(
        """() => Boolean(document.getElementById('join-form').compareDocumentPosition(
             document.querySelector('.preview-card')) & Node.DOCUMENT_POSITION_FOLLOWING)"""
    )
    assert first
    await page.locator("#join-name").fill("Ann")
    await page.locator("#join-agree").check()
    await page.locator("#join-button").click()
    await expect(page.locator("#screen-lobby")).to_be_visible()  # no facilitator here yet


async def test_a_phone_facilitator_sees_who_waits_and_who_speaks_at_once(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=True)
    fran = await people.open(room_url(server.base_url, room.id, room.facilitator), width=390, height=844)
    await join_through_screens(fran, "Fran")
    await wait_in_room(fran)
    ann = await server.connect()
    assert (await ann.join(room.member, "Ann"))["type"] == "lobby"
    await expect(fran.locator("#lobby-list li", has_text="Ann")).to_be_visible()  # no "Show" needed
    await in_first_screen(fran, "#lobby-list .admit")
    await in_first_screen(fran, "#floor-banner")
    await in_first_screen(fran, "#mute-all")
    await in_first_screen(fran, "#next-floor")
    await fran.locator("#lobby-list .admit").click()
    await ann.recv_until("welcome")
    await expect(fran.locator("#lobby-empty")).to_be_visible()


async def test_the_invite_link_leaves_the_desktop_facilitators_controls_and_chat_in_view(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await in_room(people, server, room.id, room.facilitator, "Fran")
    # On entry (alone: the facilitator usually comes first), then with a member in the room.
    for count in (1, 2):
        if count == 2:
            await server.joined(room.member, "Ann")
        await expect(fran.locator("#tiles .tile")).to_have_count(count)
        await expect(fran.locator("#member-link")).to_be_visible()  # open on entry, with the link
        await expect(fran.locator("#member-link")).to_have_value(re.compile(rf"/r/{room.id}#k="))
        for selector in IN_VIEW_ON_DESKTOP:
            await in_first_screen(fran, selector)


async def test_a_visible_prompt_to_switch_the_microphone_on(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await server.joined(room.facilitator, "Fran")
    ann = await in_room(people, server, room.id, room.member, "Ann")
    ann_id: str = await ann.evaluate("() => window.hearth.client.state.you.id")
    prompt = ann.locator("#mic-prompt")

    async def facilitator(message: dict[str, Any]) -> None:
        answer = await fran.request(message)
        assert answer["type"] == "ack", answer

    await facilitator({"type": "set_floor", "mode": "queue"})
    await expect(ann.locator("#mic-reason")).to_contain_text("Raise your hand")
    await expect(prompt).to_be_hidden()

    await facilitator({"type": "give_floor", "target": ann_id})
    await expect(prompt).to_be_visible()
    await expect(prompt).to_contain_text("You have the floor")
    await expect(prompt).to_contain_text("microphone")
    mic, near = await box(ann, "#toggle-mic"), await box(ann, "#mic-prompt")
    assert 0 <= near["top"] - mic["bottom"] <= 120, (mic, near)  # next to the button
    await ann.locator("#toggle-mic").click()
    await expect(ann.locator("#toggle-mic")).to_have_attribute("aria-pressed", "true")
    await expect(prompt).to_be_hidden()

    # The floor moves on (the microphone goes off), comes back, and is taken back unused.
    await facilitator({"type": "end_floor"})
    await expect(ann.locator("#toggle-mic")).to_have_attribute("aria-pressed", "false")
    await expect(prompt).to_be_hidden()
    await facilitator({"type": "give_floor", "target": ann_id})
    await expect(prompt).to_be_visible()
    await facilitator({"type": "end_floor"})
    await expect(prompt).to_be_hidden()

    # Muted by a facilitator, then allowed again.
    await facilitator({"type": "set_floor", "mode": "open"})
    await facilitator({"type": "mute", "target": ann_id})
    await expect(ann.locator("#mic-reason")).to_contain_text("A facilitator muted you")
    await expect(prompt).to_be_hidden()
    await facilitator({"type": "allow_speak", "target": ann_id})
    await expect(prompt).to_be_visible()
    await expect(prompt).to_contain_text("allowed you to speak again")
    await ann.locator("#toggle-mic").click()
    await expect(prompt).to_be_hidden()


async def tile_order(page: Page) -> list[str]:
    """Participant ids of the tiles as they stand on the screen: rows top to bottom, left to right."""
    order: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('#tiles .tile')]
             .map((t) => ({ id: t.dataset.participantId, r: t.getBoundingClientRect() }))
             .sort((a, b) => Math.round(a.r.top - b.r.top) || a.r.left - b.r.left)
             .map((t) => t.id)"""
    )
    return order


async def test_tiles_keep_their_order_when_the_floor_moves(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await server.joined(room.facilitator, "Fran")
    ann = await in_room(people, server, room.id, room.member, "Ann")
    bob = await server.joined(room.member, "Bob")
    ann_id: str = await ann.evaluate("() => window.hearth.client.state.you.id")
    await expect(ann.locator("#tiles .tile")).to_have_count(3)
    assert await tile_order(ann) == [ann_id, fran.id, bob.id]  # you first, then in join order
    for message in ({"type": "set_floor", "mode": "queue"}, {"type": "give_floor", "target": bob.id}):
        assert (await fran.request(message))["type"] == "ack"
    bob_tile = ann.locator(f'#tiles .tile[data-participant-id="{bob.id}"]')
    await expect(bob_tile).to_have_class(re.compile(r"\bhas-floor\b"))
    await expect(bob_tile.locator(".badge-floor")).to_have_text("Has the floor")
    assert await tile_order(ann) == [ann_id, fran.id, bob.id]  # highlighted, not moved


@pytest.mark.parametrize("size", SIZES)
async def test_the_floor_mode_words_fit_in_their_select(
    start_server: StartServer, people: People, size: str
) -> None:
    width, height = SIZES[size]
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await people.open(room_url(server.base_url, room.id, room.facilitator), width=width, height=height)
    await join_through_screens(fran, "Fran")
    await wait_in_room(fran)
    toggle = fran.locator("#console-toggle")
    if await toggle.is_visible() and await toggle.get_attribute("aria-expanded") == "false":
        await toggle.click()
    await expect(fran.locator("#floor-mode")).to_be_visible()
    cut: list[dict[str, Any]] = await fran.evaluate(
        """() => {
          const select = document.getElementById('floor-mode');
          const style = getComputedStyle(select);
          const context = document.createElement('canvas').getContext('2d');
          context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          // the text's room: the box less its padding, borders and the arrow (about 1.5em)
          const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)
            - 1.5 * parseFloat(style.fontSize);
          return [...select.options]
            .map((o) => ({ text: o.text, width: context.measureText(o.text).width, room }))
            .filter((o) => o.width > o.room);
        }"""
    )
    assert cut == []


async def test_reactions_have_words(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    await server.joined(room.facilitator, "Fran")
    ann = await in_room(people, server, room.id, room.member, "Ann")
    buttons = ann.locator("#reactions button")
    await expect(buttons).to_have_count(6)
    words = ["Love", "Applause", "Thanks", "Hug", "Agree", "Growth"]
    for index, word in enumerate(words):
        await expect(buttons.nth(index)).to_have_attribute("title", word)
        await expect(buttons.nth(index)).to_have_attribute("aria-label", word)


async def test_the_chat_says_where_the_next_message_goes(start_server: StartServer, people: People) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await server.joined(room.facilitator, "Fran")
    ann = await in_room(people, server, room.id, room.member, "Ann")
    audience = ann.locator("#chat-audience")
    await expect(audience).to_be_hidden()
    await expect(ann.locator("#chat-send")).to_have_text("Send")
    await ann.locator("#chat-private").check()
    await expect(audience).to_be_visible()
    await expect(audience).to_contain_text("To the facilitators only")
    await ann.locator("#chat-input").fill("A hard week")
    await ann.locator("#chat-send").click()
    got = await fran.recv_until("chat")
    assert got["message"]["text"] == "A hard week" and got["message"]["private"], got
    # The choice stays after sending (a second private line must not reach the group by
    # surprise), and says so next to the box.
    await expect(ann.locator("#chat-private")).to_be_checked()
    await expect(audience).to_be_visible()
    await expect(audience).to_contain_text("To the facilitators only")
    await expect(ann.locator("#chat-send")).to_have_text("Send privately")
    await ann.locator("#chat-audience-clear").click()
    await expect(ann.locator("#chat-private")).not_to_be_checked()
    await expect(audience).to_be_hidden()
    await expect(ann.locator("#chat-send")).to_have_text("Send")

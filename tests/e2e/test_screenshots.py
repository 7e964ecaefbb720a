"""The README's screenshots, as people see them in real Chromium with a fake camera: home,
join, lobby, a facilitator's room with someone waiting, the facilitator's and a member's room,
a help alert, and on a phone (390x844) the join screen and a facilitator's room. Saved to
docs/screenshots when HEARTH_UPDATE_SCREENSHOTS=1, else to a temp dir (the test still checks
that every screen renders)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
from playwright.async_api import expect

from rooms.runsheet import TEMPLATES
from tests.e2e.conftest import People, frames_rising, join_through_screens, room_url, wait_in_room
from tests.server.conftest import StartServer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {"width": 390, "height": 844}
AGREEMENT = (
    "What is said here stays here.\n"
    "We listen without fixing, judging or giving advice unless asked.\n"
    "Speak from your own experience; passing is always fine.\n"
    "Take care of yourself: step away whenever you need to."
)
NAMES = (
    "home",
    "join",
    "lobby",
    "facilitator-waiting",
    "facilitator-room",
    "member-room",
    "help-alert",
    "phone-join",
    "phone-facilitator",
)


async def test_screens_render_and_screenshots(
    start_server: StartServer, people: People, tmp_path: Path
) -> None:
    target = SCREENSHOTS if os.environ.get("HEARTH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    server = await start_server()
    home = await people.open(server.base_url + "/")
    await expect(home.locator("#create-room")).to_be_visible()
    await home.screenshot(path=str(target / "home.png"))

    room = await server.create_room(
        title="Tuesday pain support group",
        topic="Pacing through flare-ups",
        lobby=True,
        agreement=AGREEMENT,
        crisis_text="In danger now? Call your local emergency number.",
    )
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    await wait_in_room(fac)
    ann = await people.open(room_url(server.base_url, room.id, room.member))
    await expect(ann.locator("#screen-join")).to_be_visible()
    await ann.locator("#join-name").fill("Ann")
    await ann.screenshot(path=str(target / "join.png"))
    await ann.locator("#join-agree").check()
    await ann.locator("#join-button").click()
    await expect(ann.locator("#screen-lobby")).to_be_visible()
    await ann.screenshot(path=str(target / "lobby.png"))
    waiting = fac.locator("#lobby-list li", has_text="Ann")
    await expect(waiting).to_be_visible()
    await fac.screenshot(path=str(target / "facilitator-waiting.png"))
    await waiting.locator(".admit").click()
    await wait_in_room(ann)
    await frames_rising(fac, [await ann.evaluate("() => window.hearth.client.state.you.id")])
    await fac.locator("#chat-input").fill("Welcome, Ann. Take your time.")
    await fac.locator("#chat-send").click()
    await expect(ann.locator("#chat-log .chat-text", has_text="Take your time")).to_be_visible()
    await fac.screenshot(path=str(target / "facilitator-room.png"))
    await ann.screenshot(path=str(target / "member-room.png"))

    await ann.locator("#help-button").click()
    await ann.locator("#help-message").fill("I'm not doing well today, can someone talk to me?")
    await ann.locator("#help-send").click()
    await expect(fac.locator("#help-alerts .help-alert", has_text="Ann")).to_be_visible()
    await fac.screenshot(path=str(target / "help-alert.png"))

    # On a phone: a member's join screen, and a co-facilitator's room with someone waiting.
    bob = await people.open(room_url(server.base_url, room.id, room.member), **PHONE)
    await expect(bob.locator("#screen-join")).to_be_visible()
    await bob.locator("#join-name").fill("Bob")
    await bob.screenshot(path=str(target / "phone-join.png"))
    cleo = await people.open(room_url(server.base_url, room.id, room.facilitator), **PHONE)
    await join_through_screens(cleo, "Cleo")
    await wait_in_room(cleo)
    await bob.locator("#join-agree").check()
    await bob.locator("#join-button").click()
    await expect(cleo.locator("#lobby-list li", has_text="Bob")).to_be_visible()
    await cleo.screenshot(path=str(target / "phone-facilitator.png"))
    for name in NAMES:
        assert (target / f"{name}.png").stat().st_size > 10_000, name


async def test_run_sheet_screenshot(start_server: StartServer, people: People, tmp_path: Path) -> None:
    """The run-sheet during a session (README): the phase bar everyone sees under the floor
    banner, and the facilitator's console with Next phase, their private notes and the editor."""
    target = SCREENSHOTS if os.environ.get("HEARTH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    server = await start_server()
    _label, phases = TEMPLATES["cbt_pain"]
    room = await server.create_room(
        title="Tuesday pain support group",
        topic="Pacing through flare-ups",
        lobby=False,
        agreement=AGREEMENT,
        run_sheet=msgspec.to_builtins(phases),
    )
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    await wait_in_room(fac)
    ann = await people.open(room_url(server.base_url, room.id, room.member))
    await join_through_screens(ann, "Ann")
    await wait_in_room(ann)
    await fac.locator("#phase-next").click()
    await fac.locator("#phase-next").click()
    await expect(ann.locator("#phase-name")).to_have_text(phases[1].name)
    await expect(fac.locator("#phase-notes")).to_have_text(phases[1].notes)
    await fac.locator("#runsheet-edit summary").click()
    await expect(fac.locator("#runsheet-phases > li")).to_have_count(len(phases))
    # The page down to the editor's second phase: the phase bar, the console's run-sheet (Next
    # phase, the notes) and the start of the editor, without the rest of the long list.
    bottom = await fac.evaluate(
        "() => document.querySelectorAll('#runsheet-phases > li')[1].getBoundingClientRect().bottom"
        " + window.scrollY + 16"
    )
    clip = {"x": 0, "y": 0, "width": 1280, "height": bottom}
    await fac.screenshot(path=str(target / "run-sheet.png"), full_page=True, clip=clip)
    assert (target / "run-sheet.png").stat().st_size > 10_000


JOURNEY_NAMES = ("plan-review", "board", "trend")


async def test_journey_screenshots(start_server: StartServer, people: People, tmp_path: Path) -> None:
    """The group's journey (issue 14): last week's plan to review at the next session, the
    coping-strategies board, and a member's trend chart on the between-sessions page."""
    from tests.e2e.journey_flow import admit, journey_url, open_section, put_cards
    from tests.server.journey_helpers import Api, add_member

    target = SCREENSHOTS if os.environ.get("HEARTH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    target.mkdir(parents=True, exist_ok=True)
    server = await start_server()
    room = await server.create_room(title="Tuesday pain support group", lobby=True, agreement=AGREEMENT)
    async with server.http() as http:
        fac_api = Api(http, room.id, room.facilitator)
        sub, token = await add_member(fac_api, "Ann")
        ann_api = Api(http, room.id, token)
        _, bob_token = await add_member(fac_api, "Bob")
        fran = await server.joined(room.facilitator, "Fran")  # session 1
        await ann_api.ok(
            "POST",
            "/plans",
            {
                "what": "Walk to the park",
                "how_much": "15 minutes",
                "when": "After lunch",
                "how_often": "3 days this week",
                "confidence": 8,
                "shared": True,
            },
            status=201,
        )
        bob_api = Api(http, room.id, bob_token)
        posts = (
            ("Heat pack on my lower back before I get up", ["flare-ups", "pacing"], False),
            ("Breaking the housework into 10-minute pieces, with a sit-down in between", ["pacing"], True),
            ("A short body scan when I can't sleep", ["sleep", "relaxation"], False),
        )
        made = [
            await bob_api.ok("POST", "/board", {"text": t, "tags": tags, "anonymous": anon}, status=201)
            for t, tags, anon in posts
        ]
        await fac_api.ok("PATCH", f"/board/{made[1]['id']}", {"pinned": True})
        await fran.ok({"type": "end_session"})
        await put_cards(server, room.id, sub, {1: (7, 6), 2: (7, 5), 3: (6, 5), 4: (5, 4)})

        fran = await server.joined(room.facilitator, "Fran")  # session 2
        ann = await people.open(room_url(server.base_url, room.id, token))
        await join_through_screens(ann, "Ann")
        await admit(fran, "Ann")
        await wait_in_room(ann)
        await open_section(ann, "journey-plans")
        await expect(ann.locator("#journey-plan-review .plan", has_text="Walk to the park")).to_be_visible()
        await ann.locator("#journey-plan-review").screenshot(path=str(target / "plan-review.png"))
        await ann.locator("#journey-plans > summary").click()
        await open_section(ann, "journey-board")
        await expect(ann.locator("#journey-board .post")).to_have_count(3)
        await ann.locator("#journey-panel").screenshot(path=str(target / "board.png"))

        page = await people.open(journey_url(server, room.id, token))
        await expect(page.locator("#trend svg")).to_be_visible()
        await page.locator("#page-trend").screenshot(path=str(target / "trend.png"))
    for name in JOURNEY_NAMES:
        assert (target / f"{name}.png").stat().st_size > 5_000, name

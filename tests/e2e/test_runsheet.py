"""The run-sheet in Chromium, both people on a phone (390x844): a facilitator picks the group CBT
template in the console, saves it, starts, and clicks through every phase; a member sees each
phase's name, the time left and the floor following the phase (a talking circle in the check-in
round), then "Time to move on when the group is ready" once the minutes have passed (nobody is
cut off: the phase and the floor stay), and never the facilitator's notes."""

from __future__ import annotations

from playwright.async_api import Page, expect

from rooms.runsheet import TEMPLATES
from tests.e2e.conftest import WAIT_MS, People, in_room, join_through_screens, room_url, wait_in_room
from tests.e2e.test_accessibility import violations
from tests.server.conftest import Running, StartServer

PHONE = {"width": 390, "height": 844}
BANNER = {
    "circle": "Talking circle: waiting for the next turn",
    "queue": "Nobody has the floor",
    "open": "Open floor: anyone may speak",
}


async def member_with_a_clock(people: People, server: Running, room_id: str, token: str) -> Page:
    """A member on a phone whose page clock the test can move forward (Playwright's clock: time
    flows as usual until the test jumps it)."""
    context = await people.browser.new_context(
        viewport={"width": PHONE["width"], "height": PHONE["height"]}, permissions=["camera", "microphone"]
    )
    people.contexts.append(context)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda exc: people.errors.append(f"member: {exc}"))
    await page.clock.install()
    await page.goto(room_url(server.base_url, room_id, token))
    await join_through_screens(page, "Ann")
    await wait_in_room(page)
    return page


async def test_a_facilitator_runs_a_session_through_the_cbt_template(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday pain group", lobby=False)
    fran = await in_room(people, server, room.id, room.facilitator, "Fran")
    await fran.set_viewport_size(PHONE)
    ann = await member_with_a_clock(people, server, room.id, room.member)
    await expect(ann.locator("#phase-bar")).to_be_hidden()

    # The console is folded on a phone: Start shows at once, the editor after "Show all".
    await expect(fran.locator("#phase-next")).to_be_visible()
    await expect(fran.locator("#phase-next")).to_be_disabled()  # no run-sheet yet
    await fran.locator("#console-toggle").click()
    await fran.locator("#runsheet-edit summary").click()
    await expect(fran.locator("#runsheet-template option[value=cbt_pain]")).to_be_attached()
    await fran.locator("#runsheet-template").select_option("cbt_pain")
    await fran.locator("#runsheet-use-template").click()
    label, phases = TEMPLATES["cbt_pain"]
    await expect(fran.locator("#runsheet-phases > li")).to_have_count(len(phases))
    await expect(fran.locator("#runsheet-phases .phase-name").first).to_have_value(phases[0].name)
    await fran.locator("#runsheet-save").click()
    await expect(fran.locator("#runsheet-now")).to_contain_text(f"{len(phases)} phases ready")
    await expect(fran.locator("#phase-next")).to_have_text("Start")

    mode = "open"
    for index, phase in enumerate(phases):
        await fran.locator("#phase-next").click()
        mode = phase.floor or mode
        await expect(ann.locator("#phase-name")).to_have_text(phase.name)
        await expect(ann.locator("#phase-step")).to_have_text(f"Session phase {index + 1} of {len(phases)}")
        await expect(ann.locator("#phase-time")).to_have_text(f"about {phase.minutes} min left")
        await expect(ann.locator("#floor-banner")).to_contain_text(BANNER[mode])
        # The facilitator alone reads the notes of the phase under way.
        await expect(fran.locator("#phase-notes")).to_have_text(phase.notes)
        await expect(ann.locator("#phase-notes-box")).to_be_hidden()
        if index == 0:
            order = await ann.evaluate("() => window.hearth.client.state.floor.order")
            assert order == [await ann.evaluate("() => window.hearth.client.state.you.id")]
            # axe-core on both, the editor open and the phase bar showing.
            assert await violations(fran) == []
            assert await violations(ann) == []
    await expect(fran.locator("#phase-next")).to_have_text("Finish the run-sheet")

    # The last phase's minutes pass: a gentle word, and nothing else changes.
    await ann.clock.fast_forward(f"{phases[-1].minutes + 1}:00")
    await expect(ann.locator("#phase-time")).to_have_text("Time to move on when the group is ready")
    await expect(ann.locator("#phase-name")).to_have_text(phases[-1].name)
    await expect(ann.locator("#floor-banner")).to_contain_text(BANNER["circle"])

    assert await ann.evaluate("() => window.hearth.client.state.script") == []
    html = await ann.content()
    assert all(p.notes not in html for p in phases)

    await fran.locator("#phase-next").click()
    await expect(ann.locator("#phase-bar")).to_be_hidden()
    await expect(fran.locator("#phase-next")).to_have_text("Start")
    assert label

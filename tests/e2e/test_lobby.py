"""The lobby in a real browser: a facilitator turns everyone away at once ("Turn everyone
away", ``deny_all``), and a wait that ran out (``lobby`` ``timed_out``) says why."""

from __future__ import annotations

from playwright.async_api import expect

from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.server.conftest import StartServer


async def test_a_facilitator_turns_everyone_away(start_server: StartServer, people: People) -> None:
    server = await start_server(lobby_wait_seconds=600)
    room = await server.create_room(lobby=True)
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    await wait_in_room(fac)
    waiting = []
    for name in ("Ann", "Bob"):
        page = await people.open(room_url(server.base_url, room.id, room.member))
        await join_through_screens(page, name)
        await expect(page.locator("#screen-lobby")).to_be_visible()
        waiting.append(page)
    await expect(fac.locator("#lobby-list li")).to_have_count(2)
    await fac.locator("#deny-all").click()
    for page in waiting:
        await expect(page.locator("#error-title")).to_have_text("You were not let in this time")
    await expect(fac.locator("#lobby-list li")).to_have_count(0)
    await expect(fac.locator("#deny-all")).to_be_hidden()


async def test_a_wait_that_ran_out_says_why(start_server: StartServer, people: People) -> None:
    server = await start_server(lobby_wait_seconds=1)
    room = await server.create_room(lobby=True)
    ann = await people.open(room_url(server.base_url, room.id, room.member))
    await join_through_screens(ann, "Ann")
    await expect(ann.locator("#error-title")).to_have_text("You waited a long time", timeout=15_000)
    await expect(ann.locator("#error-message")).to_contain_text("try again")

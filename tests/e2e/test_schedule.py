"""A group's schedule in the browser: a facilitator sets a weekly schedule in the console; a
member's join screen then shows the next session, and "Add to calendar" downloads an .ics file
with the sessions as VEVENTs (fetched with the member's link)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.conftest import People, in_room, room_url
from tests.polling import eventually
from tests.server.conftest import StartServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_a_facilitator_sets_a_schedule_and_a_member_adds_it_to_their_calendar(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Tuesday group", lobby=False)
    fran = await in_room(people, server, room.id, room.facilitator, "Fran")
    # A room without a schedule: the form starts from the browser's own time zone.
    zone = await fran.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone")
    await expect(fran.locator("#schedule-timezone")).to_have_value(zone)
    await fran.locator("#schedule-weekday").select_option("1")
    await fran.locator("#schedule-time").fill("18:00")
    await fran.locator("#schedule-timezone").fill("Europe/London")
    await fran.locator("#schedule-minutes").fill("75")
    await fran.locator("#apply-schedule").click()

    async def saved() -> object:
        return (await server.node.service.current_config(room.id)).schedule

    schedule = await eventually(saved, "the schedule saved through the room API")
    assert (schedule.weekday, schedule.time, schedule.timezone, schedule.minutes) == (
        1,
        "18:00",
        "Europe/London",
        75,
    )

    # A wrong time zone: the server's message, and nothing changes.
    await fran.locator("#schedule-timezone").fill("Europe/Londn")
    await fran.locator("#apply-schedule").click()
    await expect(fran.locator("#toast")).to_contain_text("unknown time zone")

    ann = await people.open(room_url(server.base_url, room.id, room.member))
    next_session = ann.locator("#join-next-session")
    await expect(next_session).to_have_text(
        re.compile(r"^Next session: Tue \d{1,2} [A-Z][a-z]{2}, 18:00 \(Europe/London\)$")
    )
    async with ann.expect_download() as started:
        await ann.locator("#add-to-calendar").click()
    download = await started.value
    assert download.suggested_filename == "Tuesday-group.ics"
    text = Path(await download.path()).read_bytes().decode()  # no newline translation: CRLF kept
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 12
    assert "SUMMARY:Tuesday group (Hearth)" in text
    assert room.member not in text and "Ann" not in text and "Fran" not in text

"""Floor-aware quality: in a room of more than 4, only the floor holder sends full video."""

from __future__ import annotations

from playwright.async_api import Page

from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.polling import eventually
from tests.server.conftest import StartServer


async def video_limit(page: Page) -> int | None:
    """The bitrate cap on this page's video senders (None: unlimited), once it has senders."""
    stats = await page.evaluate("async () => await window.hearth.mesh.outboundStats()")
    limit: int | None = stats["videoMaxBitrate"] if stats["videoSenders"] else -1
    return limit


async def test_only_the_floor_holder_sends_full_video_in_a_room_of_five(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(title="Big group", lobby=False)
    pages: dict[str, Page] = {}
    ids: dict[str, str] = {}
    for name, token in (("Fran", room.facilitator), ("Ann", room.member), ("Bob", room.member)):
        page = await people.open(room_url(server.base_url, room.id, token))
        await join_through_screens(page, name)
        ids[name] = await wait_in_room(page)
        pages[name] = page

    async def limits_are(expected: dict[str, int | None]) -> bool:
        return all([await video_limit(pages[name]) == value for name, value in expected.items()])

    # Three people: everyone sends full video.
    await eventually(lambda: limits_are({"Ann": None, "Bob": None}), "full video in a small room")
    # Two more participants (plain websocket clients) make five: reduced for all but the holder.
    await server.joined(room.member, "Cleo")
    await server.joined(room.member, "Dev")
    await eventually(
        lambda: limits_are({"Fran": 150_000, "Ann": 150_000, "Bob": 150_000}),
        "reduced video for everyone without the floor",
    )
    await pages["Fran"].locator(f'#people-list li[data-participant-id="{ids["Ann"]}"] .give-floor').click()
    await eventually(lambda: limits_are({"Ann": None, "Bob": 150_000}), "full video for the holder only")

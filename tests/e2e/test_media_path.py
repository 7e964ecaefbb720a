"""The page says which path media takes: on the join screen and in the room, for a mesh room,
an sfu room with a media server configured, and an sfu room on a server without one (where
only facilitators read why video goes directly); the console's setting applies from the next
session. No Janus runs here: the server only resolves the path from its settings."""

from __future__ import annotations

from playwright.async_api import Page, expect

from rooms.model import MediaMode
from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.server.conftest import Running, StartServer

MESH = "Video goes directly between members' devices."
SFU = "Video passes through the group's media server, which never records."
NOT_SET_UP = "none is set up on this server"
JANUS = {"janus_urls": "ws://127.0.0.1:9", "janus_secret": "janus-test-secret"}


async def open_join(people: People, server: Running, room_id: str, token: str) -> Page:
    page = await people.open(room_url(server.base_url, room_id, token))
    await expect(page.locator("#screen-join")).to_be_visible()
    return page


async def enter(page: Page, name: str) -> None:
    await join_through_screens(page, name)
    await wait_in_room(page)


async def test_a_mesh_room_and_an_sfu_room_without_a_media_server(
    start_server: StartServer, people: People
) -> None:
    server = await start_server()
    room = await server.create_room(lobby=False, media="mesh")
    fac = await open_join(people, server, room.id, room.facilitator)
    await expect(fac.locator("#join-media")).to_have_text(MESH)
    await enter(fac, "Fran")
    await expect(fac.locator("#room-media")).to_have_text(MESH)

    # The room asks for the media server; this server has none: video goes directly, and only
    # the facilitator reads why.
    wanted = await server.create_room(lobby=False, media="sfu")
    fac2 = await open_join(people, server, wanted.id, wanted.facilitator)
    await expect(fac2.locator("#join-media")).to_contain_text(MESH)
    await expect(fac2.locator("#join-media")).to_contain_text(NOT_SET_UP)
    await enter(fac2, "Fran")
    await expect(fac2.locator("#room-media")).to_contain_text(MESH)
    await expect(fac2.locator("#room-media")).to_contain_text(NOT_SET_UP)
    ann = await open_join(people, server, wanted.id, wanted.member)
    await expect(ann.locator("#join-media")).to_have_text(MESH)
    await enter(ann, "Ann")
    await expect(ann.locator("#room-media")).to_have_text(MESH)


async def test_an_sfu_room_says_so_and_a_change_waits_for_the_next_session(
    start_server: StartServer, people: People
) -> None:
    server = await start_server(**JANUS)
    room = await server.create_room(lobby=False, media="sfu")
    fac = await open_join(people, server, room.id, room.facilitator)
    await expect(fac.locator("#join-media")).to_have_text(SFU)
    await enter(fac, "Fran")
    await expect(fac.locator("#room-media")).to_have_text(SFU)

    # The facilitator switches the room to the mesh: it is saved, for the next session.
    await fac.locator("#media-setting").select_option("mesh")
    await fac.locator("#apply-media").click()
    await expect(fac.locator("#toast")).to_contain_text("applies from the next session")
    config = await server.node.service.current_config(room.id)
    assert config.media is MediaMode.MESH
    await expect(fac.locator("#room-media")).to_have_text(SFU)  # this session keeps its path

    # Someone arriving now joins this session: the join screen and the room say the media
    # server, not what the setting would choose for a new session.
    ann = await open_join(people, server, room.id, room.member)
    await expect(ann.locator("#join-media")).to_have_text(SFU)
    await enter(ann, "Ann")
    await expect(ann.locator("#room-media")).to_have_text(SFU)

"""The media path through a real server: the room's ``media`` setting, the path each session
takes (``welcome.media``/``snapshot.media``), fixed for the session and changed from the next."""

from __future__ import annotations

import json
from typing import Any

from tests.server.conftest import Client, Room, Running, StartServer

# Nothing listens there: the server only resolves the path; no Janus is contacted by these tests.
JANUS = {"janus_urls": "ws://127.0.0.1:9", "janus_secret": "janus-test-secret"}


async def patch(server: Running, room: Room, body: dict[str, Any]) -> Any:
    async with server.http() as http:
        return await http.patch(
            f"/api/rooms/{room.id}", json=body, headers={"Authorization": f"Bearer {room.facilitator}"}
        )


def media_of(view: dict[str, Any] | None) -> dict[str, Any]:
    assert view is not None
    media: dict[str, Any] = view["media"]
    return media


async def test_without_a_media_server_every_session_is_a_mesh(server: Running) -> None:
    _, fac, (ann,) = await server.live_room("Ann", media="sfu")
    assert media_of(fac.welcome) == {"path": "mesh", "setting": "sfu", "sfu_available": False}
    assert media_of(ann.welcome) == {"path": "mesh", "setting": "sfu", "sfu_available": False}
    assert ann.welcome is not None and ann.welcome["room"]["settings"]["media"] == "sfu"


async def test_the_setting_resolves_by_the_room_size(start_server: StartServer) -> None:
    server = await start_server(**JANUS)
    _, fac, _ = await server.live_room(media="sfu", max_participants=2)
    assert media_of(fac.welcome) == {"path": "sfu", "setting": "sfu", "sfu_available": True}
    _, fac, _ = await server.live_room(media="mesh", max_participants=20)
    assert media_of(fac.welcome) == {"path": "mesh", "setting": "mesh", "sfu_available": True}
    _, fac, _ = await server.live_room(max_participants=4)  # auto, below the threshold (5)
    assert media_of(fac.welcome) == {"path": "mesh", "setting": "auto", "sfu_available": True}
    room, fac, _ = await server.live_room()  # auto, 12 seats
    assert media_of(fac.welcome) == {"path": "sfu", "setting": "auto", "sfu_available": True}
    # The media server's address and secret never reach a browser: not in welcome, nor the page.
    async with server.http() as http:
        page = (await http.get(f"/r/{room.id}")).text
    assert 'data-media-path="sfu"' in page
    for text in (json.dumps(fac.welcome), page):
        assert "127.0.0.1:9" not in text and JANUS["janus_secret"] not in text


async def test_a_change_applies_from_the_next_session(start_server: StartServer) -> None:
    server = await start_server(**JANUS)
    room, fac, (ann,) = await server.live_room("Ann", media="sfu")
    response = await patch(server, room, {"media": "mesh"})
    assert response.status_code == 200 and response.json()["room"]["settings"]["media"] == "mesh"
    updated = await ann.recv_until("room_updated")
    assert updated["room"]["settings"]["media"] == "mesh"
    late: Client = await server.joined(room.member, "Bo")  # joins the running session
    for view in ((await ann.snapshot()), late.welcome):
        assert media_of(view) == {"path": "sfu", "setting": "mesh", "sfu_available": True}
    await fac.send({"type": "end_session"})
    await fac.recv_until("session_ended")
    again = await server.joined(room.facilitator, "Fran")
    assert media_of(again.welcome) == {"path": "mesh", "setting": "mesh", "sfu_available": True}


async def test_a_bad_media_value_changes_nothing(server: Running) -> None:
    room = await server.create_room(media="auto")
    response = await patch(server, room, {"media": "p2p", "title": "Renamed"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "bad_message",
        "message": "Invalid enum value 'p2p' - at '$.media'",
    }
    fac = await server.joined(room.facilitator, "Fran")
    assert fac.welcome is not None and fac.welcome["room"]["title"] == "Tuesday group"
    assert media_of(fac.welcome)["setting"] == "auto"


async def test_the_home_form_offers_the_setting_and_says_when_there_is_no_media_server(
    start_server: StartServer,
) -> None:
    for server, says in (
        (await start_server(), "no media server set up yet"),
        (await start_server(sfu_min_seats=7, **JANUS), "rooms of 7 seats or more"),
    ):
        async with server.http() as http:
            home = (await http.get("/")).text
        assert '<select name="media"' in home and "it applies from the next session" in home
        assert says in home

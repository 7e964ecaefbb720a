"""A Python peer and a browser meet in one room: each receives the other's video.

Politeness depends on the participant ids, so both peers join with personal invites (``sub``),
whose ids the test can work out beforehand: each case picks who is polite, and who joins first.
A facilitator without media keeps the session going (the browser and the Python peer try to
connect to it in vain, which harms nothing).
"""

from __future__ import annotations

import pytest

from rooms.model import Role
from server.joining import participant_id
from server.peers import HearthPeer
from server.tokens import mint_invite
from tests.e2e.conftest import People, frames_rising, join_through_screens, room_url, wait_in_room
from tests.peers.conftest import MakePeer, invite, silent_host
from tests.peers.conftest import frames_rising as python_frames_rising
from tests.server.conftest import SECRET, Room, StartServer

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def personal_token(room: Room, sub: str) -> str:
    return mint_invite(SECRET, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=3600, sub=sub)


def subs_where_python_is(polite: bool, room: Room) -> tuple[str, str]:
    """(browser sub, python sub) such that the Python peer's id sorts first exactly when polite."""
    for n in range(100):
        browser_id = participant_id(SECRET, room.id, f"browser-{n}")
        python_id = participant_id(SECRET, room.id, f"python-{n}")
        if (python_id < browser_id) == polite:
            return f"browser-{n}", f"python-{n}"
    raise AssertionError("no sub found")


@pytest.mark.parametrize(
    ("first", "python_polite"),
    [("browser", True), ("browser", False), ("python", True), ("python", False)],
)
async def test_a_browser_and_a_python_peer_see_each_other(
    start_server: StartServer, people: People, peers: MakePeer, first: str, python_polite: bool
) -> None:
    server = await start_server()
    room = await server.create_room(lobby=False)
    await silent_host(peers, server, room)
    browser_sub, python_sub = subs_where_python_is(python_polite, room)
    python = peers(invite(server, room.id, personal_token(room, python_sub)), "Pat")

    async def browser_joins() -> str:
        page = await people.open(room_url(server.base_url, room.id, personal_token(room, browser_sub)))
        await join_through_screens(page, "Bea")
        return await wait_in_room(page)

    if first == "python":
        await python.join()
        browser_id = await browser_joins()
    else:
        browser_id = await browser_joins()
        await python.join()
    assert (python.id < browser_id) == python_polite
    page = people.contexts[-1].pages[0]

    await frames_rising(page, [python.id])
    await python_frames_rising(python, [browser_id])
    assert python.stats()[browser_id].frame_width == 640  # the fake camera
    assert _connected(python, browser_id)


def _connected(python: HearthPeer, browser_id: str) -> bool:
    return python.stats()[browser_id].connection_state == "connected"

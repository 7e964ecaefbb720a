"""The server's decisions follow the capability table (``rooms/permissions.py``), and the
``welcome`` tells each participant what their role grants (docs/protocol.md §1.7.1), so the page
can show and hide by capability. The table is changed in this process (the server runs in it) to
prove that each decision asks the table, not the role name."""

from __future__ import annotations

import pytest

from rooms.model import Role
from rooms.permissions import CAPABILITIES, Capability, capabilities_of
from tests.server.conftest import Running

OFFER = {"description": {"type": "offer", "sdp": "v=0\r\n"}}


async def test_welcome_and_snapshot_carry_the_capabilities_of_the_role(server: Running) -> None:
    _room, fran, (ann,) = await server.live_room("Ann")
    assert fran.welcome is not None and ann.welcome is not None
    assert ann.welcome["capabilities"] == ["keep_journey", "take_part"]
    assert fran.welcome["capabilities"] == capabilities_of(Role.FACILITATOR)
    assert {"mute_others", "see_lobby", "protected"} <= set(fran.welcome["capabilities"])
    table = {"facilitator": capabilities_of(Role.FACILITATOR), "member": ["keep_journey", "take_part"]}
    assert ann.welcome["role_capabilities"] == fran.welcome["role_capabilities"] == table
    assert (await ann.snapshot())["capabilities"] == ["keep_journey", "take_part"]
    assert (await fran.snapshot())["capabilities"] == capabilities_of(Role.FACILITATOR)


async def test_welcome_follows_the_table(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    granted = CAPABILITIES[Role.MEMBER] | {Capability.SEE_LOBBY, Capability.SEE_SPEAKING}
    monkeypatch.setitem(CAPABILITIES, Role.MEMBER, granted)
    _room, _fran, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    assert ann.welcome["capabilities"] == ["keep_journey", "see_lobby", "see_speaking", "take_part"]
    assert ann.welcome["lobby"] == [] and ann.id in ann.welcome["speaking"]


async def test_signals_need_take_part(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    _room, _fran, (ann, bob) = await server.live_room("Ann", "Bob")
    await ann.ok({"type": "signal", "to": bob.id, "data": OFFER})
    assert (await bob.recv())["type"] == "signal"
    monkeypatch.setitem(CAPABILITIES, Role.MEMBER, CAPABILITIES[Role.MEMBER] - {Capability.TAKE_PART})
    await ann.refused({"type": "signal", "to": bob.id, "data": OFFER}, "forbidden")
    assert [m for m in await bob.drain() if m["type"] == "signal"] == []


async def test_role_like_names_follow_the_table(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    room, _fran, () = await server.live_room()
    client = await server.connect()
    assert (await client.join(room.member, "Facilitator Ann"))["code"] == "bad_message"
    monkeypatch.setitem(CAPABILITIES, Role.MEMBER, CAPABILITIES[Role.MEMBER] | {Capability.ROLE_LIKE_NAME})
    assert (await client.join(room.member, "Facilitator Ann"))["type"] == "welcome"
    monkeypatch.setitem(
        CAPABILITIES, Role.FACILITATOR, CAPABILITIES[Role.FACILITATOR] - {Capability.ROLE_LIKE_NAME}
    )
    other = await server.connect()
    assert (await other.join(room.facilitator, "Host Fran"))["code"] == "bad_message"


async def test_the_room_api_needs_manage_room(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    room = await server.create_room()
    url = f"/api/rooms/{room.id}"
    member = {"Authorization": f"Bearer {room.member}"}
    async with server.http() as http:
        assert (await http.patch(url, json={"title": "x"}, headers=member)).status_code == 403
        monkeypatch.setitem(CAPABILITIES, Role.MEMBER, CAPABILITIES[Role.MEMBER] | {Capability.MANAGE_ROOM})
        assert (await http.patch(url, json={"title": "Renamed"}, headers=member)).status_code == 200

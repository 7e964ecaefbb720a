"""Joining: the welcome, roles from tokens only, names, the lobby, and the Origin check."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from rooms.model import Role
from server.tokens import mint_invite, verify_resume
from tests.server.conftest import SECRET, Running, StartServer


async def test_the_welcome_describes_the_room_and_me(server: Running) -> None:
    room = await server.create_room(lobby=False, topic="Living with pain", floor_mode="queue")
    fac = await server.joined(room.facilitator, "Fran")
    ann = await server.joined(room.member, "Ann")
    welcome = ann.welcome
    assert welcome is not None
    assert welcome["you"] == {
        "id": ann.id,
        "name": "Ann",
        "role": "member",
        "audio": False,
        "video": False,
        "hand": None,
        "away": False,
        "muted_by_facilitator": False,
        "video_muted_by_facilitator": False,
        "can_speak": False,  # queue mode, without the floor
        "connected": True,
    }
    assert welcome["room"]["id"] == room.id and welcome["room"]["title"] == "Tuesday group"
    assert welcome["room"]["topic"] == "Living with pain" and welcome["room"]["agreement"]
    assert welcome["room"]["settings"]["floor_mode"] == "queue"
    assert welcome["session"]["state"] == "live" and isinstance(welcome["session"]["started_at"], float)
    assert [p["id"] for p in welcome["participants"]] == [fac.id, ann.id]
    assert welcome["floor"]["mode"] == "queue" and welcome["floor"]["holder"] is None
    assert welcome["chat"] == []
    assert welcome["ice_servers"] == [] and welcome["ice_transport_policy"] == "all"
    assert welcome["reactions"] and all(isinstance(e, str) for e in welcome["reactions"])
    claims = verify_resume(SECRET, welcome["resume"])
    assert claims.participant == ann.id and claims.room == room.id
    assert isinstance(welcome["seq"], int)
    assert "lobby" not in welcome and "speaking" not in welcome  # facilitators only
    assert fac.welcome is not None
    assert fac.welcome["you"]["role"] == "facilitator" and fac.welcome["you"]["can_speak"] is True
    assert fac.welcome["lobby"] == [] and fac.welcome["speaking"] == {fac.id: 0.0}
    # The others learn about the newcomer.
    joined = await fac.recv_until("participant_joined")
    assert joined["participant"] == welcome["you"] and joined["seq"] == welcome["seq"]


async def test_a_forged_role_in_join_is_ignored(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    mallory = await server.connect()
    reply = await mallory.join(room.member, "Mallory", role="facilitator", admitted=True, sub="fran")
    assert reply == {"type": "lobby", "state": "waiting_for_admission"}  # no lobby bypass
    waiting = (await fac.recv_until("lobby_changed", lambda m: m["waiting"] != []))["waiting"]
    await fac.ok({"type": "admit", "target": waiting[0]["id"]})
    welcome = await mallory.wait_welcome()
    assert welcome["you"]["role"] == "member" and "lobby" not in welcome
    await mallory.refused({"type": "mute_all"}, "forbidden")
    await mallory.refused({"type": "end_session"}, "forbidden")


async def test_names_are_checked_and_tidied(server: Running) -> None:
    room, _fac, () = await server.live_room()
    client = await server.connect()
    for bad in ("", "   ", "x" * 41, "tab\there\x00", "bell\x07"):
        error = await client.join(room.member, bad)
        assert error["type"] == "error" and error["code"] == "bad_message", bad
    welcome = await client.join(room.member, "  Ann   Lee ")
    assert welcome["you"]["name"] == "Ann Lee"
    assert (await server.joined(room.member, "x" * 40)).welcome is not None


async def test_a_personal_invite_keeps_its_id_and_proposes_its_name(server: Running) -> None:
    room, _fac, () = await server.live_room()
    personal = mint_invite(
        SECRET, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=600, sub="dana-42", name="Dana"
    )
    dana = await server.connect()
    await dana.send({"type": "join", "token": personal, "agree": True})
    welcome = await dana.recv_until("welcome")
    assert welcome["you"]["name"] == "Dana"
    first_id = welcome["you"]["id"]
    await dana.ok({"type": "leave"})
    again = await server.joined(personal, "Dana D.")
    assert again.id == first_id
    # A shared link gives a new participant every time.
    one, two = await server.joined(room.member, "One"), await server.joined(room.member, "Two")
    assert len({one.id, two.id, first_id}) == 3


# The lobby -----------------------------------------------------------------------------------------


async def test_lobby_before_and_after_the_facilitator_arrives(server: Running) -> None:
    room = await server.create_room(lobby=True)
    ann = await server.connect()
    assert await ann.join(room.member, "Ann") == {"type": "lobby", "state": "waiting_for_facilitator"}
    fac = await server.joined(room.facilitator, "Fran")
    assert await ann.recv() == {"type": "lobby", "state": "waiting_for_admission"}
    assert fac.welcome is not None
    lobby = fac.welcome["lobby"]
    assert [w["name"] for w in lobby] == ["Ann"]
    ann_id = lobby[0]["id"]
    assert [p["id"] for p in fac.welcome["participants"]] == [fac.id]  # waiting is not in the room

    bob = await server.connect()
    assert await bob.join(room.member, "Bob") == {"type": "lobby", "state": "waiting_for_admission"}
    changed = await fac.recv_until("lobby_changed")
    assert [w["name"] for w in changed["waiting"]] == ["Ann", "Bob"] and "seq" not in changed

    await fac.ok({"type": "admit", "target": ann_id})
    welcome = await ann.wait_welcome()
    assert welcome["you"]["id"] == ann_id and welcome["session"]["state"] == "live"
    assert (await fac.recv_until("participant_joined"))["participant"]["id"] == ann_id
    bob_entry = {"id": changed["waiting"][1]["id"], "name": "Bob"}
    assert (await fac.recv_until("lobby_changed"))["waiting"] == [bob_entry]
    # Members do not see the lobby.
    assert not [m for m in await ann.drain() if m["type"] == "lobby_changed"]

    await fac.ok({"type": "admit_all"})
    assert (await bob.wait_welcome())["you"]["name"] == "Bob"
    assert (await fac.recv_until("lobby_changed"))["waiting"] == []
    assert (await ann.recv_until("participant_joined"))["participant"]["name"] == "Bob"


async def test_admit_all_lets_everyone_in(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    waiting = []
    for name in ("Ann", "Bob", "Cleo"):
        client = await server.connect()
        assert (await client.join(room.member, name))["type"] == "lobby"
        waiting.append(client)
    await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 3)
    await fac.ok({"type": "admit_all"})
    for client in waiting:
        await client.wait_welcome()
    snapshot = await fac.snapshot()
    assert len(snapshot["participants"]) == 4 and snapshot["lobby"] == []


async def test_without_a_lobby_members_wait_only_until_the_session_is_live(server: Running) -> None:
    room = await server.create_room(lobby=False)
    early = await server.connect()
    assert await early.join(room.member, "Early") == {"type": "lobby", "state": "waiting_for_facilitator"}
    fac = await server.joined(room.facilitator, "Fran")
    welcome = await early.wait_welcome()
    assert welcome["session"]["state"] == "live"
    assert {p["id"] for p in welcome["participants"]} == {fac.id, early.id}
    late = await server.connect()
    assert (await late.join(room.member, "Late"))["type"] == "welcome"


async def test_the_lobby_learns_when_the_facilitator_is_gone(start_server: StartServer) -> None:
    server = await start_server(grace_seconds=60)
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    ann = await server.connect()
    assert (await ann.join(room.member, "Ann"))["state"] == "waiting_for_admission"
    fac.abort()
    assert await ann.recv() == {"type": "lobby", "state": "waiting_for_facilitator"}
    assert fac.welcome is not None
    back = await server.connect()
    assert (await back.join(room.facilitator, "Fran", resume=fac.welcome["resume"]))["type"] == "welcome"
    assert await ann.recv() == {"type": "lobby", "state": "waiting_for_admission"}


async def test_sync_in_the_lobby_answers_the_lobby_state(server: Running) -> None:
    room = await server.create_room(lobby=True)
    ann = await server.connect()
    await ann.join(room.member, "Ann")
    await ann.send({"type": "sync"})
    assert await ann.recv() == {"type": "lobby", "state": "waiting_for_facilitator"}
    await ann.refused({"type": "chat", "text": "hello?"}, "forbidden")


# Origin --------------------------------------------------------------------------------------------


async def test_a_foreign_origin_is_refused_at_the_handshake(server: Running) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await server.connect(origin="https://evil.example")
    assert refused.value.response.status_code == 403


async def test_the_servers_own_origin_is_accepted(server: Running) -> None:
    room, _fac, () = await server.live_room()
    client = await server.connect(origin=server.base_url)
    assert (await client.join(room.member, "Ann"))["type"] == "welcome"


async def test_configured_origins_are_accepted(start_server: StartServer) -> None:
    server = await start_server(allowed_origins="https://app.example.org, https://other.example.org/")
    room, _fac, () = await server.live_room()
    for origin in ("https://app.example.org", "https://other.example.org"):
        client = await server.connect(origin=origin)
        assert (await client.join(room.member, "Ann"))["type"] == "welcome"
    with pytest.raises(InvalidStatus):
        await server.connect(origin="https://app.example.org.evil.example")
    with pytest.raises(InvalidStatus):
        await server.connect(origin="http://app.example.org")  # another scheme is another origin

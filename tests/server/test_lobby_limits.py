"""The lobby on a real server: waiting sockets cannot lock real members out of a room, the lobby
has its own cap (``HEARTH_LOBBY_MAX``), a wait ends after ``HEARTH_LOBBY_WAIT_SECONDS`` with a
reason, a closed socket's lobby seat goes at once, and ``deny_all`` clears the lobby."""

from __future__ import annotations

from tests.server.conftest import Client, Running, StartServer


async def wait_in_lobby(server: Running, token: str, name: str) -> Client:
    client = await server.connect()
    reply = await client.join(token, name)
    assert reply["type"] == "lobby", reply
    return client


async def test_eleven_lobby_sockets_do_not_lock_out_a_twelve_seat_room(start_server: StartServer) -> None:
    server = await start_server(lobby_max=12)
    room = await server.create_room(lobby=True, max_participants=12)
    fac = await server.joined(room.facilitator, "Fran")
    squatters = [await wait_in_lobby(server, room.member, f"Squatter {n}") for n in range(11)]
    # The 13th seat today: every seat was taken (1 facilitator + 11 waiting) and this was room_full.
    ana = await wait_in_lobby(server, room.member, "Ana")
    waiting = await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 12)
    ana_id = next(w["id"] for w in waiting["waiting"] if w["name"] == "Ana")
    await fac.ok({"type": "admit", "target": ana_id})
    assert (await ana.wait_welcome())["you"]["name"] == "Ana"

    # The lobby's own cap: 11 squatters + Ben = 12 waiting; the next one is refused, clearly.
    ben = await wait_in_lobby(server, room.member, "Ben")
    extra = await server.connect()
    refused = await extra.join(room.member, "Extra")
    assert refused["type"] == "error" and refused["code"] == "lobby_full"
    assert "waiting room is full" in refused["message"]
    assert await extra.expect_close() == 4003

    # The facilitator clears the lobby at once; Ben comes back and is let in.
    await fac.ok({"type": "deny_all"})
    for client in [*squatters, ben]:
        assert await client.recv_until("lobby") == {"type": "lobby", "state": "denied"}
        assert await client.expect_close() == 4003
    await fac.recv_until("lobby_changed", lambda m: m["waiting"] == [])
    ben = await wait_in_lobby(server, room.member, "Ben")
    ben_id = (await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 1))["waiting"][0]["id"]
    await fac.ok({"type": "admit", "target": ben_id})
    await ben.wait_welcome()
    assert len((await fac.snapshot())["participants"]) == 3


async def test_admitting_into_a_full_room_is_refused(start_server: StartServer) -> None:
    server = await start_server()
    room = await server.create_room(lobby=True, max_participants=2)
    fac = await server.joined(room.facilitator, "Fran")
    ana = await wait_in_lobby(server, room.member, "Ana")
    await wait_in_lobby(server, room.member, "Ben")
    waiting = (await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 2))["waiting"]
    await fac.ok({"type": "admit", "target": waiting[0]["id"]})
    await ana.wait_welcome()
    refused = await fac.refused({"type": "admit", "target": waiting[1]["id"]}, "room_full")
    assert "full" in refused["message"]


async def test_a_long_wait_in_the_lobby_ends_with_a_reason(start_server: StartServer) -> None:
    server = await start_server(lobby_wait_seconds=0.5)
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    ana = await wait_in_lobby(server, room.member, "Ana")
    assert await ana.recv_until("lobby", lambda m: m["state"] != "waiting_for_admission") == {
        "type": "lobby",
        "state": "timed_out",
    }
    assert await ana.expect_close() == 4003
    assert (await fac.recv_until("lobby_changed", lambda m: m["waiting"] == []))["waiting"] == []


async def test_a_lobby_seat_goes_as_soon_as_its_socket_does(start_server: StartServer) -> None:
    """Not after the grace period (60 s here, longer than any wait of this test)."""
    server = await start_server(grace_seconds=60)
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    ana = await wait_in_lobby(server, room.member, "Ana")
    await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 1)
    ana.abort()
    assert (await fac.recv_until("lobby_changed"))["waiting"] == []


async def test_members_cannot_clear_the_lobby(server: Running) -> None:
    _room, _fac, (ana,) = await server.live_room("Ana")
    await ana.refused({"type": "deny_all"}, "forbidden")

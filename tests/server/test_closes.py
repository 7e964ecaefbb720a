"""Every close code of PROTOCOL.md, seen by a real websocket client."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from rooms.model import Role
from server.tokens import mint_invite
from tests.server.conftest import (
    SECRET,
    Running,
    StartServer,
    member_who_stops_reading,
    token_of,
)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def invite_claims(room_id: str, role: str = "facilitator") -> dict[str, Any]:
    now = int(time.time())
    return {"kind": "invite", "room": room_id, "role": role, "v": 1, "iat": now, "exp": now + 600, "jti": "j"}


async def refused_with(server: Running, token: str, code: int, **extra: Any) -> dict[str, Any]:
    client = await server.connect()
    error = await client.join(token, "Mallory", **extra)
    assert error["type"] == "error", error
    assert await client.expect_close() == code
    return error


# 1009 ---------------------------------------------------------------------------------------------


async def test_a_message_over_64_kib_closes_1009(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await ann.send({"type": "chat", "text": "x" * (64 * 1024)})
    assert await ann.expect_close() == 1009
    # Only that socket: the room goes on.
    await fac.ok({"type": "chat", "text": "still on"})


async def test_a_message_just_under_the_limit_is_read(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    padding = "p" * (64 * 1024 - 100)
    await ann.ok({"type": "ping", "padding": padding})


# 4001 --------------------------------------------------------------------------------------------


async def test_no_join_in_time_closes_4001(start_server: StartServer) -> None:
    server = await start_server(join_timeout=0.5)
    client = await server.connect()
    assert await client.expect_close() == 4001
    assert [m["code"] for m in client.seen] == ["unauthorized"]


async def test_invalid_tokens_close_4001(server: Running) -> None:
    room = await server.create_room()
    expired = mint_invite(
        SECRET, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=60, now=time.time() - 3600
    )
    alg_none = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(invite_claims(room.id))}."
    wrong_secret = mint_invite(
        "another-secret-" + "z" * 30, room=room.id, role=Role.FACILITATOR, version=1, ttl_seconds=600
    )
    with warnings.catch_warnings():  # the test secret is short for HS512, which is beside the point
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        other_algorithm = jwt.encode(invite_claims(room.id), SECRET, algorithm="HS512")
    tampered_role = room.member.split(".")
    tampered_role[1] = b64(
        {**jwt.decode(room.member, options={"verify_signature": False}), "role": "facilitator"}
    )
    for token in ("garbage", "", expired, alg_none, wrong_secret, other_algorithm, ".".join(tampered_role)):
        error = await refused_with(server, token, 4001)
        assert error["code"] == "unauthorized"


async def test_a_resume_token_is_not_an_invite(server: Running) -> None:
    _room, fac, () = await server.live_room()
    assert fac.welcome is not None
    await refused_with(server, fac.welcome["resume"], 4001)


async def test_a_rotated_member_link_closes_4001(server: Running) -> None:
    room = await server.create_room(lobby=False)
    async with server.http() as http:
        response = await http.post(
            f"/api/rooms/{room.id}/invite", headers={"Authorization": f"Bearer {room.facilitator}"}
        )
    assert response.status_code == 200
    new_member = token_of(response.json()["member_link"])
    await refused_with(server, room.member, 4001)
    await server.joined(room.facilitator, "Fran")  # facilitator links are not rotated
    await server.joined(new_member, "Ann")


# 4003 --------------------------------------------------------------------------------------------


async def test_removed_closes_4003(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await fac.ok({"type": "remove", "target": ann.id})
    assert await ann.expect_close() == 4003
    assert [m["type"] for m in ann.seen[-1:]] == ["removed"]


async def test_denied_from_the_lobby_closes_4003(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    ann = await server.connect()
    assert (await ann.join(room.member, "Ann"))["state"] == "waiting_for_admission"
    waiting = (await fac.recv_until("lobby_changed", lambda m: m["waiting"] != []))["waiting"]
    await fac.ok({"type": "deny", "target": waiting[0]["id"]})
    assert await ann.expect_close() == 4003
    assert ann.seen[-1] == {"type": "lobby", "state": "denied"}
    assert (await fac.recv_until("lobby_changed"))["waiting"] == []


# 4004 --------------------------------------------------------------------------------------------


async def test_a_valid_token_for_a_room_that_does_not_exist_closes_4004(server: Running) -> None:
    token = mint_invite(SECRET, room="no-such-room", role=Role.FACILITATOR, version=1, ttl_seconds=600)
    await refused_with(server, token, 4004)


# 4008 --------------------------------------------------------------------------------------------


async def test_a_sustained_flood_closes_4008(start_server: StartServer) -> None:
    server = await start_server(rate_per_second=0.001, rate_burst=2, rate_strikes=5)
    _room, fac, () = await server.live_room()  # its drain took one token
    for number in range(20):
        await fac.send({"type": "chat", "text": f"flood {number}", "id": number})
    assert await fac.expect_close() == 4008
    codes = [m["code"] for m in fac.seen if m["type"] == "error"]
    assert codes == ["rate_limited"] * 5


async def test_a_flood_of_garbage_closes_4008(start_server: StartServer) -> None:
    server = await start_server(rate_strikes=5)
    _room, fac, () = await server.live_room()
    for _ in range(10):
        await fac.send_raw("garbage")
    assert await fac.expect_close() == 4008


# 4009 --------------------------------------------------------------------------------------------


async def test_resuming_on_a_second_socket_closes_the_older_4009(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    second = await server.connect()
    welcome = await second.join(room.member, "Ann", resume=ann.welcome["resume"])
    assert welcome["type"] == "welcome" and welcome["you"]["id"] == ann.id
    assert await ann.expect_close() == 4009
    # For the others nothing happened: the seat never went away.
    await second.ok({"type": "chat", "text": "same me"})
    seen = await fac.collect_until("chat")
    assert [m["type"] for m in seen] == ["chat"], seen
    assert seen[-1]["message"]["from"] == ann.id


async def test_a_personal_invite_opened_twice_closes_the_older_4009(server: Running) -> None:
    room, _fac, () = await server.live_room()
    personal = mint_invite(SECRET, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=600, sub="ann")
    first = await server.joined(personal, "Ann")
    second = await server.joined(personal, "Ann")
    assert first.id == second.id
    assert await first.expect_close() == 4009
    await second.ok({"type": "ping"})


# 4010 --------------------------------------------------------------------------------------------


async def test_end_session_closes_every_socket_4010_lobby_included(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    co = await server.joined(room.facilitator, "Cole")
    ann = await server.connect()
    await ann.join(room.member, "Ann")
    ann_id = (await fac.recv_until("lobby_changed", lambda m: m["waiting"] != []))["waiting"][0]["id"]
    await fac.ok({"type": "admit", "target": ann_id})
    await ann.wait_welcome()
    bob = await server.connect()
    assert (await bob.join(room.member, "Bob"))["state"] == "waiting_for_admission"
    await fac.send({"type": "end_session"})
    for client in (fac, co, ann, bob):
        assert await client.expect_close() == 4010
        assert client.seen[-1]["type"] == "session_ended"


# 4011 --------------------------------------------------------------------------------------------


async def test_a_client_that_stops_reading_is_closed_4011_and_nobody_waits(start_server: StartServer) -> None:
    server = await start_server(
        outbox_size=16,
        rate_per_second=100_000,
        rate_burst=100_000,
        max_chat_chars=50_000,
        slow_close_seconds=15,  # time the test has to start draining once the server gave up
    )
    room, fac, (reader,) = await server.live_room("Reader")
    slow, server_side = await member_who_stops_reading(server, room, "Slow")
    await reader.drain()

    text = "y" * 45_000
    sent = 0
    while server_side.closing is None:
        assert sent < 2_000, "the server never gave up on a client that reads nothing"
        await fac.ok({"type": "chat", "text": f"{sent} {text}"})
        fac.inbox.clear()
        # The reading participant gets every chat, in order, while the slow one stalls.
        chat = await reader.recv_until("chat")
        assert chat["message"]["text"] == f"{sent} {text}"
        sent += 1
    assert server_side.closing == 4011
    for number in range(sent, sent + 5):  # and it goes on afterwards
        await fac.ok({"type": "chat", "text": f"{number} after"})
        assert (await reader.recv_until("chat"))["message"]["text"] == f"{number} after"

    assert await slow.expect_close(timeout=30) == 4011
    received = [m["message"]["text"].split()[0] for m in slow.seen if m["type"] == "chat"]
    assert received == [str(n) for n in range(len(received))]  # a prefix, in order, no gaps
    assert len(received) < sent
    # The seat is kept for the grace period, like any lost connection.
    gone = await reader.recv_until("participant_updated", lambda m: m["participant"]["id"] == slow.id)
    assert gone["participant"]["connected"] is False


async def test_a_client_that_never_reads_again_is_dropped_after_the_slow_close_time(
    start_server: StartServer,
) -> None:
    """When even the 4011 close frame cannot get through, the server stops writing after
    ``slow_close_seconds`` and ends the connection itself: the seat goes to its grace period
    although the peer never reads (or closes) its socket."""
    server = await start_server(
        outbox_size=4,
        rate_per_second=100_000,
        rate_burst=100_000,
        max_chat_chars=50_000,
        slow_close_seconds=1,
    )
    room, fac, (reader,) = await server.live_room("Reader")
    stuck, server_side = await member_who_stops_reading(server, room, "Stuck")
    await reader.drain()

    text = "z" * 45_000
    sent = 0
    while server_side.closing is None:
        assert sent < 2_000, "the server never gave up on a client that reads nothing"
        await fac.ok({"type": "chat", "text": f"{sent} {text}"})
        fac.inbox.clear()
        sent += 1
    assert server_side.closing == 4011
    # Nothing is read from the stuck socket from here on; the server lets go by itself.
    gone = await reader.recv_until(
        "participant_updated", lambda m: m["participant"]["id"] == stuck.id, timeout=15
    )
    assert gone["participant"]["connected"] is False
    assert server_side.stopped
    assert server.node.hub.connection(room.id, stuck.id) is None


async def test_a_refused_socket_leaves_nothing_behind(server: Running) -> None:
    room, fac, () = await server.live_room()
    client = await server.connect()
    assert (await client.join("garbage", "X"))["code"] == "unauthorized"
    assert await client.expect_close() == 4001
    assert server.node.hub.connections() == [server.node.hub.connection(room.id, fac.id)]

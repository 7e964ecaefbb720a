"""Every error code of PROTOCOL.md, provoked through a real socket, and what survives it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rooms.backends.base import LiveStore, StoreUnavailable
from rooms.model import Role
from server.tokens import mint_invite
from tests.server.conftest import SECRET, Client, Running, StartServer


async def test_bad_message_variants_leave_the_socket_working(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    for text in ("not json at all", "[1, 2, 3]", '"just a string"', "{}", '{"type": 5}'):
        await ann.send_raw(text)
        error = await ann.recv()
        assert error["type"] == "error" and error["code"] == "bad_message", (text, error)
        assert "ref" not in error
    await ann.refused({"type": "chat"}, "bad_message", ref=1)  # missing field
    await ann.refused({"type": "hand", "raised": "yes"}, "bad_message", ref="wrong-type")
    await ann.refused({"type": "chat", "text": 12}, "bad_message", ref=2)
    await ann.refused({"type": "chat", "text": "   "}, "bad_message", ref=3)  # empty
    await ann.refused({"type": "join", "token": room.member, "name": "Ann", "agree": True}, "bad_message")
    await ann.send_raw(b"binary frames are not JSON text")
    assert (await ann.recv())["code"] == "bad_message"
    # Still in the room: a valid message works.
    await ann.send({"type": "ping"})
    assert await ann.recv() == {"type": "pong"}
    await ann.ok({"type": "chat", "text": "still here"})
    assert (await fac.recv_until("chat"))["message"]["text"] == "still here"


async def test_error_messages_do_not_echo_what_was_sent(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    reply = await ann.refused({"type": "hand", "raised": "SECRETVALUE"}, "bad_message")
    assert "SECRETVALUE" not in json.dumps(reply)


async def test_unknown_type(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    await ann.refused({"type": "dance"}, "unknown_type", ref=7)
    await ann.ok({"type": "ping"})


async def test_unauthorized_first_message_that_is_not_join(server: Running) -> None:
    client = await server.connect()
    await client.send({"type": "ping", "id": 1})
    error = await client.recv()
    assert error["type"] == "error" and error["code"] == "unauthorized" and error["ref"] == 1
    assert await client.expect_close() == 4001


async def test_unauthorized_bad_token(server: Running) -> None:
    client = await server.connect()
    error = await client.join("not-a-token", "Ann")
    assert error["code"] == "unauthorized"
    assert await client.expect_close() == 4001


async def test_forbidden_member_commands_change_nothing(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    people = []
    for name in ("Ann", "Bob", "Cleo"):
        client = await server.connect()
        assert (await client.join(room.member, name))["state"] == "waiting_for_admission"
        people.append(client)
    ann, bob, cleo = people
    waiting = (await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 3))["waiting"]
    ids = {w["name"]: w["id"] for w in waiting}
    for client, name in ((ann, "Ann"), (bob, "Bob")):
        await fac.ok({"type": "admit", "target": ids[name]})
        await client.wait_welcome()
    await bob.ok({"type": "hand", "raised": True})
    await bob.ok({"type": "chat", "text": "a message to delete"})
    await fac.ok({"type": "give_floor", "target": bob.id})
    await fac.drain()
    message_id = (await ann.recv_until("chat"))["message"]["id"]
    before_member, before_facilitator = await ann.snapshot(), await fac.snapshot()

    commands: list[dict[str, Any]] = [
        {"type": "mute", "target": bob.id},
        {"type": "mute", "target": bob.id, "video": True},
        {"type": "mute_all"},
        {"type": "allow_speak", "target": bob.id},
        {"type": "give_floor", "target": ann.id},
        {"type": "next_floor"},
        {"type": "end_floor"},
        {"type": "set_floor", "mode": "circle", "order": [ann.id, bob.id]},
        {"type": "lower_hand", "target": bob.id},
        {"type": "lower_all_hands"},
        {"type": "admit", "target": ids["Cleo"]},
        {"type": "admit_all"},
        {"type": "deny", "target": ids["Cleo"]},
        {"type": "lock", "locked": True},
        {"type": "remove", "target": bob.id},
        {"type": "remove", "target": bob.id, "ban": True},
        {"type": "delete_chat", "message_id": message_id},
        {"type": "end_session"},
    ]
    for number, command in enumerate(commands):
        await ann.refused(command, "forbidden", ref=number)
    # A forged role inside the command itself changes nothing either.
    await ann.refused({"type": "mute_all", "role": "facilitator", "actor": fac.id}, "forbidden")
    # A member still in the lobby cannot act at all.
    await cleo.refused({"type": "admit", "target": ids["Cleo"]}, "forbidden")

    assert await ann.snapshot() == before_member
    assert await fac.snapshot() == before_facilitator
    assert not [m for m in await bob.drain() if m["type"] in ("removed", "session_ended")]
    assert (await cleo.drain()) == []  # no welcome, no denial


async def test_invalid_target(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    for command in (
        {"type": "mute", "target": "nobody"},
        {"type": "allow_speak", "target": "nobody"},
        {"type": "give_floor", "target": "nobody"},
        {"type": "lower_hand", "target": "nobody"},
        {"type": "admit", "target": ann.id},  # not in the lobby
        {"type": "deny", "target": "nobody"},
        {"type": "remove", "target": "nobody"},
        {"type": "mute", "target": fac.id},  # a facilitator
        {"type": "delete_chat", "message_id": "m404"},
    ):
        await fac.refused(command, "invalid_target")
    await ann.refused({"type": "signal", "to": "nobody", "data": {"candidate": None}}, "invalid_target")
    await ann.refused({"type": "signal", "to": ann.id, "data": {"candidate": None}}, "invalid_target")


async def test_agreement_required_keeps_the_socket_open(server: Running) -> None:
    room = await server.create_room(lobby=False)
    fac = await server.connect()
    error = await fac.join(room.facilitator, "Fran", agree=False)
    assert error["code"] == "agreement_required"
    welcome = await fac.join(room.facilitator, "Fran", agree=True)
    assert welcome["type"] == "welcome" and welcome["you"]["name"] == "Fran"
    member = await server.connect()
    await member.send({"type": "join", "token": room.member, "name": "Ann"})  # agree left out
    assert (await member.recv())["code"] == "agreement_required"
    assert (await member.join(room.member, "Ann"))["type"] == "welcome"


async def test_room_full(server: Running) -> None:
    room, _fac, (_ann,) = await server.live_room("Ann", max_participants=2)
    late = await server.connect()
    assert (await late.join(room.member, "Late"))["code"] == "room_full"
    assert await late.expect_close() == 4003
    # A facilitator still gets in.
    await server.joined(room.facilitator, "Second facilitator")


async def test_room_locked(server: Running) -> None:
    room, fac, () = await server.live_room()
    await fac.ok({"type": "lock", "locked": True})
    late = await server.connect()
    assert (await late.join(room.member, "Late"))["code"] == "room_locked"
    assert await late.expect_close() == 4003


async def test_banned_device_cannot_rejoin(server: Running) -> None:
    room, fac, () = await server.live_room()
    ann = await server.joined(room.member, "Ann", device="device-ann")
    bob = await server.joined(room.member, "Bob", device="device-bob")
    await fac.ok({"type": "remove", "target": ann.id, "ban": True})
    assert await ann.expect_close() == 4003
    again = await server.connect()
    assert (await again.join(room.member, "Ann again", device="device-ann"))["code"] == "banned"
    assert await again.expect_close() == 4003
    # Removed without a ban: may come back (through the lobby, since there was a ban).
    await fac.ok({"type": "remove", "target": bob.id})
    assert await bob.expect_close() == 4003
    await admitted_after_the_ban(server, fac, room.member, "Bob", device="device-bob")


async def admitted_after_the_ban(server: Running, fac: Client, token: str, name: str, **extra: Any) -> None:
    """A shared-link join after a ban waits in the lobby until the facilitator admits it."""
    client = await server.connect()
    assert (await client.join(token, name, **extra))["type"] == "lobby"
    waiting = await fac.recv_until("lobby_changed", lambda m: any(w["name"] == name for w in m["waiting"]))
    [entry] = [w for w in waiting["waiting"] if w["name"] == name]
    await fac.ok({"type": "admit", "target": entry["id"]})
    await client.wait_welcome()


async def test_banned_personal_invite_cannot_rejoin(server: Running) -> None:
    room, fac, () = await server.live_room()
    personal = mint_invite(SECRET, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=600, sub="ann@x")
    ann = await server.joined(personal, "Ann")
    await fac.ok({"type": "remove", "target": ann.id, "ban": True})
    assert await ann.expect_close() == 4003
    again = await server.connect()
    assert (await again.join(personal, "Ann", device="a-new-device"))["code"] == "banned"
    assert await again.expect_close() == 4003
    # The shared member link still works for others, through the lobby after a ban.
    await admitted_after_the_ban(server, fac, room.member, "Bob")


async def test_not_allowed_to_speak_when_muted_or_without_the_floor(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await fac.ok({"type": "mute", "target": ann.id})
    await ann.refused({"type": "media", "audio": True, "video": False}, "not_allowed_to_speak")
    await ann.ok({"type": "media", "audio": False, "video": True})  # the camera is still hers
    await fac.ok({"type": "set_floor", "mode": "queue"})
    await bob.refused({"type": "media", "audio": True, "video": False}, "not_allowed_to_speak")
    await fac.ok({"type": "give_floor", "target": bob.id})
    await bob.ok({"type": "media", "audio": True, "video": False})
    await fac.ok({"type": "media", "audio": True, "video": False})  # facilitators always may


async def test_rate_limited(start_server: StartServer) -> None:
    server = await start_server(rate_per_second=0.001, rate_burst=3)
    _room, fac, () = await server.live_room()  # the drain used one ping
    replies = [await fac.request({"type": "ping"}, ref=n) for n in range(5)]
    assert [r["type"] for r in replies] == ["ack", "ack", "error", "error", "error"]
    assert {r["code"] for r in replies[2:]} == {"rate_limited"}
    assert [r["ref"] for r in replies] == [0, 1, 2, 3, 4]


async def test_too_large_chat(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    await ann.refused({"type": "chat", "text": "x" * 2001}, "too_large")
    await ann.ok({"type": "chat", "text": "x" * 2000})


async def test_session_ended_for_a_resume_token_of_an_ended_session(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    resume = ann.welcome["resume"]
    await fac.send({"type": "end_session"})
    assert await ann.expect_close() == 4010
    again = await server.connect()
    error = await again.join(room.member, "Ann", resume=resume)
    assert error["code"] == "session_ended"
    assert await again.expect_close() == 4010


class FaultyStore:
    """The real live store, except that ``apply`` for one room raises ``fault`` (when set)."""

    def __init__(self, inner: LiveStore, room_id: str) -> None:
        self.inner = inner
        self.room_id = room_id
        self.fault: Callable[[], Exception] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def apply(self, room_id: str, step: Any, encode: Any) -> Any:
        if room_id == self.room_id and self.fault is not None:
            raise self.fault()
        return await self.inner.apply(room_id, step, encode)


async def test_unavailable_and_internal_errors_leave_everything_else_working(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    _other_room, other_fac, (other,) = await server.live_room("Olga")
    service = server.node.service
    real = service.store
    faulty = FaultyStore(real, room.id)
    service.store = faulty  # type: ignore[assignment]
    try:
        faulty.fault = lambda: StoreUnavailable("redis went away")
        reply = await ann.refused({"type": "chat", "text": "lost"}, "unavailable", ref="u")
        assert reply["ref"] == "u"
        newcomer = await server.connect()
        assert (await newcomer.join(room.member, "Nell"))["code"] == "unavailable"

        faulty.fault = lambda: RuntimeError("a bug with private details")
        reply = await ann.refused({"type": "hand", "raised": True}, "internal", ref=9)
        assert "private details" not in reply["message"]
        # A join that hits a bug is answered too (with its ref), then closed as a server error.
        broken = await server.connect()
        error = await broken.join(room.member, "Bea", id=7)
        assert (error["code"], error["ref"]) == ("internal", 7)
        assert await broken.expect_close() == 1011
        # The sockets stay open, and another room is not affected at all.
        await ann.ok({"type": "ping"})
        await other.ok({"type": "chat", "text": "fine here"})
        assert (await other_fac.recv_until("chat"))["message"]["text"] == "fine here"

        faulty.fault = None
        await ann.ok({"type": "chat", "text": "back again"})
        assert (await fac.recv_until("chat"))["message"]["text"] == "back again"
        assert (await newcomer.join(room.member, "Nell"))["type"] == "welcome"
    finally:
        service.store = real

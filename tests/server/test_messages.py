"""What each client message does, seen by real clients of a real server (PROTOCOL.md, "Client to
server"), and the acknowledgements of messages that carry an ``id``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

from tests.server.conftest import UNNUMBERED, Client, Running, StartServer


def about(pid: str, **fields: Any) -> Any:
    """A predicate: a participant_joined/updated about ``pid`` whose participant has ``fields``."""

    def match(message: dict[str, Any]) -> bool:
        person = message.get("participant", {})
        return person.get("id") == pid and all(person.get(k) == v for k, v in fields.items())

    return match


def floor_where(**fields: Any) -> Any:
    return lambda m: all(m.get(k) == v for k, v in fields.items())


async def updated(client: Client, pid: str, **fields: Any) -> dict[str, Any]:
    message = await client.recv_until("participant_updated", about(pid, **fields))
    person: dict[str, Any] = message["participant"]
    return person


# Acknowledgements --------------------------------------------------------------------------------


async def test_messages_with_an_id_get_exactly_one_ack_with_that_ref(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    start = len(ann.seen)
    await ann.send({"type": "ping", "id": "p-1"})
    await ann.send({"type": "chat", "text": "hello", "id": 42})
    await ann.send({"type": "hand", "raised": True, "id": "h"})
    await ann.send({"type": "sync", "id": 0})
    await ann.send({"type": "ping"})  # no id: no ack
    await ann.send({"type": "ping", "id": "last"})
    await ann.recv_until("ack", lambda m: m["ref"] == "last")
    seen = ann.seen[start:]
    acks = [m for m in seen if m["type"] in ("ack", "error")]
    assert acks == [
        {"type": "ack", "ref": "p-1"},
        {"type": "ack", "ref": 42},
        {"type": "ack", "ref": "h"},
        {"type": "ack", "ref": 0},
        {"type": "ack", "ref": "last"},
    ]
    assert [m["type"] for m in seen].count("pong") == 3


async def test_a_join_with_an_id_is_acknowledged_after_the_welcome(server: Running) -> None:
    room = await server.create_room(lobby=False)
    fac = await server.connect()
    await fac.send({"type": "join", "token": room.facilitator, "name": "Fran", "agree": True, "id": 7})
    welcome = await fac.recv()
    assert welcome["type"] == "welcome"
    assert await fac.recv_until("ack") == {"type": "ack", "ref": 7}


# Anyone ----------------------------------------------------------------------------------------------


async def test_ping_gets_pong_without_seq(server: Running) -> None:
    _room, fac, () = await server.live_room()
    await fac.send({"type": "ping"})
    assert await fac.recv() == {"type": "pong"}


async def test_sync_answers_a_snapshot_of_the_room(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "chat", "text": "before the snapshot"})
    chat = await fac.recv_until("chat")
    snapshot = await fac.snapshot()
    assert snapshot["room"]["id"] == room.id
    assert snapshot["you"]["id"] == fac.id
    assert snapshot["session"]["state"] == "live"
    assert {p["id"] for p in snapshot["participants"]} == {fac.id, ann.id}
    assert [m["text"] for m in snapshot["chat"]] == ["before the snapshot"]
    assert snapshot["floor"]["mode"] == "open"
    assert snapshot["lobby"] == [] and ann.id in snapshot["speaking"]  # facilitator extras
    assert snapshot["seq"] == chat["seq"]  # the chat was the last numbered event
    member_view = await ann.snapshot()
    assert "lobby" not in member_view and "speaking" not in member_view


async def test_leave_tells_the_others_and_closes_normally(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    reply = await ann.request({"type": "leave"}, ref="bye")
    assert reply == {"type": "ack", "ref": "bye"}
    assert await ann.expect_close() == 1000
    assert [m for m in ann.seen if m.get("ref") == "bye"] == [reply]  # exactly one answer
    left = await fac.recv_until("participant_left")
    assert left["id"] == ann.id and left["reason"] == "left" and isinstance(left["seq"], int)
    snapshot = await fac.snapshot()
    assert [p["id"] for p in snapshot["participants"]] == [fac.id]


async def test_chat_reaches_everyone_with_sender_and_seq(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await ann.ok({"type": "chat", "text": "Hello everyone"})
    for client in (fac, ann, bob):
        message = await client.recv_until("chat")
        assert isinstance(message["seq"], int)
        chat = message["message"]
        assert chat["from"] == ann.id and chat["name"] == "Ann" and chat["text"] == "Hello everyone"
        assert chat["private"] is False and isinstance(chat["ts"], float) and chat["id"]


async def test_private_chat_reaches_only_facilitators_and_the_sender(server: Running) -> None:
    room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await ann.ok({"type": "chat", "text": "I need a moment", "to": "facilitators"})
    for client in (fac, ann):
        message = await client.recv_until("chat")
        assert "seq" not in message
        assert message["message"]["private"] is True and message["message"]["text"] == "I need a moment"
    assert not [m for m in await bob.drain() if m["type"] == "chat"]
    assert (await bob.snapshot())["chat"] == []
    assert [m["text"] for m in (await fac.snapshot())["chat"]] == ["I need a moment"]
    # A later welcome shows it to facilitators only.
    late = await server.joined(room.member, "Cleo")
    assert late.welcome is not None and late.welcome["chat"] == []


async def test_react_broadcasts_a_published_emoji(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    emoji = ann.welcome["reactions"][0]
    await ann.ok({"type": "react", "emoji": emoji})
    reaction = await fac.recv_until("reaction")
    assert reaction["from"] == ann.id and reaction["emoji"] == emoji and isinstance(reaction["seq"], int)
    await ann.refused({"type": "react", "emoji": "x"}, "bad_message")
    assert not [m for m in await fac.drain() if m["type"] == "reaction"]


async def test_media_sets_my_sending_state(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "media", "audio": True, "video": True})
    person = await updated(fac, ann.id, audio=True, video=True)
    assert person["can_speak"] is True
    await ann.ok({"type": "media", "audio": False, "video": True})
    await updated(fac, ann.id, audio=False, video=True)


async def test_hand_raises_and_lowers_and_feeds_the_queue(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="queue")
    await bob.ok({"type": "hand", "raised": True})
    person = await updated(fac, bob.id)
    assert isinstance(person["hand"], float)
    await fac.recv_until("floor", floor_where(queue=[bob.id]))
    await ann.ok({"type": "hand", "raised": True})
    await fac.recv_until("floor", floor_where(queue=[bob.id, ann.id]))
    await bob.ok({"type": "hand", "raised": False})
    await updated(fac, bob.id, hand=None)
    await fac.recv_until("floor", floor_where(queue=[ann.id]))


async def test_away_is_shown_and_releases_the_floor(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann", floor_mode="queue")
    await fac.ok({"type": "give_floor", "target": ann.id})
    await ann.recv_until("floor", floor_where(holder=ann.id))
    await ann.ok({"type": "away", "away": True})
    await updated(fac, ann.id, away=True)
    await fac.recv_until("floor", floor_where(holder=None))
    await ann.ok({"type": "away", "away": False})
    await updated(fac, ann.id, away=False)


async def test_pass_in_a_circle_moves_the_floor_to_the_next(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="circle")
    await fac.ok({"type": "next_floor"})
    await fac.recv_until("floor", floor_where(holder=ann.id, order=[ann.id, bob.id]))
    await bob.refused({"type": "pass"}, "forbidden")  # not the holder
    await ann.ok({"type": "pass"})
    await fac.recv_until("floor", floor_where(holder=bob.id))
    await bob.ok({"type": "pass"})
    await fac.recv_until("floor", floor_where(holder=None))  # the round is complete


async def test_pass_in_queue_mode_gives_the_floor_back(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann", floor_mode="queue")
    await fac.ok({"type": "give_floor", "target": ann.id})
    await fac.recv_until("floor", floor_where(holder=ann.id))
    await ann.ok({"type": "pass"})
    await fac.recv_until("floor", floor_where(holder=None))


# Facilitator: voices ---------------------------------------------------------------------------


async def test_mute_sets_audio_off_and_blocks_unmuting(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await ann.ok({"type": "media", "audio": True, "video": True})
    await updated(bob, ann.id, audio=True, video=True)
    await fac.ok({"type": "mute", "target": ann.id})
    person = await updated(bob, ann.id, muted_by_facilitator=True)
    assert person["audio"] is False and person["video"] is True and person["can_speak"] is False
    await ann.refused({"type": "media", "audio": True, "video": True}, "not_allowed_to_speak")


async def test_mute_with_video_turns_the_camera_off_too(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "media", "audio": True, "video": True})
    await updated(fac, ann.id, video=True)
    await fac.ok({"type": "mute", "target": ann.id, "video": True})
    person = await updated(fac, ann.id, muted_by_facilitator=True)
    assert person["audio"] is False and person["video"] is False


async def test_mute_all_mutes_every_member_but_not_facilitators(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await fac.ok({"type": "mute_all"})
    snapshot = await bob.snapshot()
    muted = {p["id"]: p["muted_by_facilitator"] for p in snapshot["participants"]}
    assert muted == {fac.id: False, ann.id: True, bob.id: True}


async def test_allow_speak_lifts_the_mute_but_leaves_audio_off(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "media", "audio": True, "video": False})
    await fac.ok({"type": "mute", "target": ann.id})
    await updated(fac, ann.id, muted_by_facilitator=True)
    await fac.ok({"type": "allow_speak", "target": ann.id})
    person = await updated(fac, ann.id, muted_by_facilitator=False)
    assert person["audio"] is False and person["can_speak"] is True
    await ann.ok({"type": "media", "audio": True, "video": False})
    await updated(fac, ann.id, audio=True)


# Facilitator: the floor ----------------------------------------------------------------------------


async def test_give_floor_lets_the_holder_speak_in_queue_mode(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="queue")
    assert ann.welcome is not None and ann.welcome["you"]["can_speak"] is False
    await fac.ok({"type": "give_floor", "target": ann.id})
    await updated(bob, ann.id, can_speak=True)
    floor = await bob.recv_until("floor", floor_where(holder=ann.id))
    assert isinstance(floor["started_at"], float) and floor["ends_at"] is None
    assert isinstance(floor["seq"], int)
    await ann.ok({"type": "media", "audio": True, "video": False})
    await updated(bob, ann.id, audio=True)


async def test_next_floor_takes_the_first_raised_hand_in_queue_mode(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="queue")
    await bob.ok({"type": "hand", "raised": True})
    await ann.ok({"type": "hand", "raised": True})
    await fac.recv_until("floor", floor_where(queue=[bob.id, ann.id]))
    await fac.ok({"type": "next_floor"})
    await updated(fac, bob.id, hand=None, can_speak=True)
    await fac.recv_until("floor", floor_where(holder=bob.id, queue=[ann.id]))


async def test_end_floor_takes_the_floor_back_and_switches_the_mic_off(server: Running) -> None:
    _room, fac, (ann,) = await server.live_room("Ann", floor_mode="queue")
    await fac.ok({"type": "give_floor", "target": ann.id})
    await ann.ok({"type": "media", "audio": True, "video": False})
    await updated(fac, ann.id, audio=True)
    await fac.ok({"type": "end_floor"})
    person = await updated(fac, ann.id, audio=False)
    assert person["can_speak"] is False
    await fac.recv_until("floor", floor_where(holder=None))


async def test_set_floor_with_a_circle_order_and_a_turn_length(server: Running) -> None:
    _room, fac, (ann, bob, cleo) = await server.live_room("Ann", "Bob", "Cleo")
    order = [cleo.id, ann.id, bob.id]
    await fac.ok({"type": "set_floor", "mode": "circle", "order": order, "turn_seconds": 60})
    floor = await ann.recv_until("floor", floor_where(mode="circle"))
    assert floor["order"] == order and floor["holder"] is None and floor["turn_seconds"] == 60
    await fac.ok({"type": "next_floor"})
    floor = await ann.recv_until("floor", floor_where(holder=cleo.id))
    assert floor["ends_at"] == floor["started_at"] + 60
    await fac.ok({"type": "next_floor"})
    await ann.recv_until("floor", floor_where(holder=ann.id))
    # Members can no longer speak unless they hold the floor.
    speak = {p["id"]: p["can_speak"] for p in (await bob.snapshot())["participants"]}
    assert speak == {fac.id: True, ann.id: True, bob.id: False, cleo.id: False}
    await fac.refused({"type": "set_floor", "mode": "circle", "order": [ann.id, ann.id]}, "bad_message")
    await fac.refused({"type": "set_floor", "mode": "circle", "order": ["nobody"]}, "invalid_target")
    await fac.ok({"type": "set_floor", "mode": "open", "turn_seconds": None})
    await ann.recv_until("floor", floor_where(mode="open", holder=None, turn_seconds=None))


async def test_lower_hand_and_lower_all_hands(server: Running) -> None:
    _room, fac, (ann, bob, cleo) = await server.live_room("Ann", "Bob", "Cleo", floor_mode="queue")
    for client in (ann, bob, cleo):
        await client.ok({"type": "hand", "raised": True})
    await fac.recv_until("floor", floor_where(queue=[ann.id, bob.id, cleo.id]))
    await fac.ok({"type": "lower_hand", "target": bob.id})
    await updated(ann, bob.id, hand=None)
    await fac.recv_until("floor", floor_where(queue=[ann.id, cleo.id]))
    await fac.ok({"type": "lower_all_hands"})
    await fac.recv_until("floor", floor_where(queue=[]))
    snapshot = await ann.snapshot()
    assert all(p["hand"] is None for p in snapshot["participants"])


# Facilitator: the room -------------------------------------------------------------------------------


async def test_lock_is_announced_and_keeps_newcomers_out(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    await fac.ok({"type": "lock", "locked": True})
    locked = await ann.recv_until("room_locked")
    assert locked["locked"] is True and isinstance(locked["seq"], int)
    late = await server.connect()
    assert (await late.join(room.member, "Late"))["code"] == "room_locked"
    await fac.ok({"type": "lock", "locked": False})
    assert (await ann.recv_until("room_locked"))["locked"] is False
    await server.joined(room.member, "Later")


async def test_remove_tells_the_target_and_the_others(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await fac.ok({"type": "remove", "target": ann.id})
    removed = await ann.recv_until("removed")
    assert isinstance(removed["reason"], str) and "seq" not in removed
    assert await ann.expect_close() == 4003
    left = await bob.recv_until("participant_left")
    assert left == {"type": "participant_left", "id": ann.id, "reason": "removed", "seq": left["seq"]}
    await fac.refused({"type": "remove", "target": fac.id}, "invalid_target")


async def test_delete_chat_removes_a_message_for_everyone(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await ann.ok({"type": "chat", "text": "oops, wrong room"})
    message_id = (await bob.recv_until("chat"))["message"]["id"]
    await ann.ok({"type": "chat", "text": "staying"})
    await fac.ok({"type": "delete_chat", "message_id": message_id})
    deleted = await bob.recv_until("chat_deleted")
    assert deleted["id"] == message_id and isinstance(deleted["seq"], int)
    assert [m["text"] for m in (await bob.snapshot())["chat"]] == ["staying"]
    await fac.refused({"type": "delete_chat", "message_id": message_id}, "invalid_target")


async def test_chat_ids_say_nothing_about_private_messages(server: Running) -> None:
    """With ids counted per session (m1, m2, …) a member saw m1, m3 and learned that someone
    wrote to the facilitators in between. Ids are random: no count, no order, no gap."""
    room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    await ann.ok({"type": "chat", "text": "one"})
    for n in range(3):
        await bob.ok({"type": "chat", "text": f"private {n}", "to": "facilitators"})
    await ann.ok({"type": "chat", "text": "two"})
    live = [(await ann.recv_until("chat"))["message"] for _ in range(2)]
    assert [m["text"] for m in live] == ["one", "two"]
    ids = [m["id"] for m in live]
    late = await server.joined(room.member, "Late")
    assert late.welcome is not None
    assert [m["id"] for m in late.welcome["chat"]] == ids == [m["id"] for m in (await ann.snapshot())["chat"]]
    seen_by_fac = [(await fac.recv_until("chat"))["message"] for _ in range(5)]
    private = [m["id"] for m in seen_by_fac if m["private"]]
    assert len(set(ids + private)) == 5
    for message_id in ids + private:
        assert not any(
            message_id.endswith(str(n)) and message_id[: -len(str(n))].isalpha() for n in range(1, 100)
        ), f"{message_id} looks like a count"
        assert len(message_id) >= 16, "random ids are long enough not to be guessed"
    # The facilitator deletes by these ids as before.
    await fac.ok({"type": "delete_chat", "message_id": private[1]})
    assert (await bob.recv_until("chat_deleted"))["id"] == private[1]
    assert [m["id"] for m in (await ann.snapshot())["chat"]] == ids


async def test_end_session_ends_it_for_everyone_and_the_room_goes_idle(server: Running) -> None:
    room, fac, (ann,) = await _lobby_session(server)
    await ann.ok({"type": "chat", "text": "this is forgotten"})
    first_session = fac.welcome["session"]["id"] if fac.welcome else None
    await fac.send({"type": "end_session", "id": "end"})
    for client in (fac, ann):
        ended = await client.recv_until("session_ended")
        assert isinstance(ended["reason"], str) and "seq" not in ended
        assert await client.expect_close() == 4010
    # The command that closed its own socket still got its one answer.
    assert [m for m in fac.seen if m.get("ref") == "end"] == [{"type": "ack", "ref": "end"}]
    # Idle again: a member who comes now waits for a facilitator; the next session is new and empty.
    early = await server.connect()
    assert await early.join(room.member, "Early") == {"type": "lobby", "state": "waiting_for_facilitator"}
    again = await server.joined(room.facilitator, "Fran")
    assert again.welcome is not None
    assert again.welcome["session"]["id"] != first_session and again.welcome["chat"] == []
    assert again.welcome["lobby"] == [{"id": again.welcome["lobby"][0]["id"], "name": "Early"}]


async def _lobby_session(server: Running) -> tuple[Any, Client, list[Client]]:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    ann = await server.connect()
    assert (await ann.join(room.member, "Ann"))["type"] == "lobby"
    ann_id = (await fac.recv_until("lobby_changed"))["waiting"][0]["id"]
    await fac.ok({"type": "admit", "target": ann_id})
    await ann.wait_welcome()
    return room, fac, [ann]


# Signals ---------------------------------------------------------------------------------------------

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}


async def test_signal_is_relayed_only_to_its_target_with_from(server: Running) -> None:
    _room, fac, (ann, bob, cleo) = await server.live_room("Ann", "Bob", "Cleo")
    data = {"description": OFFER, "pc": "1-2", "peer_pc": None}
    await ann.ok({"type": "signal", "to": bob.id, "data": data})
    relayed = await bob.recv()
    assert relayed == {"type": "signal", "from": ann.id, "data": data}  # unchanged, no seq
    for client in (fac, cleo, ann):
        assert not [m for m in await client.drain() if m["type"] == "signal"]
    candidate = {
        "candidate": {
            "candidate": "candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
        }
    }
    await bob.ok({"type": "signal", "to": ann.id, "data": candidate})
    assert await ann.recv() == {"type": "signal", "from": bob.id, "data": candidate}


async def test_signal_to_someone_in_another_room_is_an_invalid_target(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    _other, other_fac, (olga,) = await server.live_room("Olga")
    for target in (olga.id, other_fac.id):
        await ann.refused({"type": "signal", "to": target, "data": {"description": OFFER}}, "invalid_target")
    assert not [m for m in await olga.drain() if m["type"] == "signal"]


async def test_signal_to_someone_in_the_lobby_is_an_invalid_target(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fac = await server.joined(room.facilitator, "Fran")
    waiting = await server.connect()
    await waiting.join(room.member, "Wanda")
    wanda_id = (await fac.recv_until("lobby_changed", lambda m: m["waiting"] != []))["waiting"][0]["id"]
    await fac.refused({"type": "signal", "to": wanda_id, "data": {"description": OFFER}}, "invalid_target")
    await waiting.refused({"type": "signal", "to": fac.id, "data": {"description": OFFER}}, "forbidden")


RELAY_SETTINGS = {
    "ice_policy": "relay",
    "turn_urls": "turn:127.0.0.1:3478",
    "turn_secret": "turn-shared-secret-for-tests",
}
HOST = "candidate:1 1 udp 2122260223 192.168.1.20 54400 typ host generation 0"
SRFLX = "candidate:2 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 192.168.1.20 rport 54400"
RELAY = "candidate:3 1 udp 41885439 127.0.0.1 50000 typ relay raddr 203.0.113.7 rport 54400"
RELAY_SEEN = "candidate:3 1 udp 41885439 127.0.0.1 50000 typ relay raddr 0.0.0.0 rport 0"  # names nobody


async def test_relay_policy_hands_out_turn_credentials(start_server: StartServer) -> None:
    server = await start_server(**RELAY_SETTINGS)
    _room, fac, (ann,) = await server.live_room("Ann")
    for client in (fac, ann):
        welcome = client.welcome
        assert welcome is not None and welcome["ice_transport_policy"] == "relay"
        (ice,) = welcome["ice_servers"]
        assert ice["urls"] == ["turn:127.0.0.1:3478"]
        expires, _, pid = ice["username"].partition(":")
        assert pid == client.id and int(expires) > time.time()
        digest = hmac.new(b"turn-shared-secret-for-tests", ice["username"].encode(), hashlib.sha1).digest()
        assert ice["credential"] == base64.b64encode(digest).decode()


async def test_relay_policy_drops_non_relay_candidates(start_server: StartServer) -> None:
    server = await start_server(**RELAY_SETTINGS)
    _room, _fac, (ann, bob) = await server.live_room("Ann", "Bob")
    for text in (HOST, SRFLX):
        trickled = {"candidate": {"candidate": text, "sdpMid": "0"}}
        await ann.ok({"type": "signal", "to": bob.id, "data": trickled})
    relay = {"candidate": {"candidate": RELAY, "sdpMid": "0"}}
    await ann.ok({"type": "signal", "to": bob.id, "data": relay})
    end = {"candidate": {"candidate": "", "sdpMid": "0"}}  # end of candidates passes
    await ann.ok({"type": "signal", "to": bob.id, "data": end})
    signals = [m for m in await bob.drain() if m["type"] == "signal"]
    assert [m["data"] for m in signals] == [{"candidate": {"candidate": RELAY_SEEN, "sdpMid": "0"}}, end]


async def test_relay_policy_strips_non_relay_lines_from_descriptions(start_server: StartServer) -> None:
    server = await start_server(**RELAY_SETTINGS)
    _room, _fac, (ann, bob) = await server.live_room("Ann", "Bob")
    lines = [
        "v=0",
        "o=- 1 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 192.168.1.20",
        "a=rtcp:54401 IN IP4 192.168.1.20",
        f"a={HOST}",
        f"a={SRFLX}",
        f"a={RELAY}",
        "a=end-of-candidates",
        "",
    ]
    sdp = "\r\n".join(lines)
    await ann.ok({"type": "signal", "to": bob.id, "data": {"description": {"type": "offer", "sdp": sdp}}})
    relayed = await bob.recv_until("signal")
    kept = relayed["data"]["description"]["sdp"]
    assert relayed["data"]["description"]["type"] == "offer"
    seen = {
        "c=IN IP4 192.168.1.20": "c=IN IP4 0.0.0.0",
        "a=rtcp:54401 IN IP4 192.168.1.20": "a=rtcp:54401 IN IP4 0.0.0.0",
        f"a={RELAY}": f"a={RELAY_SEEN}",
    }
    dropped = (f"a={HOST}", f"a={SRFLX}")
    assert kept == "\r\n".join(seen.get(line, line) for line in lines if line not in dropped)
    assert "192.168.1.20" not in kept and "203.0.113.7" not in kept and "typ srflx" not in kept


async def test_policy_all_relays_every_candidate(server: Running) -> None:
    _room, _fac, (ann, bob) = await server.live_room("Ann", "Bob")
    sdp = f"v=0\r\na={HOST}\r\na={SRFLX}\r\n"
    await ann.ok({"type": "signal", "to": bob.id, "data": {"candidate": {"candidate": HOST}}})
    await ann.ok({"type": "signal", "to": bob.id, "data": {"description": {"type": "offer", "sdp": sdp}}})
    signals = [m["data"] for m in await bob.drain() if m["type"] == "signal"]
    assert signals == [{"candidate": {"candidate": HOST}}, {"description": {"type": "offer", "sdp": sdp}}]


# seq ---------------------------------------------------------------------------------------------------


async def test_numbered_events_are_gapless_and_in_the_same_order_for_everyone(server: Running) -> None:
    room = await server.create_room(lobby=True, floor_mode="queue")
    fac = await server.joined(room.facilitator, "Fran")
    members: list[Client] = []
    for name in ("Ann", "Bob", "Cleo"):
        client = await server.connect()
        assert (await client.join(room.member, name))["type"] == "lobby"
        members.append(client)
    await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 3)
    await fac.ok({"type": "admit_all"})
    for client in members:
        await client.wait_welcome()
    ann, bob, cleo = members
    late = await server.connect()
    assert (await late.join(room.member, "Late", id="join"))["type"] == "lobby"

    # A session's worth of everything, acknowledged one by one.
    await ann.ok({"type": "chat", "text": "hello"})
    await bob.ok({"type": "chat", "text": "psst", "to": "facilitators"})
    await cleo.ok({"type": "react", "emoji": cleo.welcome["reactions"][1] if cleo.welcome else ""})
    await ann.ok({"type": "hand", "raised": True})
    await bob.ok({"type": "hand", "raised": True})
    await fac.ok({"type": "next_floor"})
    await ann.ok({"type": "media", "audio": True, "video": True})
    await ann.ok({"type": "signal", "to": bob.id, "data": {"description": OFFER}})
    await bob.refused({"type": "media", "audio": True, "video": False}, "not_allowed_to_speak")
    await fac.ok({"type": "mute", "target": ann.id})
    await fac.ok({"type": "allow_speak", "target": ann.id})
    await ann.ok({"type": "pass"})
    waiting = await fac.recv_until("lobby_changed", lambda m: m["waiting"] != [])
    await fac.ok({"type": "admit", "target": waiting["waiting"][0]["id"]})
    await late.wait_welcome()
    await cleo.ok({"type": "away", "away": True})
    await fac.ok({"type": "set_floor", "mode": "circle", "turn_seconds": 30})
    await fac.ok({"type": "next_floor"})
    await fac.ok({"type": "lock", "locked": True})
    hello = next(m for m in fac.seen if m["type"] == "chat" and m["message"]["text"] == "hello")
    await fac.ok({"type": "delete_chat", "message_id": hello["message"]["id"]})
    await fac.ok({"type": "lower_all_hands"})
    await fac.ok({"type": "remove", "target": cleo.id})
    await bob.ok({"type": "sync"})
    await ann.ok({"type": "ping"})
    await fac.ok({"type": "chat", "text": "the end"})

    everyone = [fac, ann, bob, late]
    for client in everyone:
        await client.recv_until("chat", lambda m: m["message"]["text"] == "the end")
    assert await cleo.expect_close() == 4003

    streams: dict[str, list[dict[str, Any]]] = {}
    for client in [*everyone, cleo]:
        start = max(i for i, m in enumerate(client.seen) if m["type"] == "welcome")
        expected = client.seen[start]["seq"] + 1
        events = []
        for message in client.seen[start + 1 :]:
            if message["type"] == "snapshot":  # covers everything up to its seq
                assert message["seq"] >= expected - 1
                expected = message["seq"] + 1
            elif "seq" in message:
                assert message["seq"] == expected, (client.id, message)  # +1 each time, no gaps
                expected += 1
                events.append(message)
        streams[client.id] = events
        for message in client.seen:
            kind = message["type"]
            if kind in UNNUMBERED or (kind == "chat" and message["message"]["private"]):
                assert "seq" not in message, message
    # The same events in the same order for everyone (from when each one came in).
    full = streams[fac.id]
    by_seq = {m["seq"]: m for m in full}
    assert [m["seq"] for m in full] == sorted(by_seq)
    for pid, events in streams.items():
        assert events == [by_seq[m["seq"]] for m in events], pid
    for client in (ann, late):  # no sync, not removed: exactly the facilitator's list from their welcome
        assert streams[client.id] == full[len(full) - len(streams[client.id]) :], client.id
    assert streams[ann.id][0]["seq"] < streams[late.id][0]["seq"]
    kinds = {m["type"] for m in full}
    assert {
        "chat",
        "reaction",
        "participant_updated",
        "floor",
        "participant_joined",
        "room_locked",
        "chat_deleted",
        "participant_left",
    } <= kinds
    # Every unnumbered kind showed up somewhere, without a seq (checked above).
    unnumbered = {m["type"] for c in [*everyone, cleo] for m in c.seen if "seq" not in m}
    assert {"signal", "ack", "error", "pong", "lobby_changed", "speaking", "removed", "lobby", "chat"} <= (
        unnumbered
    )


BROWSER_SDP_CHARS = 10_000  # a Chromium audio+video offer is 5-7 kB; Firefox's is smaller


async def test_a_full_mesh_negotiation_burst_is_never_rate_limited(server: Running) -> None:
    """Joining a 12-person room, a browser negotiates with 11 peers at once: an offer of a real
    browser's size and a burst of trickled candidates for each, and then (a network change) an
    ICE restart with all of it again. With the default limits (messages and bytes) none of it
    may be refused."""
    names = [f"M{n}" for n in range(10)]
    _room, fac, members = await server.live_room(*names, max_participants=12)
    newcomer, peers = members[-1], [fac, *members[:-1]]
    candidates = 25  # host, srflx and relay, for several interfaces and both transports
    padding = "a=rtcp-fb:96 goog-remb\r\n" * (BROWSER_SDP_CHARS // 24)
    sdp = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" + padding}
    for _round in range(2):
        for peer in peers:
            tags = {"pc": "1111-2222", "peer_pc": None}
            await newcomer.send({"type": "signal", "to": peer.id, "data": {"description": sdp, **tags}})
            for n in range(candidates):
                line = f"candidate:{n} 1 udp 2122260223 127.0.0.1 {50000 + n} typ host generation 0 ufrag ab"
                trickled = {"candidate": line, "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "ab"}
                data = {"candidate": trickled, **tags}
                await newcomer.send({"type": "signal", "to": peer.id, "data": data})
    errors = [m for m in await newcomer.drain() if m["type"] == "error"]
    assert errors == [], "a WebRTC negotiation burst hit the rate limit"
    for peer in peers:
        got = [m for m in await peer.drain() if m["type"] == "signal"]
        assert len(got) == 2 * (1 + candidates) and {m["from"] for m in got} == {newcomer.id}

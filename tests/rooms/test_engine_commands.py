"""Every command of the room engine, for every role and session state (PROTOCOL.md rules)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
from engine_helpers import (
    FAC,
    SESSION,
    T0,
    Room,
    encode,
    events,
    fjoin,
    idle_room,
    join,
    live_room,
    numbered,
    only,
)

from rooms import commands as c
from rooms.codes import Close
from rooms.engine import apply, lobby_state
from rooms.events import (
    Admitted,
    ChatDeleted,
    ChatPosted,
    FloorChanged,
    Lobby,
    LobbyChanged,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    Reaction,
    Removed,
    RoomLocked,
    SessionEnded,
)
from rooms.handlers import REACTIONS
from rooms.model import FloorMode, LeaveReason, LobbyState, Role, SessionState

# Who may send what: one table ---------------------------------------------------------------------

FACILITATOR_ONLY = "facilitator"
ADMITTED = "admitted"  # anyone admitted
ANYONE = "anyone"  # also from the lobby

Make = Callable[[str], c.Command]

COMMANDS: list[tuple[str, Make, str]] = [
    ("leave", lambda a: c.Leave(actor=a), ANYONE),
    ("chat", lambda a: c.Chat(actor=a, text="hello all", message_id="c1"), ADMITTED),
    ("chat_private", lambda a: c.Chat(actor=a, text="a", message_id="c2", to_facilitators=True), ADMITTED),
    ("react", lambda a: c.React(actor=a, emoji=REACTIONS[0]), ADMITTED),
    ("media", lambda a: c.Media(actor=a, audio=False, video=True), ADMITTED),
    ("hand", lambda a: c.Hand(actor=a, raised=True), ADMITTED),
    ("away", lambda a: c.Away(actor=a, away=True), ADMITTED),
    ("mute", lambda a: c.Mute(actor=a, target="m3"), FACILITATOR_ONLY),
    ("mute_video", lambda a: c.Mute(actor=a, target="m3", video=True), FACILITATOR_ONLY),
    ("mute_all", lambda a: c.MuteAll(actor=a), FACILITATOR_ONLY),
    ("allow_speak", lambda a: c.AllowSpeak(actor=a, target="m2"), FACILITATOR_ONLY),
    ("give_floor", lambda a: c.GiveFloor(actor=a, target="m1"), FACILITATOR_ONLY),
    ("next_floor", lambda a: c.NextFloor(actor=a), FACILITATOR_ONLY),
    ("end_floor", lambda a: c.EndFloor(actor=a), FACILITATOR_ONLY),
    ("set_floor", lambda a: c.SetFloor(actor=a, mode=FloorMode.CIRCLE), FACILITATOR_ONLY),
    ("lower_hand", lambda a: c.LowerHand(actor=a, target="m2"), FACILITATOR_ONLY),
    ("lower_all_hands", lambda a: c.LowerAllHands(actor=a), FACILITATOR_ONLY),
    ("admit", lambda a: c.Admit(actor=a, target="w1"), FACILITATOR_ONLY),
    ("admit_all", lambda a: c.AdmitAll(actor=a), FACILITATOR_ONLY),
    ("deny", lambda a: c.Deny(actor=a, target="w1"), FACILITATOR_ONLY),
    ("deny_all", lambda a: c.DenyAll(actor=a), FACILITATOR_ONLY),
    ("lock", lambda a: c.Lock(actor=a, locked=True), FACILITATOR_ONLY),
    ("remove", lambda a: c.Remove(actor=a, target="m3"), FACILITATOR_ONLY),
    ("remove_ban", lambda a: c.Remove(actor=a, target="m3", ban=True), FACILITATOR_ONLY),
    ("delete_chat", lambda a: c.DeleteChat(actor=a, message_id="m1"), FACILITATOR_ONLY),
    ("end_session", lambda a: c.EndSession(actor=a), FACILITATOR_ONLY),
]

# actor id -> its role in the room built by busy_room()
ACTORS = {"f1": "facilitator", "m1": "member", "w1": "lobby", "zz": "stranger"}


def allowed(kind: str, who: str) -> bool:
    if who == "facilitator":
        return True
    if who == "member":
        return kind in (ADMITTED, ANYONE)
    if who == "lobby":
        return kind == ANYONE
    return False


def busy_room() -> Room:
    """A live queue-mode session where every command above has something to act on: m3 holds the
    floor, m2 has a raised hand and is facilitator-muted, w1 waits, m2 wrote chat message m1."""
    room = live_room(3, lobby=True, waiting=1, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m3"))
    room.do(c.Hand(actor="m2", raised=True))
    room.do(c.Chat(actor="m2", text="I had a rough week", message_id="m1"))
    room.do(c.Mute(actor=FAC, target="m2"))
    return room


ROLE_CASES = [
    pytest.param(make, actor, allowed(kind, who), id=f"{name}-{who}")
    for name, make, kind in COMMANDS
    for actor, who in ACTORS.items()
]


@pytest.mark.parametrize(("make", "actor", "ok"), ROLE_CASES)
def test_live_session_role_table(make: Make, actor: str, ok: bool) -> None:
    room = busy_room()
    cmd = make(actor)
    if not ok:
        room.refuse(cmd, "forbidden")
        return
    before = encode(room.state)
    out = room.do(cmd)
    assert out or encode(room.state) != before, "an allowed command did nothing"


IDLE_ACTORS = {"w1": "lobby", "zz": "stranger"}
IDLE_CASES = [
    pytest.param(make, actor, allowed(kind, who), id=f"{name}-{who}")
    for name, make, kind in COMMANDS
    for actor, who in IDLE_ACTORS.items()
]


@pytest.mark.parametrize(("make", "actor", "ok"), IDLE_CASES)
def test_idle_session_role_table(make: Make, actor: str, ok: bool) -> None:
    """Before a facilitator arrives nobody is admitted: only leaving is possible."""
    room = idle_room(waiting=["w1", "w2"])
    cmd = make(actor)
    if not ok:
        room.refuse(cmd, "forbidden")
        return
    room.do(cmd)
    assert actor not in room.state.seats


@pytest.mark.parametrize(
    ("name", "make"),
    [(name, make) for name, make, kind in COMMANDS if kind == FACILITATOR_ONLY],
    ids=[name for name, _, kind in COMMANDS if kind == FACILITATOR_ONLY],
)
def test_a_disconnected_member_is_still_a_member(name: str, make: Make) -> None:
    room = busy_room()
    room.do(c.Disconnect(actor="m1"))
    room.refuse(make("m1"), "forbidden")


def test_pass_is_for_the_floor_holder_only() -> None:
    room = busy_room()
    for actor in ("f1", "m1", "m2"):
        room.refuse(c.Pass(actor=actor), "forbidden")
    room.refuse(c.Pass(actor="w1"), "forbidden")
    room.refuse(c.Pass(actor="zz"), "forbidden")
    room.do(c.Pass(actor="m3"))
    assert room.holder is None


# invalid_target: a target outside the room (or of the wrong kind) ----------------------------------

TARGET_CASES = [
    ("mute-unknown", c.Mute(actor=FAC, target="ghost")),
    ("mute-lobby", c.Mute(actor=FAC, target="w1")),
    ("mute-facilitator", c.Mute(actor=FAC, target="f2")),
    ("mute-self", c.Mute(actor=FAC, target=FAC)),
    ("allow_speak-unknown", c.AllowSpeak(actor=FAC, target="ghost")),
    ("allow_speak-lobby", c.AllowSpeak(actor=FAC, target="w1")),
    ("give_floor-unknown", c.GiveFloor(actor=FAC, target="ghost")),
    ("give_floor-lobby", c.GiveFloor(actor=FAC, target="w1")),
    ("lower_hand-unknown", c.LowerHand(actor=FAC, target="ghost")),
    ("lower_hand-lobby", c.LowerHand(actor=FAC, target="w1")),
    ("admit-unknown", c.Admit(actor=FAC, target="ghost")),
    ("admit-admitted", c.Admit(actor=FAC, target="m1")),
    ("deny-unknown", c.Deny(actor=FAC, target="ghost")),
    ("deny-admitted", c.Deny(actor=FAC, target="m1")),
    ("remove-unknown", c.Remove(actor=FAC, target="ghost")),
    ("remove-facilitator", c.Remove(actor=FAC, target="f2")),
    ("remove-self", c.Remove(actor=FAC, target=FAC, ban=True)),
    ("delete_chat-unknown", c.DeleteChat(actor=FAC, message_id="m999")),
    ("set_floor-order-unknown", c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("m1", "ghost"))),
    ("set_floor-order-lobby", c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("m1", "w1"))),
]


@pytest.mark.parametrize("cmd", [cmd for _, cmd in TARGET_CASES], ids=[name for name, _ in TARGET_CASES])
def test_invalid_target(cmd: c.Command) -> None:
    room = live_room(2, lobby=True, waiting=1, facilitators=2)
    room.do(c.Chat(actor="m1", text="hello", message_id="c4"))
    room.refuse(cmd, "invalid_target")


def test_system_commands_for_unknown_ids() -> None:
    room = live_room(1)
    room.refuse(c.Disconnect(actor="ghost"), "invalid_target")
    room.refuse(c.Resume(actor="ghost", session_id=SESSION, gen=0), "unauthorized")


# join --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MEMBER, Role.FACILITATOR])
@pytest.mark.parametrize("live", [False, True])
def test_join_needs_the_agreement(role: Role, live: bool) -> None:
    room = live_room(1) if live else idle_room()
    room.refuse(join("new", role, agree=False), "agreement_required")


@pytest.mark.parametrize(
    ("live", "lobby", "expected"),
    [
        (False, True, LobbyState.WAITING_FOR_FACILITATOR),
        (False, False, LobbyState.WAITING_FOR_FACILITATOR),
        (True, True, LobbyState.WAITING_FOR_ADMISSION),
        (True, False, None),  # admitted at once
    ],
)
def test_member_join(live: bool, lobby: bool, expected: LobbyState | None) -> None:
    room = live_room(1, lobby=lobby) if live else idle_room(lobby=lobby)
    seq = room.state.seq
    out = room.do(join("new"))
    seat = room.seat("new")
    assert seat.person.role is Role.MEMBER
    if expected is None:
        assert seat.admitted
        joined = only(out, ParticipantJoined)
        assert joined.to is None and joined.event.participant == seat.person
        assert joined.event.seq == seq + 1 == room.state.seq
        assert only(out, Admitted).to == ("new",)
        assert not events(out, Lobby)
    else:
        assert not seat.admitted
        lobby_msg = only(out, Lobby)
        assert lobby_msg.to == ("new",) and lobby_msg.event.state is expected
        assert not numbered(out), "a lobby seat is never announced to the room"
        assert room.state.seq == seq
    if live and lobby:
        changed = only(out, LobbyChanged)
        assert changed.to == (FAC,)
        assert changed.event.waiting == [{"id": "new", "name": "name-new"}]
    if not live:
        assert room.state.session is SessionState.IDLE


def test_member_join_waits_for_facilitator_when_the_facilitator_is_gone() -> None:
    room = live_room(1, lobby=True)
    room.do(c.Disconnect(actor=FAC))
    out = room.do(join("new"))
    assert only(out, Lobby).event.state is LobbyState.WAITING_FOR_FACILITATOR
    out = room.do(c.Resume(actor=FAC, session_id=SESSION, gen=0))
    assert only(out, Lobby).event.state is LobbyState.WAITING_FOR_ADMISSION


def test_facilitator_join_starts_the_session() -> None:
    room = idle_room(waiting=["w1", "w2"], lobby=True)
    out = room.do(fjoin(session_id="session-42"))
    state = room.state
    assert state.session is SessionState.LIVE
    assert state.session_id == "session-42"
    assert state.started_at == room.now
    assert room.seat(FAC).admitted
    assert only(out, ParticipantJoined).event.participant.id == FAC
    assert only(out, Admitted).to == (FAC,)
    lobby_msgs = events(out, Lobby)
    assert sorted(d.to or () for d in lobby_msgs) == [("w1",), ("w2",)]
    assert {d.event.state for d in lobby_msgs} == {LobbyState.WAITING_FOR_ADMISSION}
    assert not room.seat("w1").admitted and not room.seat("w2").admitted


def test_facilitator_join_without_lobby_admits_everyone_waiting() -> None:
    room = idle_room(waiting=["w1", "w2"], lobby=False)
    out = room.do(fjoin())
    assert all(seat.admitted for seat in room.state.seats.values())
    joined = [d.event.participant.id for d in events(out, ParticipantJoined)]
    assert sorted(joined) == [FAC, "w1", "w2"]
    assert sorted(d.to or () for d in events(out, Admitted)) == [(FAC,), ("w1",), ("w2",)]
    assert [d.event.seq for d in numbered(out)] == list(range(1, room.state.seq + 1))


def test_second_facilitator_joins_the_running_session() -> None:
    room = live_room(1, lobby=True)
    room.do(fjoin("f2", session_id="other"))
    assert room.state.session_id == SESSION
    assert room.seat("f2").admitted


def test_locked_room_refuses_members_but_not_facilitators() -> None:
    room = live_room(1, lobby=False)
    out = room.do(c.Lock(actor=FAC, locked=True))
    assert only(out, RoomLocked).event.locked is True
    room.refuse(join("new"), "room_locked")
    room.do(fjoin("f2"))
    assert room.seat("f2").admitted
    room.do(c.Lock(actor=FAC, locked=False))
    room.do(join("new"))
    assert room.seat("new").admitted


def test_lock_to_the_same_value_says_nothing() -> None:
    room = live_room(1)
    room.do(c.Lock(actor=FAC, locked=True))
    assert room.do(c.Lock(actor=FAC, locked=True)) == []


def test_full_room_refuses_members_but_not_facilitators() -> None:
    room = live_room(2, max_participants=4)  # no lobby: members come straight in
    room.do(join("m3"))
    room.refuse(join("new"), "room_full")  # f1 m1 m2 m3: full
    room.do(fjoin("f2"))
    assert room.seat("f2").admitted
    room.do(c.Leave(actor="m3"))
    room.refuse(join("new"), "room_full")  # f2 took the place
    room.do(c.Leave(actor="m1"))
    room.do(join("new"))


@pytest.mark.parametrize("by", ["sub", "device"])
def test_banned_by_sub_or_device(by: str) -> None:
    room = live_room(1)
    room.do(join("bad", sub="person-7", device="dev-7"))
    room.do(c.Remove(actor=FAC, target="bad", ban=True))
    assert "person-7" in room.state.banned_subs and "dev-7" in room.state.banned_devices
    again = join("bad2", sub="person-7") if by == "sub" else join("bad2", device="dev-7")
    room.refuse(again, "banned")
    room.do(join("other", sub="person-8", device="dev-8"))


def test_remove_without_ban_allows_a_rejoin() -> None:
    room = live_room(1)
    room.do(join("p", sub="person-7", device="dev-7"))
    room.do(c.Remove(actor=FAC, target="p"))
    assert not room.state.banned_subs and not room.state.banned_devices
    room.do(join("p", sub="person-7", device="dev-7"))
    assert room.seat("p").admitted


def test_rejoin_with_the_same_id_takes_the_seat_back() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.do(c.Hand(actor="m1", raised=True))
    room.do(c.Mute(actor=FAC, target="m1"))
    raised_at = room.person("m1").hand
    room.do(c.Disconnect(actor="m1"))
    room.do(c.Lock(actor=FAC, locked=True))  # a lock does not keep out someone who has a seat
    seq = room.state.seq
    out = room.do(join("m1", name="another name"))
    seat = room.seat("m1")
    assert seat.person.connected and seat.disconnected_at is None
    assert seat.resume_gen == 1
    assert seat.person.hand == raised_at and seat.person.muted_by_facilitator
    assert only(out, Admitted).to == ("m1",)
    assert not events(out, ParticipantJoined)
    updated = only(out, ParticipantUpdated)
    assert updated.event.participant.connected and updated.event.seq == seq + 1
    assert len(room.state.seats) == 3


def test_rejoin_of_a_lobby_seat_tells_it_where_it_waits() -> None:
    room = live_room(1, lobby=True, waiting=1)
    out = room.do(join("w1"))
    assert only(out, Lobby).event.state is LobbyState.WAITING_FOR_ADMISSION
    assert not room.seat("w1").admitted
    assert not numbered(out)


# resume, disconnect, grace -------------------------------------------------------------------------


def test_resume_with_the_right_generation() -> None:
    room = live_room(1)
    room.do(c.Disconnect(actor="m1"))
    out = room.do(c.Resume(actor="m1", session_id=SESSION, gen=0))
    seat = room.seat("m1")
    assert seat.resume_gen == 1 and seat.person.connected and seat.disconnected_at is None
    assert only(out, Admitted).to == ("m1",)
    assert only(out, ParticipantUpdated).event.participant.connected
    room.refuse(c.Resume(actor="m1", session_id=SESSION, gen=0), "unauthorized")
    room.do(c.Resume(actor="m1", session_id=SESSION, gen=1))  # a second socket: allowed, newer gen
    assert room.seat("m1").resume_gen == 2


def test_resume_of_a_live_seat_says_nothing_to_the_room() -> None:
    room = live_room(1)
    out = room.do(c.Resume(actor="m1", session_id=SESSION, gen=0))
    assert numbered(out) == []
    assert only(out, Admitted).to == ("m1",)


@pytest.mark.parametrize("session_id", ["an-older-session", None])
def test_resume_into_another_session(session_id: str | None) -> None:
    room = live_room(1)
    room.refuse(c.Resume(actor="m1", session_id=session_id, gen=0), "session_ended")


def test_resume_after_the_session_ended() -> None:
    room = live_room(1)
    room.do(c.EndSession(actor=FAC))
    room.refuse(c.Resume(actor="m1", session_id=SESSION, gen=0), "session_ended")
    room.do(fjoin(session_id="s-2"))
    room.refuse(c.Resume(actor="m1", session_id=SESSION, gen=0), "session_ended")


def test_disconnect_keeps_the_seat_during_the_grace_period() -> None:
    room = live_room(2)
    out = room.do(c.Disconnect(actor="m1"), at=T0 + 100)
    assert room.seat("m1").disconnected_at == T0 + 100
    updated = only(out, ParticipantUpdated)
    assert updated.to is None and updated.event.participant.connected is False
    room.refuse(c.Disconnect(actor="m1"), "invalid_target")
    assert room.do(c.Tick(grace_seconds=30), at=T0 + 129.9) == []
    assert "m1" in room.state.seats
    out = room.do(c.Tick(grace_seconds=30), at=T0 + 130)
    left = only(out, ParticipantLeft)
    assert left.to is None and left.event.id == "m1" and left.event.reason is LeaveReason.TIMEOUT
    assert "m1" not in room.state.seats
    assert room.do(c.Tick(grace_seconds=30), at=T0 + 200) == []


def test_a_lobby_seat_whose_socket_closed_goes_at_once_unannounced() -> None:
    """A lobby seat has no resume token: keeping it for a grace period would only show the
    facilitator a ghost to admit, and hold a lobby place."""
    room = live_room(1, lobby=True, waiting=1)
    out = room.do(c.Disconnect(actor="w1"), at=T0 + 100)
    assert "w1" not in room.state.seats
    assert not numbered(out)
    assert only(out, LobbyChanged).event.waiting == []


def test_resume_after_the_grace_period_is_refused_even_before_the_clock_ticks() -> None:
    room = live_room(1)
    room.do(c.Disconnect(actor="m1"), at=T0 + 100)
    resume = c.Resume(actor="m1", session_id=SESSION, gen=0, grace_seconds=30)
    room.refuse(resume, "unauthorized", dt=31)  # the clock stands at T0 + 100
    room.do(resume, at=T0 + 129)


def test_a_stale_socket_cannot_disconnect_a_seat_taken_back_by_a_newer_one() -> None:
    room = live_room(1)
    room.do(c.Disconnect(actor="m1"))  # the first socket (built without an id) drops
    out = room.do(c.Resume(actor="m1", session_id=SESSION, gen=0, conn="new"))
    assert only(out, Admitted).event.conn == "new", "the welcome names the socket that holds the seat"
    room.refuse(c.Disconnect(actor="m1", conn="old"), "invalid_target")  # e.g. from a dead node
    assert room.seat("m1").person.connected
    room.do(c.Disconnect(actor="m1", conn="new"))
    assert not room.seat("m1").person.connected


def test_a_resumed_seat_is_not_timed_out() -> None:
    room = live_room(1)
    room.do(c.Disconnect(actor="m1"), at=T0 + 100)
    room.do(c.Resume(actor="m1", session_id=SESSION, gen=0), at=T0 + 110)
    assert room.do(c.Tick(grace_seconds=30), at=T0 + 500) == []
    assert room.seat("m1").person.connected


# leave -------------------------------------------------------------------------------------------


def test_leave() -> None:
    room = live_room(2)
    out = room.do(c.Leave(actor="m1"))
    left = only(out, ParticipantLeft)
    assert left.to is None and left.event.reason is LeaveReason.LEFT and left.event.id == "m1"
    assert "m1" not in room.state.seats
    room.refuse(c.Leave(actor="m1"), "forbidden")


def test_leave_from_the_lobby() -> None:
    room = live_room(1, lobby=True, waiting=1)
    out = room.do(c.Leave(actor="w1"))
    assert "w1" not in room.state.seats
    assert not numbered(out)
    assert only(out, LobbyChanged).to == (FAC,)


# chat --------------------------------------------------------------------------------------------


def test_group_chat_is_numbered_for_everyone_and_stored() -> None:
    room = live_room(2)
    seq = room.state.seq
    out = room.do(c.Chat(actor="m1", text="hello everyone", message_id="c5"))
    posted = only(out, ChatPosted)
    assert posted.to is None and posted.event.seq == seq + 1 == room.state.seq
    message = posted.event.message
    assert (message.id, message.sender, message.name) == ("c5", "m1", "name-m1")
    assert message.role is Role.MEMBER
    assert message.text == "hello everyone"
    assert message.ts == room.now and message.private is False
    assert room.state.chat == [message]
    wire = msgspec.json.decode(msgspec.json.encode(posted.event))
    assert wire["type"] == "chat" and wire["seq"] == seq + 1 and wire["message"]["from"] == "m1"


def test_private_chat_reaches_facilitators_and_the_sender_only() -> None:
    room = live_room(2, facilitators=2)
    seq = room.state.seq
    out = room.do(c.Chat(actor="m1", text="I am not ok", message_id="c6", to_facilitators=True))
    posted = only(out, ChatPosted)
    assert set(posted.to or ()) == {"f1", "f2", "m1"} and len(posted.to or ()) == 3
    assert posted.event.seq is None and room.state.seq == seq
    assert "seq" not in msgspec.json.decode(msgspec.json.encode(posted.event))
    assert posted.event.message.private
    assert room.state.chat == [posted.event.message]
    assert room.state.visible_chat(room.seat("m2")) == []
    assert room.state.visible_chat(room.seat("m1")) == [posted.event.message]
    assert room.state.visible_chat(room.seat("f2")) == [posted.event.message]


def test_private_chat_from_a_facilitator() -> None:
    room = live_room(1, facilitators=2)
    posted = only(room.do(c.Chat(actor="f2", text="note", message_id="c7", to_facilitators=True)), ChatPosted)
    assert sorted(posted.to or ()) == ["f1", "f2"]
    assert posted.event.message.role is Role.FACILITATOR, "the role the server knows, for the page"


def test_chat_ids_are_the_commands_and_delete_chat() -> None:
    room = live_room(2)
    room.do(c.Chat(actor="m1", text="one", message_id="k7"))
    room.do(c.Chat(actor="m2", text="two", message_id="a2", to_facilitators=True))
    room.do(c.Chat(actor="m2", text="three", message_id="z0"))
    assert [m.id for m in room.state.chat] == ["k7", "a2", "z0"], "the server's ids, in the order sent"
    seq = room.state.seq
    out = room.do(c.DeleteChat(actor=FAC, message_id="k7"))
    deleted = only(out, ChatDeleted)
    assert deleted.to is None and deleted.event.id == "k7" and deleted.event.seq == seq + 1
    assert [m.id for m in room.state.chat] == ["a2", "z0"]
    room.refuse(c.DeleteChat(actor=FAC, message_id="k7"), "invalid_target")
    room.do(c.Chat(actor="m1", text="four", message_id="q5"))
    seq = room.state.seq
    out = room.do(c.DeleteChat(actor=FAC, message_id="a2"))  # private messages too
    assert [m.id for m in room.state.chat] == ["z0", "q5"]
    deleted = only(out, ChatDeleted)
    assert sorted(deleted.to or ()) == sorted([FAC, "m2"]), "only those who saw it hear of its deletion"
    assert deleted.event.seq is None and room.state.seq == seq, "a private deletion is not numbered"


# react -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("emoji", REACTIONS)
def test_react_with_the_fixed_set(emoji: str) -> None:
    room = live_room(1)
    seq = room.state.seq
    out = room.do(c.React(actor="m1", emoji=emoji))
    reaction = only(out, Reaction)
    assert reaction.to is None and reaction.event.seq == seq + 1
    assert (reaction.event.sender, reaction.event.emoji) == ("m1", emoji)
    assert room.state.chat == [], "reactions are not stored"


@pytest.mark.parametrize("emoji", ["🔥", "", "💜💜", "hello", "<script>"])
def test_react_outside_the_set(emoji: str) -> None:
    room = live_room(1)
    room.refuse(c.React(actor="m1", emoji=emoji), "bad_message")


# media -------------------------------------------------------------------------------------------


def test_self_mute_and_unmute_in_open_mode() -> None:
    room = live_room(1)
    out = room.do(c.Media(actor="m1", audio=True, video=True))
    person = room.person("m1")
    assert person.audio and person.video and person.can_speak
    assert only(out, ParticipantUpdated).event.participant == person
    room.do(c.Media(actor="m1", audio=False, video=True))
    assert not room.person("m1").audio
    assert room.do(c.Media(actor="m1", audio=False, video=True)) == [], "no change, no event"


@pytest.mark.parametrize("mode", [FloorMode.QUEUE, FloorMode.CIRCLE])
def test_without_the_floor_a_member_may_not_unmute(mode: FloorMode) -> None:
    room = live_room(2, floor_mode=mode)
    assert not room.person("m1").can_speak
    room.refuse(c.Media(actor="m1", audio=True, video=False), "not_allowed_to_speak")
    room.do(c.Media(actor="m1", audio=False, video=True))  # the camera is free
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    assert room.person("m1").can_speak
    room.do(c.Media(actor="m1", audio=True, video=True))
    assert room.person("m1").audio
    room.refuse(c.Media(actor="m2", audio=True, video=False), "not_allowed_to_speak")


@pytest.mark.parametrize("mode", [FloorMode.QUEUE, FloorMode.CIRCLE])
def test_facilitators_are_always_heard(mode: FloorMode) -> None:
    room = live_room(1, floor_mode=mode)
    room.do(c.Media(actor=FAC, audio=True, video=False))
    assert room.person(FAC).audio and room.person(FAC).can_speak


def test_facilitator_muted_member_may_not_unmute() -> None:
    room = live_room(1)
    room.do(c.Mute(actor=FAC, target="m1"))
    err = room.refuse(c.Media(actor="m1", audio=True, video=False), "not_allowed_to_speak")
    assert "facilitator" in err.message
    room.do(c.Media(actor="m1", audio=False, video=True))


def test_facilitator_muted_floor_holder_may_not_unmute() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    room.do(c.Mute(actor=FAC, target="m1"))
    assert room.holder == "m1" and not room.person("m1").can_speak
    room.refuse(c.Media(actor="m1", audio=True, video=False), "not_allowed_to_speak")


# mute, mute_all, allow_speak -----------------------------------------------------------------------


def test_mute() -> None:
    room = live_room(2)
    room.do(c.Media(actor="m1", audio=True, video=True))
    out = room.do(c.Mute(actor=FAC, target="m1"))
    person = room.person("m1")
    assert not person.audio and person.video and person.muted_by_facilitator and not person.can_speak
    assert only(out, ParticipantUpdated).event.participant == person


def test_mute_with_video() -> None:
    room = live_room(2)
    room.do(c.Media(actor="m1", audio=True, video=True))
    room.do(c.Mute(actor=FAC, target="m1", video=True))
    person = room.person("m1")
    assert not person.audio and not person.video and person.muted_by_facilitator
    room.refuse(c.Media(actor="m1", audio=False, video=True), "forbidden")  # camera stays off
    room.do(c.AllowSpeak(actor=FAC, target="m1"))
    room.do(c.Media(actor="m1", audio=False, video=True))
    assert room.person("m1").video


def test_mute_all_mutes_members_only() -> None:
    room = live_room(3, lobby=True, waiting=1, facilitators=2)
    for pid in ("f1", "f2", "m1", "m2"):
        room.do(c.Media(actor=pid, audio=True, video=True))
    out = room.do(c.MuteAll(actor="f2"))
    for pid in ("m1", "m2", "m3"):
        person = room.person(pid)
        assert person.muted_by_facilitator and not person.audio and person.video is (pid != "m3")
    for pid in ("f1", "f2"):
        person = room.person(pid)
        assert person.audio and not person.muted_by_facilitator
    assert not room.person("w1").muted_by_facilitator
    assert {d.event.participant.id for d in events(out, ParticipantUpdated)} == {"m1", "m2", "m3"}


def test_allow_speak_lifts_the_mute_but_leaves_the_mic_off() -> None:
    room = live_room(1)
    room.do(c.Media(actor="m1", audio=True, video=False))
    room.do(c.Mute(actor=FAC, target="m1"))
    out = room.do(c.AllowSpeak(actor=FAC, target="m1"))
    person = room.person("m1")
    assert not person.muted_by_facilitator and not person.audio and person.can_speak
    assert only(out, ParticipantUpdated).event.participant == person
    room.do(c.Media(actor="m1", audio=True, video=False))
    assert room.person("m1").audio


def test_allow_speak_in_queue_mode_does_not_give_the_floor() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE)
    room.do(c.Mute(actor=FAC, target="m1"))
    room.do(c.AllowSpeak(actor=FAC, target="m1"))
    assert not room.person("m1").can_speak
    room.refuse(c.Media(actor="m1", audio=True, video=False), "not_allowed_to_speak")


# hands, away ------------------------------------------------------------------------------------


def test_hand_raise_and_lower() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    out = room.do(c.Hand(actor="m2", raised=True), at=T0 + 50)
    assert room.person("m2").hand == T0 + 50
    assert only(out, FloorChanged).event.queue == ["m2"]
    assert only(out, ParticipantUpdated).event.participant.hand == T0 + 50
    room.do(c.Hand(actor="m1", raised=True), at=T0 + 60)
    assert room.do(c.Hand(actor="m2", raised=True), at=T0 + 70) == [], "raising twice keeps the place"
    assert room.person("m2").hand == T0 + 50
    assert room.state.hand_queue() == ["m2", "m1"]
    out = room.do(c.Hand(actor="m2", raised=False))
    assert room.person("m2").hand is None
    assert only(out, FloorChanged).event.queue == ["m1"]


def test_lower_hand_and_lower_all_hands() -> None:
    room = live_room(3, floor_mode=FloorMode.QUEUE)
    for pid in ("m1", "m2", "m3", FAC):
        room.do(c.Hand(actor=pid, raised=True))
    room.do(c.LowerHand(actor=FAC, target="m2"))
    assert room.state.hand_queue() == ["m1", "m3", FAC]
    out = room.do(c.LowerAllHands(actor=FAC))
    assert room.state.hand_queue() == []
    assert len(events(out, ParticipantUpdated)) == 3
    assert only(out, FloorChanged).event.queue == []
    assert room.do(c.LowerHand(actor=FAC, target="m1")) == []


def test_away_and_back() -> None:
    room = live_room(1)
    room.do(c.Media(actor="m1", audio=False, video=True))
    room.do(c.Hand(actor="m1", raised=True))
    out = room.do(c.Away(actor="m1", away=True))
    person = room.person("m1")
    assert person.away and not person.video and person.hand is not None, "away keeps the place"
    assert only(out, ParticipantUpdated).event.participant == person
    room.do(c.Away(actor="m1", away=False))
    assert not room.person("m1").away


# admit, admit_all, deny ---------------------------------------------------------------------------


def test_admit() -> None:
    room = live_room(1, lobby=True, waiting=2)
    seq = room.state.seq
    out = room.do(c.Admit(actor=FAC, target="w2"))
    assert room.seat("w2").admitted and not room.seat("w1").admitted
    joined = only(out, ParticipantJoined)
    assert joined.to is None and joined.event.participant.id == "w2" and joined.event.seq == seq + 1
    assert only(out, Admitted).to == ("w2",)
    assert only(out, LobbyChanged).event.waiting == [{"id": "w1", "name": "name-w1"}]


def test_admit_all() -> None:
    room = live_room(1, lobby=True, waiting=3)
    out = room.do(c.AdmitAll(actor=FAC))
    assert all(seat.admitted for seat in room.state.seats.values())
    assert [d.event.participant.id for d in events(out, ParticipantJoined)] == ["w1", "w2", "w3"]
    assert only(out, LobbyChanged).event.waiting == []
    assert room.do(c.AdmitAll(actor=FAC)) == []


def test_admitted_member_in_circle_mode_joins_the_order() -> None:
    room = live_room(2, lobby=True, waiting=1, floor_mode=FloorMode.CIRCLE)
    assert room.state.floor.order == ("m1", "m2")
    out = room.do(c.Admit(actor=FAC, target="w1"))
    assert room.state.floor.order == ("m1", "m2", "w1")
    assert only(out, FloorChanged).event.order == ["m1", "m2", "w1"]


def test_deny() -> None:
    room = live_room(1, lobby=True, waiting=2)
    out = room.do(c.Deny(actor=FAC, target="w1"))
    assert "w1" not in room.state.seats
    denied = only(out, Lobby)
    assert denied.to == ("w1",) and denied.event.state is LobbyState.DENIED and denied.close == Close.REFUSED
    assert not numbered(out)
    assert only(out, LobbyChanged).event.waiting == [{"id": "w2", "name": "name-w2"}]


def test_lobby_off_mid_session_admits_the_waiting() -> None:
    room = live_room(1, lobby=True, waiting=1)
    out = room.do(c.UpdateRoom(config=msgspec.structs.replace(room.state.room, lobby=False)))
    assert room.seat("w1").admitted
    assert only(out, ParticipantJoined).event.participant.id == "w1"


# remove ------------------------------------------------------------------------------------------


def test_remove() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    seq = room.state.seq
    out = room.do(c.Remove(actor=FAC, target="m1"))
    assert "m1" not in room.state.seats
    removed = only(out, Removed)
    assert removed.to == ("m1",) and removed.close == Close.REFUSED
    left = only(out, ParticipantLeft)
    assert left.to is None and left.event.reason is LeaveReason.REMOVED and left.event.id == "m1"
    assert room.holder is None
    assert [d.event.seq for d in numbered(out)] == list(range(seq + 1, room.state.seq + 1))


def test_remove_from_the_lobby() -> None:
    room = live_room(1, lobby=True, waiting=1)
    room.do(join("w2", device="dev-2"))
    out = room.do(c.Remove(actor=FAC, target="w2", ban=True))
    assert "w2" not in room.state.seats
    assert only(out, Removed).close == Close.REFUSED
    assert not events(out, ParticipantLeft), "nobody in the room knew about a lobby seat"
    room.refuse(join("w3", device="dev-2"), "banned")


def test_a_member_cannot_remove_or_ban() -> None:
    room = live_room(2)
    room.refuse(c.Remove(actor="m1", target="m2", ban=True), "forbidden")
    room.refuse(c.Remove(actor="m1", target=FAC), "forbidden")


# end_session -------------------------------------------------------------------------------------


def test_end_session() -> None:
    room = live_room(2, lobby=True, waiting=1, floor_mode=FloorMode.QUEUE)
    room.do(join("bad", sub="person-9"))
    room.do(c.Remove(actor=FAC, target="bad", ban=True))
    room.do(c.Chat(actor="m1", text="hello", message_id="c12"))
    room.do(c.GiveFloor(actor=FAC, target="m2"))
    room.do(c.Lock(actor=FAC, locked=True))
    room.do(c.Disconnect(actor="m2"))
    out = room.do(c.EndSession(actor=FAC))
    assert len(out) == 1
    ended = out[0]
    assert isinstance(ended.event, SessionEnded) and ended.close == Close.SESSION_ENDED
    assert set(ended.to or ()) == {"f1", "m1", "m2", "w1"}
    state = room.state
    assert state.session is SessionState.IDLE and state.session_id is None and state.started_at is None
    assert state.seats == {} and state.chat == [] and state.seq == 0
    assert not state.locked and not state.banned_subs
    assert state.floor.holder is None and state.floor.mode is FloorMode.OPEN
    assert state.speaking == {} and state.speaking_since == {}
    assert state.room.title == "Tuesday pain group"

    out = room.do(join("m1", sub="person-9"))  # the ban was for that session only
    assert only(out, Lobby).event.state is LobbyState.WAITING_FOR_FACILITATOR
    room.do(fjoin(session_id="s-2"))
    assert room.state.session_id == "s-2" and room.state.session is SessionState.LIVE
    assert lobby_state(room.state) is LobbyState.WAITING_FOR_ADMISSION


def test_end_session_then_a_new_session_numbers_from_one() -> None:
    room = live_room(1)
    room.do(c.EndSession(actor=FAC))
    out = room.do(fjoin(session_id="s-2"))
    assert [d.event.seq for d in numbered(out)] == [1]


# apply never touches its input ------------------------------------------------------------------------


def test_apply_returns_a_new_state_and_leaves_the_old_one() -> None:
    room = live_room(2)
    old = room.state
    snapshot = encode(old)
    new, _ = apply(old, c.Chat(actor="m1", text="hi", message_id="c13"), room.now + 1)
    new2, _ = apply(old, c.EndSession(actor=FAC), room.now + 1)
    assert encode(old) == snapshot
    assert new is not old and new2 is not old
    assert old.chat == [] and old.session is SessionState.LIVE

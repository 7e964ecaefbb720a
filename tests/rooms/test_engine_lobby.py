"""The lobby has places of its own: waiting never takes a room seat, the lobby is capped, a wait
ends after a while, a closed socket's lobby seat goes at once, and a facilitator can clear it.

Before this, lobby seats counted against ``max_participants`` and never timed out: eleven
sockets waiting in a 12-seat room kept every real member out.
"""

from __future__ import annotations

import pytest
from engine_helpers import FAC, T0, events, fjoin, idle_room, join, live_room, numbered, only

from rooms import commands as c
from rooms.codes import Close
from rooms.engine import next_deadline
from rooms.events import Admitted, Lobby, LobbyChanged, ParticipantJoined
from rooms.model import LobbyState

WAIT = 600.0  # lobby_wait_seconds in these tests
GRACE = 30.0


def test_eleven_waiting_do_not_fill_a_twelve_seat_room() -> None:
    room = live_room(0, lobby=True, waiting=11, max_participants=12)
    room.do(join("real"))  # the twelfth seat-holder today: refused room_full before the change
    room.do(c.Admit(actor=FAC, target="real"))
    assert room.seat("real").admitted


def test_admission_stops_at_the_room_size() -> None:
    room = live_room(2, lobby=True, waiting=4, max_participants=4)  # f1 m1 m2 + 4 waiting
    room.do(c.Admit(actor=FAC, target="w2"))
    assert room.seat("w2").admitted and len(room.state.admitted()) == 4
    error = room.refuse(c.Admit(actor=FAC, target="w1"), "room_full")
    assert "4" in error.message
    room.refuse(c.AdmitAll(actor=FAC), "room_full")
    room.do(c.Leave(actor="m1"))
    out = room.do(c.AdmitAll(actor=FAC))  # one place: the first to come gets it, the others wait
    assert [d.event.participant.id for d in events(out, ParticipantJoined)] == ["w1"]
    assert [s.id for s in room.state.waiting()] == ["w3", "w4"]
    assert only(out, LobbyChanged).event.waiting == [
        {"id": "w3", "name": "name-w3"},
        {"id": "w4", "name": "name-w4"},
    ]


def test_a_room_without_lobby_lets_in_only_as_many_as_fit() -> None:
    room = idle_room(waiting=["m1", "m2", "m3", "m4"], lobby=False, max_participants=3)
    out = room.do(fjoin())
    assert sorted(d.to for d in events(out, Admitted)) == [(FAC,), ("m1",), ("m2",)]
    assert [s.id for s in room.state.waiting()] == ["m3", "m4"]
    told = {d.to: d.event for d in events(out, Lobby)}
    assert told == {
        ("m3",): Lobby(state=LobbyState.WAITING_FOR_ADMISSION),
        ("m4",): Lobby(state=LobbyState.WAITING_FOR_ADMISSION),
    }
    room.refuse(join("late"), "room_full")  # straight in or not at all, as before
    room.do(c.Leave(actor="m1"))  # a place comes free: the next one waiting comes in
    assert room.seat("m3").admitted and not room.seat("m4").admitted


def test_the_lobby_has_a_cap_of_its_own() -> None:
    room = live_room(1, lobby=True, waiting=2)
    error = room.refuse(
        c.Join(actor="w3", name="w3", role=join("w3").role, agree=True, lobby_max=2), "lobby_full"
    )
    assert "waiting room is full" in error.message
    room.do(fjoin("f2"))  # facilitators never wait
    room.do(c.Leave(actor="w1"))
    room.do(c.Join(actor="w3", name="w3", role=join("w3").role, agree=True, lobby_max=2))
    assert not room.seat("w3").admitted


def test_the_lobby_cap_applies_before_the_session_too() -> None:
    room = idle_room(waiting=["a", "b"])
    room.refuse(c.Join(actor="c", name="c", role=join("c").role, agree=True, lobby_max=2), "lobby_full")


def test_a_long_wait_ends_with_a_reason() -> None:
    room = live_room(1, lobby=True)
    room.do(join("w1"), at=T0 + 100)
    room.do(join("w2"), at=T0 + 200)
    assert next_deadline(room.state, GRACE, WAIT) == T0 + 100 + WAIT
    assert next_deadline(room.state, GRACE) is None, "no lobby deadline without a lobby wait"
    assert room.do(c.Tick(grace_seconds=GRACE, lobby_wait_seconds=WAIT), at=T0 + 100 + WAIT - 1) == []
    out = room.do(c.Tick(grace_seconds=GRACE, lobby_wait_seconds=WAIT), at=T0 + 100 + WAIT)
    timed_out = only(out, Lobby)
    assert timed_out.to == ("w1",) and timed_out.event.state is LobbyState.TIMED_OUT
    assert timed_out.close == Close.REFUSED
    assert "w1" not in room.state.seats and not room.seat("w2").admitted
    assert only(out, LobbyChanged).event.waiting == [{"id": "w2", "name": "name-w2"}]
    assert not numbered(out), "the room never knew about a lobby seat"
    assert next_deadline(room.state, GRACE, WAIT) == T0 + 200 + WAIT


def test_admitted_people_never_time_out_of_the_lobby_clock() -> None:
    room = live_room(2, lobby=True)
    assert room.do(c.Tick(grace_seconds=GRACE, lobby_wait_seconds=WAIT), at=T0 + 10 * WAIT) == []
    assert len(room.state.admitted()) == 3


def test_waiting_for_a_late_facilitator_counts_from_arrival() -> None:
    """A generous wait covers a late facilitator; the clock runs from the member's arrival."""
    room = idle_room()
    room.do(join("early"), at=T0)
    room.do(fjoin(), at=T0 + WAIT - 10)
    assert room.seat("early") and not room.seat("early").admitted
    out = room.do(c.Tick(grace_seconds=GRACE, lobby_wait_seconds=WAIT), at=T0 + WAIT)
    assert only(out, Lobby).event.state is LobbyState.TIMED_OUT


def test_a_lobby_seat_goes_when_its_socket_closes() -> None:
    room = live_room(1, lobby=True, waiting=2)
    out = room.do(c.Disconnect(actor="w1"))
    assert "w1" not in room.state.seats
    assert only(out, LobbyChanged).event.waiting == [{"id": "w2", "name": "name-w2"}]
    room.do(join("w3"))
    assert [s.id for s in room.state.waiting()] == ["w2", "w3"]


def test_deny_all_clears_the_lobby() -> None:
    room = live_room(2, lobby=True, waiting=3)
    out = room.do(c.DenyAll(actor=FAC))
    assert room.state.waiting() == [] and len(room.state.admitted()) == 3
    denied = events(out, Lobby)
    assert sorted(d.to for d in denied) == [("w1",), ("w2",), ("w3",)]
    assert all(d.event.state is LobbyState.DENIED and d.close == Close.REFUSED for d in denied)
    assert only(out, LobbyChanged).event.waiting == []
    assert not numbered(out)
    assert room.do(c.DenyAll(actor=FAC)) == [], "an empty lobby: nothing to do"
    room.do(join("w1"))  # a denial is not a ban
    room.refuse(c.DenyAll(actor="m1"), "forbidden")


@pytest.mark.parametrize("lobby_max", [1, 5])
def test_personal_invite_back_in_the_lobby_is_not_a_new_place(lobby_max: int) -> None:
    room = live_room(1, lobby=True)
    first = c.Join(actor="p", name="p", role=join("p").role, agree=True, sub="s-p", lobby_max=lobby_max)
    room.do(first)
    room.do(first)  # the same person again (another tab): takes the same lobby seat back
    assert [s.id for s in room.state.waiting()] == ["p"]

"""The floor: open/queue/circle, turns and their timer, and the speaking-time balance."""

from __future__ import annotations

import pytest
from engine_helpers import FAC, SESSION, T0, Room, join, live_room, numbered, only

from rooms import commands as c
from rooms.engine import next_deadline, speaking_view
from rooms.events import FloorChanged, FloorTimeUp, ParticipantUpdated, Speaking
from rooms.handlers.floor import can_speak
from rooms.model import FloorMode

GRACE = 30.0


def tick(room: Room, at: float) -> list[object]:
    return list(room.do(c.Tick(grace_seconds=GRACE), at=at))


def raise_hands(room: Room, *pids: str) -> None:
    for pid in pids:
        room.do(c.Hand(actor=pid, raised=True))


# Modes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(FloorMode))
def test_the_session_starts_in_the_room_default_mode(mode: FloorMode) -> None:
    room = live_room(2, floor_mode=mode, turn_seconds=90)
    floor = room.state.floor
    assert floor.mode is mode and floor.holder is None and floor.turn_seconds == 90
    expect_member_voice = mode is FloorMode.OPEN
    assert room.person("m1").can_speak is expect_member_voice
    assert room.person(FAC).can_speak


@pytest.mark.parametrize("mode", list(FloorMode))
def test_can_speak_follows_its_definition(mode: FloorMode) -> None:
    room = live_room(3, floor_mode=mode)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    room.do(c.Mute(actor=FAC, target="m2"))
    for seat in room.state.seats.values():
        assert seat.person.can_speak == can_speak(room.state, seat)
    assert room.person("m1").can_speak
    assert not room.person("m2").can_speak
    assert room.person("m3").can_speak is (mode is FloorMode.OPEN)


# give_floor -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(FloorMode))
def test_give_floor(mode: FloorMode) -> None:
    room = live_room(2, floor_mode=mode, turn_seconds=60)
    raise_hands(room, "m2", "m1")
    seq = room.state.seq
    out = room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    floor = room.state.floor
    assert floor.holder == "m1" and floor.started_at == T0 + 100 and floor.ends_at == T0 + 160
    assert room.person("m1").hand is None, "taking the floor lowers the hand"
    changed = only(out, FloorChanged)
    assert changed.to is None and changed.event.holder == "m1" and changed.event.queue == ["m2"]
    assert changed.event.ends_at == T0 + 160
    assert [d.event.seq for d in numbered(out)] == list(range(seq + 1, room.state.seq + 1))


def test_give_floor_to_a_facilitator() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target=FAC))
    assert room.holder == FAC


def test_give_floor_to_someone_away_or_reconnecting() -> None:
    room = live_room(3, floor_mode=FloorMode.QUEUE)
    room.do(c.Away(actor="m1", away=True))
    room.do(c.Disconnect(actor="m2"))
    room.refuse(c.GiveFloor(actor=FAC, target="m1"), "invalid_target")
    room.refuse(c.GiveFloor(actor=FAC, target="m2"), "invalid_target")
    room.refuse(c.GiveFloor(actor=FAC, target="nobody"), "invalid_target")
    room.do(c.GiveFloor(actor=FAC, target="m3"))


def test_give_floor_again_restarts_the_turn() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE, turn_seconds=60)
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    tick(room, T0 + 200)
    assert room.state.floor.time_up_sent
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 300)
    floor = room.state.floor
    assert floor.started_at == T0 + 300 and floor.ends_at == T0 + 360 and not floor.time_up_sent


# next_floor: queue ----------------------------------------------------------------------------------


def test_next_floor_in_queue_follows_raise_time() -> None:
    room = live_room(3, floor_mode=FloorMode.QUEUE)
    room.do(c.Hand(actor="m3", raised=True), at=T0 + 10)
    room.do(c.Hand(actor="m1", raised=True), at=T0 + 20)
    room.do(c.Hand(actor="m2", raised=True), at=T0 + 30)
    assert room.state.hand_queue() == ["m3", "m1", "m2"]
    taken = []
    for _ in range(4):
        room.do(c.NextFloor(actor=FAC))
        taken.append(room.holder)
    assert taken == ["m3", "m1", "m2", None]
    assert room.state.hand_queue() == []


def test_next_floor_in_queue_skips_away_and_disconnected_but_keeps_their_place() -> None:
    room = live_room(4, floor_mode=FloorMode.QUEUE)
    raise_hands(room, "m1", "m2", "m3", "m4")
    room.do(c.Away(actor="m1", away=True))
    room.do(c.Disconnect(actor="m2"))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m3"
    assert room.state.hand_queue() == ["m1", "m2", "m4"]
    room.do(c.Away(actor="m1", away=False))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m1"
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m4"
    room.do(c.NextFloor(actor=FAC))
    assert room.holder is None and room.state.hand_queue() == ["m2"]


def test_next_floor_with_no_hands_takes_the_floor_back() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    out = room.do(c.NextFloor(actor=FAC))
    assert room.holder is None
    assert only(out, FloorChanged).event.holder is None
    assert room.do(c.NextFloor(actor=FAC)) == [], "nothing changed, nothing said"


# next_floor: circle -----------------------------------------------------------------------------------


def test_circle_goes_round_and_starts_again_from_the_top() -> None:
    room = live_room(3, floor_mode=FloorMode.CIRCLE)
    assert room.state.floor.order == ("m1", "m2", "m3")
    taken = []
    for _ in range(5):
        room.do(c.NextFloor(actor=FAC))
        taken.append(room.holder)
    assert taken == ["m1", "m2", "m3", None, "m1"]


def test_circle_skips_away_and_disconnected() -> None:
    room = live_room(4, floor_mode=FloorMode.CIRCLE)
    room.do(c.Away(actor="m2", away=True))
    room.do(c.Disconnect(actor="m3"))
    taken = []
    for _ in range(3):
        room.do(c.NextFloor(actor=FAC))
        taken.append(room.holder)
    assert taken == ["m1", "m4", None]
    assert room.state.floor.order == ("m1", "m2", "m3", "m4"), "skipped people keep their place"


def test_circle_continues_after_someone_given_the_floor() -> None:
    room = live_room(4, floor_mode=FloorMode.CIRCLE)
    room.do(c.GiveFloor(actor=FAC, target="m3"))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m4"


def test_circle_when_everyone_is_away() -> None:
    room = live_room(2, floor_mode=FloorMode.CIRCLE)
    room.do(c.Away(actor="m1", away=True))
    room.do(c.Away(actor="m2", away=True))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder is None


# pass ---------------------------------------------------------------------------------------------


def test_pass_in_circle_moves_on() -> None:
    room = live_room(3, floor_mode=FloorMode.CIRCLE)
    room.do(c.NextFloor(actor=FAC))
    room.do(c.Pass(actor="m1"))
    assert room.holder == "m2"
    room.refuse(c.Pass(actor="m1"), "forbidden")
    room.refuse(c.Pass(actor="m3"), "forbidden")
    room.refuse(c.Pass(actor=FAC), "forbidden")
    room.do(c.Pass(actor="m2"))
    out = room.do(c.Pass(actor="m3"))
    assert room.holder is None, "the last pass completes the round"
    assert only(out, FloorChanged).event.holder is None
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m1"


@pytest.mark.parametrize("mode", [FloorMode.QUEUE, FloorMode.OPEN])
def test_pass_outside_circle_gives_the_floor_back(mode: FloorMode) -> None:
    room = live_room(3, floor_mode=mode)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    raise_hands(room, "m2", "m3")
    room.do(c.Pass(actor="m1"))
    assert room.holder is None, "the facilitator gives the floor to the next in line, not a pass"
    assert room.state.hand_queue() == ["m2", "m3"]


def test_pass_without_the_floor() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.refuse(c.Pass(actor="m1"), "forbidden")
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    room.refuse(c.Pass(actor="m2"), "forbidden")


# end_floor --------------------------------------------------------------------------------------------


def test_end_floor() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE, turn_seconds=30)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    out = room.do(c.EndFloor(actor=FAC))
    floor = room.state.floor
    assert floor.holder is None and floor.started_at is None and floor.ends_at is None
    assert only(out, FloorChanged).to is None
    assert room.do(c.EndFloor(actor=FAC)) == []
    assert next_deadline(room.state, GRACE) is None


def test_end_floor_in_circle_keeps_the_place_in_the_round() -> None:
    room = live_room(3, floor_mode=FloorMode.CIRCLE)
    room.do(c.NextFloor(actor=FAC))
    room.do(c.EndFloor(actor=FAC))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m2"


# set_floor ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("old", list(FloorMode))
@pytest.mark.parametrize("new", list(FloorMode))
def test_set_floor_mode(old: FloorMode, new: FloorMode) -> None:
    room = live_room(2, floor_mode=old)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    out = room.do(c.SetFloor(actor=FAC, mode=new))
    floor = room.state.floor
    assert floor.mode is new
    if new is not old:
        assert floor.holder is None, "a mode change clears the holder"
        changed = only(out, FloorChanged)
        assert changed.event.mode == new and changed.event.holder is None
    else:
        assert floor.holder == "m1", "the same mode again keeps the turn"
    for seat in room.state.seats.values():
        assert seat.person.can_speak == can_speak(room.state, seat)


def test_default_circle_order_is_members_by_join_time() -> None:
    room = live_room(0, lobby=True, floor_mode=FloorMode.QUEUE)
    for pid in ("a", "b", "c", "d"):
        room.do(join(pid))
    for pid in ("d", "c", "b", "a"):
        room.do(c.Admit(actor=FAC, target=pid))
    room.do(join("z"))  # still in the lobby
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE))
    assert room.state.floor.order == ("a", "b", "c", "d")


def test_set_floor_with_an_explicit_order() -> None:
    room = live_room(3, floor_mode=FloorMode.CIRCLE)
    out = room.do(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("m3", FAC, "m1")))
    assert room.state.floor.order == ("m3", FAC, "m1")
    assert only(out, FloorChanged).event.order == ["m3", FAC, "m1"]
    taken = []
    for _ in range(4):
        room.do(c.NextFloor(actor=FAC))
        taken.append(room.holder)
    assert taken == ["m3", FAC, "m1", None]


def test_set_floor_order_is_validated() -> None:
    room = live_room(2, lobby=True, waiting=1, floor_mode=FloorMode.CIRCLE)
    room.refuse(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("m1", "m1")), "bad_message")
    room.refuse(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("m1", "ghost")), "invalid_target")
    room.refuse(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("w1",)), "invalid_target")


def test_reordering_a_running_circle_keeps_the_holder() -> None:
    room = live_room(3, floor_mode=FloorMode.CIRCLE)
    room.do(c.NextFloor(actor=FAC))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m2"
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, order=("m2", "m3", "m1")))
    assert room.holder == "m2"
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m3"


def test_set_floor_turn_seconds() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    assert room.state.floor.ends_at is None
    out = room.do(c.SetFloor(actor=FAC, mode=FloorMode.QUEUE, turn_seconds=45, set_turn_seconds=True))
    floor = room.state.floor
    assert floor.turn_seconds == 45 and floor.ends_at == T0 + 145 and floor.holder == "m1"
    changed = only(out, FloorChanged).event
    assert changed.turn_seconds == 45 and changed.ends_at == T0 + 145
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.QUEUE))  # turn_seconds not given: kept
    assert room.state.floor.turn_seconds == 45
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.QUEUE, turn_seconds=None, set_turn_seconds=True))
    assert room.state.floor.turn_seconds is None and room.state.floor.ends_at is None


def test_set_floor_mode_and_turn_together() -> None:
    room = live_room(2, floor_mode=FloorMode.OPEN)
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE, turn_seconds=120, set_turn_seconds=True))
    room.do(c.NextFloor(actor=FAC), at=T0 + 500)
    assert room.holder == "m1" and room.state.floor.ends_at == T0 + 620


# the turn timer -------------------------------------------------------------------------------------


def test_turn_timer_sends_time_up_once() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE, turn_seconds=60)
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    room.do(c.Media(actor="m1", audio=True, video=True), at=T0 + 101)
    assert next_deadline(room.state, GRACE) == T0 + 160
    assert tick(room, T0 + 159.9) == []
    seq = room.state.seq
    out = room.do(c.Tick(grace_seconds=GRACE), at=T0 + 160)
    assert len(out) == 1
    time_up = only(out, FloorTimeUp)
    assert time_up.to is None and time_up.event.holder == "m1" and time_up.event.seq == seq + 1
    assert tick(room, T0 + 161) == []
    assert tick(room, T0 + 500) == []
    assert room.holder == "m1" and room.person("m1").audio, "nobody is cut off"
    assert next_deadline(room.state, GRACE) is None


def test_no_timer_without_a_holder_or_turn_seconds() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    assert next_deadline(room.state, GRACE) is None
    assert tick(room, T0 + 10_000) == []


def test_next_deadline_takes_the_earliest() -> None:
    room = live_room(3, floor_mode=FloorMode.QUEUE, turn_seconds=60)
    assert next_deadline(room.state, GRACE) is None
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    room.do(c.Disconnect(actor="m2"), at=T0 + 110)
    assert next_deadline(room.state, GRACE) == T0 + 140
    assert next_deadline(room.state, 90) == T0 + 160
    tick(room, T0 + 140)
    assert "m2" not in room.state.seats
    assert next_deadline(room.state, GRACE) == T0 + 160


# previous holder's microphone ---------------------------------------------------------------------

MOVES = {
    "next_floor": lambda: c.NextFloor(actor=FAC),
    "give_floor": lambda: c.GiveFloor(actor=FAC, target="m2"),
    "end_floor": lambda: c.EndFloor(actor=FAC),
    "pass": lambda: c.Pass(actor="m1"),
}


@pytest.mark.parametrize("mode", list(FloorMode))
@pytest.mark.parametrize("move", list(MOVES))
def test_previous_holder_audio_is_switched_off_when_the_floor_moves_on(mode: FloorMode, move: str) -> None:
    room = live_room(3, floor_mode=mode)
    if mode is FloorMode.CIRCLE:
        room.do(c.NextFloor(actor=FAC))
    else:
        room.do(c.GiveFloor(actor=FAC, target="m1"))
        room.do(c.Hand(actor="m2", raised=True))
    assert room.holder == "m1"
    room.do(c.Media(actor="m1", audio=True, video=True))
    out = room.do(MOVES[move]())
    assert room.holder != "m1"
    person = room.person("m1")
    assert not person.audio and person.video
    assert any(d.event.participant == person for d in out if isinstance(d.event, ParticipantUpdated))


def test_set_floor_mode_change_switches_the_holder_off() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    room.do(c.Media(actor="m1", audio=True, video=False))
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE))
    assert not room.person("m1").audio


def test_other_voices_stay_on_when_the_floor_moves() -> None:
    room = live_room(3, floor_mode=FloorMode.QUEUE)
    room.do(c.Media(actor=FAC, audio=True, video=False))
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    room.do(c.GiveFloor(actor=FAC, target="m2"))
    assert room.person(FAC).audio, "the facilitator was not the holder"


def test_a_muted_member_gets_the_floor_but_stays_muted() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    room.do(c.Mute(actor=FAC, target="m1"))
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    assert room.holder == "m1" and not room.person("m1").can_speak


# the holder goes ------------------------------------------------------------------------------------

LEAVINGS = {
    "disconnect": lambda: c.Disconnect(actor="m1"),
    "away": lambda: c.Away(actor="m1", away=True),
    "leave": lambda: c.Leave(actor="m1"),
    "remove": lambda: c.Remove(actor=FAC, target="m1"),
}


@pytest.mark.parametrize("mode", [FloorMode.QUEUE, FloorMode.CIRCLE])
@pytest.mark.parametrize("how", list(LEAVINGS))
def test_the_holder_going_releases_the_floor(mode: FloorMode, how: str) -> None:
    room = live_room(3, floor_mode=mode, turn_seconds=60)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    out = room.do(LEAVINGS[how]())
    floor = room.state.floor
    assert floor.holder is None and floor.ends_at is None and floor.started_at is None
    assert only(out, FloorChanged).event.holder is None
    assert next_deadline(room.state, GRACE) in (None, room.now + GRACE)
    if mode is FloorMode.CIRCLE:
        room.do(c.NextFloor(actor=FAC))
        assert room.holder == "m2", "the circle goes on after the one who went"


def test_holder_timed_out_after_grace() -> None:
    room = live_room(2, floor_mode=FloorMode.CIRCLE)
    room.do(c.NextFloor(actor=FAC))
    room.do(c.Disconnect(actor="m1"), at=T0 + 100)
    assert room.holder is None
    tick(room, T0 + 131)
    assert room.state.floor.order == ("m2",)
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m2"


def test_resume_does_not_give_the_floor_back_but_keeps_the_place() -> None:
    room = live_room(3, floor_mode=FloorMode.QUEUE)
    raise_hands(room, "m2", "m3")
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    room.do(c.Disconnect(actor="m2"))
    room.do(c.Disconnect(actor="m1"))
    room.do(c.Resume(actor="m1", session_id=SESSION, gen=0))
    room.do(c.Resume(actor="m2", session_id=SESSION, gen=0))
    assert room.holder is None
    assert room.state.hand_queue() == ["m2", "m3"]


def test_circle_order_loses_someone_who_leaves_for_good() -> None:
    room = live_room(3, floor_mode=FloorMode.CIRCLE)
    room.do(c.NextFloor(actor=FAC))
    room.do(c.NextFloor(actor=FAC))  # m2 holds
    room.do(c.Leave(actor="m1"))
    assert room.state.floor.order == ("m2", "m3") and room.holder == "m2"
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m3"


# speaking time ---------------------------------------------------------------------------------------


def test_speaking_time_runs_on_the_holders_clock() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE)
    assert speaking_view(room.state) == {FAC: 0.0, "m1": 0.0, "m2": 0.0}
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    assert speaking_view(room.state)["m1"] == 0.0, "the balance counts completed stretches"
    out = room.do(c.GiveFloor(actor=FAC, target="m2"), at=T0 + 130)
    assert speaking_view(room.state) == {FAC: 0.0, "m1": 30.0, "m2": 0.0}
    balance = only(out, Speaking)
    assert balance.to == (FAC,) and balance.event.speaking["m1"] == 30.0
    room.do(c.EndFloor(actor=FAC), at=T0 + 145.5)
    assert speaking_view(room.state)["m2"] == 15.5
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 200)
    room.do(c.NextFloor(actor=FAC), at=T0 + 210)
    assert speaking_view(room.state)["m1"] == 40.0


def test_speaking_time_is_for_facilitators_only() -> None:
    room = live_room(2, floor_mode=FloorMode.QUEUE, facilitators=2)
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    out = room.do(c.EndFloor(actor=FAC), at=T0 + 110)
    assert set(only(out, Speaking).to or ()) == {"f1", "f2"}


def test_speaking_time_in_open_mode_counts_the_open_mic() -> None:
    room = live_room(2)
    room.do(c.Media(actor="m1", audio=True, video=False), at=T0 + 100)
    room.do(c.Media(actor="m2", audio=True, video=False), at=T0 + 105)
    room.do(c.Media(actor="m1", audio=False, video=False), at=T0 + 112)
    assert speaking_view(room.state)["m1"] == 12.0
    room.do(c.Away(actor="m2", away=True), at=T0 + 125)
    assert speaking_view(room.state)["m2"] == 20.0, "stepping away stops the clock"
    room.do(c.Media(actor="m1", audio=True, video=False), at=T0 + 200)
    room.do(c.Disconnect(actor="m1"), at=T0 + 203)
    assert speaking_view(room.state)["m1"] == 15.0, "a lost connection stops the clock"


def test_a_mute_stops_the_open_mic_clock() -> None:
    room = live_room(1)
    room.do(c.Media(actor="m1", audio=True, video=False), at=T0 + 100)
    room.do(c.Mute(actor=FAC, target="m1"), at=T0 + 107)
    assert speaking_view(room.state)["m1"] == 7.0


def test_speaking_time_ignores_the_mic_outside_open_mode() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE)
    room.do(c.Media(actor=FAC, audio=True, video=False), at=T0 + 100)
    room.do(c.Media(actor=FAC, audio=False, video=False), at=T0 + 200)
    assert speaking_view(room.state)[FAC] == 0.0


def test_speaking_balance_lists_admitted_people_only() -> None:
    room = live_room(1, lobby=True, waiting=1)
    assert set(speaking_view(room.state)) == {FAC, "m1"}


def test_a_longer_turn_after_time_up_gets_its_own_time_up() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE, turn_seconds=60)
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    assert len(tick(room, T0 + 160)) == 1
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.QUEUE, turn_seconds=120, set_turn_seconds=True), at=T0 + 170)
    assert room.state.floor.ends_at == T0 + 220
    assert next_deadline(room.state, GRACE) == T0 + 220
    assert tick(room, T0 + 219) == []
    out = room.do(c.Tick(grace_seconds=GRACE), at=T0 + 220)
    assert only(out, FloorTimeUp).event.holder == "m1"


def test_setting_the_same_turn_again_does_not_repeat_time_up() -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE, turn_seconds=60)
    room.do(c.GiveFloor(actor=FAC, target="m1"), at=T0 + 100)
    assert len(tick(room, T0 + 160)) == 1
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.QUEUE, turn_seconds=60, set_turn_seconds=True))
    assert tick(room, T0 + 300) == []

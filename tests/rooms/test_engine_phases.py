"""The run-sheet: set and next phase, who may, the floor that follows a phase, the ``phase`` event
only on real change, the end of a session, and a run-sheet edited during a session."""

from __future__ import annotations

import msgspec
import pytest
from engine_helpers import FAC, Room, events, join, live_room, numbered, only
from msgspec.structs import replace

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.events import FloorChanged, PhaseChanged, ScriptChanged
from rooms.handlers.phases import phase_view, script_view
from rooms.model import FloorMode, Phase, PhaseKind, RunSheet
from rooms.runsheet import TEMPLATES

SHEET = (
    Phase(
        name="Check-in round", minutes=10, kind=PhaseKind.CHECK_IN, floor=FloorMode.CIRCLE, notes="go round"
    ),
    Phase(name="Topic", minutes=15, kind=PhaseKind.TOPIC, notes="pacing"),
    Phase(name="Sharing", minutes=15, kind=PhaseKind.SHARING, floor=FloorMode.QUEUE),
)


def session(members: int = 3, sheet: tuple[Phase, ...] = SHEET, **kw: object) -> Room:
    return live_room(members, run_sheet=sheet, **kw)  # type: ignore[arg-type]


def phase_events(out: object) -> list[PhaseChanged]:
    return [d.event for d in events(out, PhaseChanged)]  # type: ignore[arg-type, misc]


def test_set_phase_begins_it_and_tells_everyone() -> None:
    room = session()
    seq = room.state.seq
    out = room.do(c.SetPhase(actor=FAC, index=1))
    assert room.state.phase == 1 and room.state.phase_started_at == room.now
    event = only(out, PhaseChanged)
    assert event.to is None and event.event.seq == seq + 1  # type: ignore[attr-defined]
    view = event.event.phase  # type: ignore[attr-defined]
    assert (view.index, view.name, view.minutes, view.kind, view.floor) == (1, "Topic", 15, "topic", None)
    assert view.started_at == room.now and view.ends_at == room.now + 15 * 60


def test_next_phase_starts_walks_through_and_finishes() -> None:
    room = session()
    seen: list[int | None] = []
    for _ in range(len(SHEET) + 1):
        out = room.do(c.NextPhase(actor=FAC))
        (event,) = phase_events(out)
        seen.append(None if event.phase is None else event.phase.index)
    assert seen == [0, 1, 2, None]  # after the last phase: none (the run-sheet is done)
    assert room.state.phase is None and room.state.phase_started_at is None
    assert phase_events(room.do(c.NextPhase(actor=FAC)))[0].phase.index == 0  # type: ignore[union-attr]


def test_set_phase_none_ends_the_run_sheet() -> None:
    room = session()
    room.do(c.SetPhase(actor=FAC, index=2))
    out = room.do(c.SetPhase(actor=FAC, index=None))
    assert phase_events(out) == [PhaseChanged(phase=None, seq=room.state.seq)]
    assert room.state.phase is None and room.state.floor.mode is FloorMode.QUEUE  # the floor stays


@pytest.mark.parametrize("index", [3, 99, -1])
def test_an_index_out_of_range_is_refused(index: int) -> None:
    room = session()
    room.do(c.SetPhase(actor=FAC, index=1))
    room.refuse(c.SetPhase(actor=FAC, index=index), ErrorCode.INVALID_TARGET)


def test_without_a_run_sheet_there_is_no_phase() -> None:
    room = session(sheet=())
    room.refuse(c.NextPhase(actor=FAC), ErrorCode.INVALID_TARGET)
    room.refuse(c.SetPhase(actor=FAC, index=0), ErrorCode.INVALID_TARGET)


@pytest.mark.parametrize("cmd", [c.SetPhase(actor="m1", index=0), c.NextPhase(actor="m1")])
def test_a_member_may_not_move_the_phase(cmd: c.Command) -> None:
    room = session()
    room.refuse(cmd, ErrorCode.FORBIDDEN)


def test_a_circle_phase_sets_the_circle_with_the_default_order() -> None:
    room = session(3)
    room.do(c.GiveFloor(actor=FAC, target="m2"))
    out = room.do(c.SetPhase(actor=FAC, index=0))
    floor = room.state.floor
    assert floor.mode is FloorMode.CIRCLE and floor.order == ("m1", "m2", "m3") and floor.holder is None
    assert only(out, FloorChanged).event.mode == "circle"  # type: ignore[attr-defined]
    assert not room.person("m1").can_speak


def test_a_phase_keeps_the_turn_timer() -> None:
    room = session(2, turn_seconds=90)
    room.do(c.SetPhase(actor=FAC, index=2))
    assert room.state.floor.mode is FloorMode.QUEUE and room.state.floor.turn_seconds == 90


def test_a_circle_phase_after_another_takes_the_new_order_and_keeps_the_speaker() -> None:
    sheet = (SHEET[0], replace(SHEET[0], name="Check-out round", kind=PhaseKind.CHECK_OUT))
    room = session(3, sheet=sheet)
    room.do(c.NextPhase(actor=FAC))
    room.do(c.NextFloor(actor=FAC))
    room.do(c.NextFloor(actor=FAC))
    assert room.holder == "m2"
    room.do(c.Leave(actor="m1"))
    room.do(join("m4"))  # no lobby: straight in
    room.do(c.NextPhase(actor=FAC))
    assert room.state.floor.order == ("m2", "m3", "m4")
    assert room.state.floor.cursor == room.state.floor.order.index("m2")  # m2 finishes; m3 is next


def test_a_phase_without_a_floor_leaves_it() -> None:
    room = session(2, floor_mode=FloorMode.QUEUE)
    room.do(c.GiveFloor(actor=FAC, target="m1"))
    floor = room.state.floor
    out = room.do(c.SetPhase(actor=FAC, index=1))
    assert room.state.floor == floor and not events(out, FloorChanged)


def test_the_floor_can_still_be_changed_by_hand_during_a_phase() -> None:
    room = session(2)
    room.do(c.SetPhase(actor=FAC, index=0))
    out = room.do(c.SetFloor(actor=FAC, mode=FloorMode.OPEN))
    assert room.state.floor.mode is FloorMode.OPEN and room.state.phase == 0
    assert not phase_events(out)


def test_the_event_comes_only_on_real_change() -> None:
    room = session()
    room.do(c.SetPhase(actor=FAC, index=1))
    started = room.state.phase_started_at
    seq = room.state.seq
    assert room.do(c.SetPhase(actor=FAC, index=1)) == []  # the phase under way: nothing changes
    assert room.state.phase_started_at == started and room.state.seq == seq
    assert room.do(c.Hand(actor="m1", raised=True)) and not phase_events(room.log[-1:])
    assert room.do(c.SetPhase(actor=FAC, index=None))
    assert room.do(c.SetPhase(actor=FAC, index=None)) == []


def test_the_end_of_the_session_clears_the_phase() -> None:
    room = session()
    room.do(c.SetPhase(actor=FAC, index=2))
    room.do(c.EndSession(actor=FAC))
    assert room.state.phase is None and room.state.phase_started_at is None
    assert phase_view(room.state) is None


def test_a_run_sheet_edited_without_the_phase_ends_it() -> None:
    room = session()
    room.do(c.SetPhase(actor=FAC, index=2))
    out = room.do(c.UpdateRoom(config=replace(room.state.room, run_sheet=SHEET[:2])))
    assert room.state.phase is None and room.state.phase_started_at is None
    assert [e.phase for e in phase_events(out)] == [None]
    assert only(out, PhaseChanged).to is None


def test_a_run_sheet_edited_under_a_phase_renames_it_and_keeps_its_clock() -> None:
    room = session()
    room.do(c.SetPhase(actor=FAC, index=1))
    started = room.state.phase_started_at
    renamed = (SHEET[0], replace(SHEET[1], name="Pacing", minutes=20), SHEET[2])
    out = room.do(c.UpdateRoom(config=replace(room.state.room, run_sheet=renamed)))
    (event,) = phase_events(out)
    assert event.phase is not None and event.phase.name == "Pacing" and event.phase.started_at == started
    assert event.phase.ends_at == started + 20 * 60  # type: ignore[operator]
    unrelated = replace(room.state.room, topic="Sleep")
    assert not phase_events(room.do(c.UpdateRoom(config=unrelated)))


def test_edited_notes_reach_only_those_who_see_the_script() -> None:
    room = session(2, facilitators=2)
    notes = (replace(SHEET[0], notes="new words"), *SHEET[1:])
    out = room.do(c.UpdateRoom(config=replace(room.state.room, run_sheet=notes)))
    script = only(out, ScriptChanged)
    assert script.to == ("f1", "f2") and script.event.script == ["new words", "pacing", ""]  # type: ignore[attr-defined]
    assert script not in numbered(out)
    assert script_view(room.state) == ["new words", "pacing", ""]


def test_the_templates_fit_the_room_limits() -> None:
    _label, cbt = TEMPLATES["cbt_pain"]
    assert [p.kind for p in cbt] == [
        PhaseKind.CHECK_IN,
        PhaseKind.REVIEW,
        PhaseKind.TOPIC,
        PhaseKind.PRACTICE,
        PhaseKind.SHARING,
        PhaseKind.GOALS,
        PhaseKind.CHECK_OUT,
    ]
    assert (
        cbt[0].floor is FloorMode.CIRCLE
        and cbt[4].floor is FloorMode.QUEUE
        and cbt[-1].floor is FloorMode.CIRCLE
    )
    assert 75 <= sum(p.minutes for p in cbt) <= 90
    assert set(TEMPLATES) == {"cbt_pain", "peer_support", "mindfulness"}
    for _, phases in TEMPLATES.values():
        # The room's own rules: a template is a run-sheet a PATCH would accept.
        assert msgspec.convert(msgspec.to_builtins(phases), RunSheet) == phases
        assert all(p.notes for p in phases)

"""Random command sequences against the engine: invariants that hold after every step.

Actors come from a small pool (two facilitators, four members, one stranger), targets include
unknown ids, and the clock only moves forward. Each step either succeeds or raises
``CommandError``; both are checked. An observer replays the numbered events the way a client
would and must always end up with the room's true roster and floor.
"""

from __future__ import annotations

from typing import Any

import msgspec
from engine_helpers import config, encode
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from rooms import commands as c
from rooms.engine import apply, floor_view, lobby_state, waiting_view
from rooms.errors import CommandError
from rooms.events import (
    Admitted,
    ChatPosted,
    Delivery,
    FloorChanged,
    Lobby,
    LobbyChanged,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
)
from rooms.handlers import REACTIONS
from rooms.handlers.floor import can_speak, eligible
from rooms.model import FloorMode, LobbyState, Participant, Role, RoomState, SessionState
from rooms.permissions import Capability

FACILITATORS = ("f1", "f2")
MEMBERS = ("m1", "m2", "m3", "m4")
PEOPLE = FACILITATORS + MEMBERS
OUTSIDERS = (*PEOPLE, "ghost")  # anyone, in the room or not, and a stranger
SESSIONS = ("s1", "s2")
GRACE = 30.0

# From PROTOCOL.md's "who" column, written out here rather than read from the engine's own table.
FACILITATOR_ONLY: tuple[type[c.Command], ...] = (
    c.Mute, c.MuteAll, c.AllowSpeak, c.GiveFloor, c.NextFloor, c.EndFloor, c.SetFloor, c.LowerHand,
    c.LowerAllHands, c.Admit, c.AdmitAll, c.Deny, c.DenyAll, c.Lock, c.Remove, c.DeleteChat, c.EndSession,
)  # fmt: skip
ERROR_CODES = {
    "bad_message", "unknown_type", "unauthorized", "forbidden", "invalid_target", "agreement_required",
    "room_full", "lobby_full", "room_locked", "banned", "not_allowed_to_speak", "rate_limited", "too_large",
    "session_ended", "unavailable", "internal",
}  # fmt: skip


def role_of(pid: str) -> Role:
    return Role.FACILITATOR if pid.startswith("f") else Role.MEMBER


# Strategies ---------------------------------------------------------------------------------------

modes = st.sampled_from(list(FloorMode))
turns = st.sampled_from([None, 20, 60])


@st.composite
def joins(draw: st.DrawFn) -> c.Join:
    pid = draw(st.sampled_from(PEOPLE))
    return c.Join(
        actor=pid,
        name=f"name-{pid}",
        role=role_of(pid),
        agree=draw(st.sampled_from([True] * 7 + [False])),
        sub=draw(st.sampled_from([None, f"sub-{pid}"])),
        device=draw(st.sampled_from([None, "dev-a", "dev-b", f"dev-{pid}"])),
        session_id=draw(st.sampled_from(SESSIONS)),
        lobby_max=draw(st.sampled_from([None, 1, 3])),
    )


room_configs = st.builds(
    config,
    lobby=st.booleans(),
    floor_mode=modes,
    turn_seconds=turns,
    max_participants=st.sampled_from([3, 5, 12]),
)


# Commands are drawn once, with placeholders ("@3") for actors and targets, then bound to the room
# as it is at that step: mostly to someone seated there, sometimes to anyone in the pool (or a
# stranger). Strategies stay fixed, so drawing stays fast and shrinking works.
slot = st.integers(0, 11).map(lambda k: f"@{k}")
boss = st.integers(0, 11).map(lambda k: f"!{k}")  # facilitator-only commands: mostly a facilitator
message_ids = st.sampled_from(["#0", "#1", "#2", "m9"])
CURRENT = "@current"

commands: st.SearchStrategy[c.Command] = st.one_of(
    joins(),
    joins(),
    st.builds(c.Resume, actor=slot, session_id=st.sampled_from([CURRENT, CURRENT, "s-old", None]),
              gen=st.integers(-1, 2)),
    st.builds(c.Disconnect, actor=slot),
    st.builds(c.Tick, grace_seconds=st.just(GRACE), lobby_wait_seconds=st.sampled_from([None, 60.0])),
    st.builds(c.Leave, actor=slot),
    st.builds(c.Chat, actor=slot, text=st.just("hi"), message_id=st.just("?"), to_facilitators=st.booleans()),
    st.builds(c.React, actor=slot, emoji=st.sampled_from([*REACTIONS[:2], "🔥"])),
    st.builds(c.Media, actor=slot, audio=st.booleans(), video=st.booleans()),
    st.builds(c.Media, actor=slot, audio=st.just(True), video=st.booleans()),
    st.builds(c.Hand, actor=slot, raised=st.booleans()),
    st.builds(c.Hand, actor=slot, raised=st.just(True)),
    st.builds(c.Pass, actor=slot),
    st.builds(c.Away, actor=slot, away=st.booleans()),
    st.builds(c.Mute, actor=boss, target=slot, video=st.booleans()),
    st.builds(c.MuteAll, actor=boss),
    st.builds(c.AllowSpeak, actor=boss, target=slot),
    st.builds(c.GiveFloor, actor=boss, target=slot),
    st.builds(c.GiveFloor, actor=boss, target=slot),
    st.builds(c.NextFloor, actor=boss),
    st.builds(c.NextFloor, actor=boss),
    st.builds(c.EndFloor, actor=boss),
    st.builds(
        c.SetFloor,
        actor=boss,
        mode=modes,
        turn_seconds=turns,
        set_turn_seconds=st.booleans(),
        order=st.none() | st.lists(slot, max_size=4).map(tuple),
    ),
    st.builds(c.LowerHand, actor=boss, target=slot),
    st.builds(c.LowerAllHands, actor=boss),
    st.builds(c.Admit, actor=boss, target=slot),
    st.builds(c.AdmitAll, actor=boss),
    st.builds(c.Deny, actor=boss, target=slot),
    st.builds(c.DenyAll, actor=boss),
    st.builds(c.Lock, actor=boss, locked=st.booleans()),
    st.builds(c.Remove, actor=boss, target=slot, ban=st.booleans()),
    st.builds(c.DeleteChat, actor=boss, message_id=message_ids),
    # ending the session wipes everything: keep it rarer than the rest
    st.tuples(st.integers(0, 3), boss).map(
        lambda t: c.EndSession(actor=t[1]) if t[0] == 0 else c.EndFloor(actor=t[1])
    ),
    st.builds(c.UpdateRoom, config=room_configs),
)  # fmt: skip
clock_steps = st.sampled_from([0.0, 0.5, 1.0, 7.0, 31.0])


def _pick(state: RoomState, ref: str) -> str:
    kind, k = ref[0], int(ref[1:])
    if kind == "!":
        facilitators = [s.id for s in state.seats.values() if s.person.role is Role.FACILITATOR]
        if facilitators and k < 8:
            return facilitators[k % len(facilitators)]
    seated = list(state.seats)
    if seated and k < 8:
        return seated[k % len(seated)]
    return OUTSIDERS[k % len(OUTSIDERS)]


def bind(cmd: c.Command, state: RoomState) -> c.Command:
    """Turn a drawn command's placeholders into ids of this room."""
    changes: dict[str, Any] = {}
    for name in ("actor", "target"):
        value = getattr(cmd, name, None)
        if isinstance(value, str) and value[:1] in ("@", "!"):
            changes[name] = _pick(state, value)
    if isinstance(cmd, c.SetFloor) and cmd.order is not None:
        changes["order"] = tuple(_pick(state, ref) for ref in cmd.order)
    if isinstance(cmd, c.DeleteChat) and cmd.message_id.startswith("#"):
        recent = [m.id for m in state.chat[-3:]]
        index = int(cmd.message_id[1:])
        changes["message_id"] = recent[index] if index < len(recent) else "m9"
    if isinstance(cmd, c.Chat):  # the server makes a fresh id for each message
        changes["message_id"] = f"m{state.chat.total + 1}"
    if isinstance(cmd, c.Resume):
        actor = changes["actor"]
        if cmd.session_id == CURRENT:
            changes["session_id"] = state.session_id
        if cmd.gen < 0:
            seat = state.seats.get(actor)
            changes["gen"] = seat.resume_gen if seat is not None else 0
    return replace(cmd, **changes) if changes else cmd


# The observer: what a participant who saw every numbered event believes ------------------------------


class Observer:
    def __init__(self) -> None:
        self.roster: dict[str, Participant] = {}
        self.floor: FloorChanged | None = None
        self.lobby: dict[str, LobbyState] = {}

    def reset(self) -> None:
        """The session ended: every socket closed, the next session starts from nothing."""
        self.roster.clear()
        self.floor = None
        self.lobby.clear()

    def see(self, old: RoomState, new: RoomState, out: list[Delivery]) -> None:
        if old.session is SessionState.IDLE and new.session is SessionState.LIVE:
            self.floor = _unnumbered(floor_view(new))  # what the welcome tells
        for d in out:
            event = d.event
            if isinstance(event, Lobby):
                assert d.to is not None and len(d.to) == 1
                self.lobby[d.to[0]] = event.state
            if d.to is not None:
                continue
            if isinstance(event, ParticipantJoined):
                assert event.participant.id not in self.roster, "joined twice"
                self.roster[event.participant.id] = event.participant
            elif isinstance(event, ParticipantUpdated):
                assert event.participant.id in self.roster, "update for someone never announced"
                self.roster[event.participant.id] = event.participant
            elif isinstance(event, ParticipantLeft):
                assert self.roster.pop(event.id, None) is not None, "left without having joined"
            elif isinstance(event, FloorChanged):
                self.floor = _unnumbered(event)

    def agrees_with(self, state: RoomState) -> None:
        assert self.roster == {s.id: s.person for s in state.admitted()}, "a change went unannounced"
        if state.session is SessionState.LIVE:
            assert self.floor == _unnumbered(floor_view(state)), "a floor change went unannounced"
        for seat in state.seats.values():
            if not seat.admitted:
                assert self.lobby.get(seat.id) is lobby_state(state), "a waiting seat was not told"


def _unnumbered(floor: FloorChanged | dict[str, object]) -> dict[str, object]:
    """The floor as a welcome carries it: the fields, without ``seq``."""
    view = msgspec.structs.asdict(floor) if isinstance(floor, FloorChanged) else dict(floor)
    view.pop("seq", None)
    return view


# Invariants --------------------------------------------------------------------------------------------


def check_state(state: RoomState) -> None:
    floor = state.floor
    holder = floor.holder
    if holder is not None:
        seat = state.seats.get(holder)
        assert seat is not None and seat.admitted and seat.person.connected, "holder not in the room"
        assert eligible(seat), "holder away"
        assert floor.started_at is not None
    else:
        assert floor.started_at is None and floor.ends_at is None
    for pid, seat in state.seats.items():
        person = seat.person
        assert person.id == pid
        assert person.role is role_of(pid)
        assert person.can_speak == can_speak(state, seat), f"can_speak of {pid} is stale"
        assert not person.audio or person.can_speak, f"{pid} is heard without being allowed"
        assert seat.person.connected is (seat.disconnected_at is None)
    admitted = {s.id for s in state.admitted()}
    assert len(set(floor.order)) == len(floor.order)
    assert set(floor.order) <= admitted, "the circle names someone not in the room"
    assert set(state.speaking_since) <= set(state.seats)
    assert len({m.id for m in state.chat}) == len(state.chat)
    queue = [s for s in state.waiting() if not s.held_after_ban]  # a ban's hold is not a queue
    if state.session is SessionState.LIVE and not state.room.lobby and queue:
        assert len(admitted) >= state.room.max_participants, "without a lobby only a full room has a queue"
    if state.session is SessionState.IDLE:
        assert not admitted, "nobody is admitted before a facilitator starts the session"
        assert state.chat == [] and state.seq == 0 and holder is None


def check_deliveries(old: RoomState, new: RoomState, cmd: c.Command, out: list[Delivery]) -> None:
    nums = [d.event.seq for d in out if d.to is None]  # type: ignore[attr-defined]
    if isinstance(cmd, c.EndSession):
        assert nums == [] and new.seq == 0
    else:
        assert nums == list(range(old.seq + 1, old.seq + 1 + len(nums))), "seq must rise by one"
        assert new.seq == old.seq + len(nums)
    everyone = set(old.seats) | set(new.seats)
    readers = {s.id for s in new.admitted() if s.can(Capability.READ_PRIVATE)}
    lobby_viewers = {s.id for s in new.admitted() if s.can(Capability.SEE_LOBBY)}
    for d in out:
        event = d.event
        if d.to is not None:
            assert d.to and set(d.to) <= everyone, f"{event} goes to someone unknown"
            assert getattr(event, "seq", None) in (None, 0), "only events for everyone are numbered"
        if isinstance(event, ParticipantJoined | ParticipantUpdated):
            assert d.to is None
            seat = new.seats[event.participant.id]
            assert seat.admitted, "a lobby seat appeared in a room event"
            assert event.participant == seat.person
        elif isinstance(event, ParticipantLeft):
            assert d.to is None
            assert old.seats[event.id].admitted and event.id not in new.seats
        elif isinstance(event, ChatPosted):
            assert event.message in new.chat
            if event.message.private:
                assert d.to is not None and set(d.to) <= readers | {event.message.sender}
            else:
                assert d.to is None
        elif isinstance(event, Lobby):
            assert d.to is not None and len(d.to) == 1
            seat = new.seats.get(d.to[0])
            if event.state in (LobbyState.DENIED, LobbyState.TIMED_OUT):
                assert seat is None and d.close == 4003
            else:
                assert seat is not None and not seat.admitted
        elif isinstance(event, Admitted):
            assert d.to == (event.id,) and new.seats[event.id].admitted
        elif isinstance(event, LobbyChanged):
            assert d.to is not None and set(d.to) == lobby_viewers
            assert event.waiting == waiting_view(new)
    lobby_changes = [d for d in out if isinstance(d.event, LobbyChanged)]
    if isinstance(cmd, c.EndSession) or not lobby_viewers or waiting_view(old) == waiting_view(new):
        assert not lobby_changes
    else:
        assert len(lobby_changes) == 1, "facilitators were not told who waits"


def run_step(state: RoomState, cmd: c.Command, now: float, observer: Observer) -> RoomState:
    before = encode(state)
    actor = state.seats.get(cmd.actor)
    member_asks_too_much = isinstance(cmd, FACILITATOR_ONLY) and (
        actor is None or actor.person.role is Role.MEMBER
    )
    try:
        new, out = apply(state, cmd, now)
    except CommandError as err:
        assert encode(state) == before, f"refused {cmd} changed the state"
        assert err.code in ERROR_CODES
        if member_asks_too_much:
            assert err.code == "forbidden"
        return state
    assert encode(state) == before, f"{cmd} changed its input"
    assert not member_asks_too_much, f"a member performed {cmd}"
    again, out_again = apply(state, cmd, now)
    assert encode(again) == encode(new) and msgspec.json.encode(out_again) == msgspec.json.encode(out)
    check_state(new)
    check_deliveries(state, new, cmd, out)
    if isinstance(cmd, c.EndSession):
        observer.reset()
    else:
        observer.see(state, new, out)
        observer.agrees_with(new)
    return new


def run(room: Any, data: st.DataObject, max_steps: int = 60) -> RoomState:
    """A session grown one random step at a time: first some people arrive, then anything goes."""
    state = RoomState(room=room)
    observer = Observer()
    now = 1_000.0
    arrivals = data.draw(st.lists(joins(), max_size=len(PEOPLE)), label="arrivals")
    if data.draw(st.sampled_from([True, True, True, False]), label="facilitator first"):
        arrivals.insert(0, c.Join(actor="f1", name="Fa", role=Role.FACILITATOR, agree=True, session_id="s1"))
    length = data.draw(st.integers(0, max_steps), label="length")
    for step in range(len(arrivals) + length):
        cmd = arrivals[step] if step < len(arrivals) else bind(data.draw(commands, label="command"), state)
        now += data.draw(clock_steps, label="dt")
        state = run_step(state, cmd, now, observer)
    return state


@settings(max_examples=200, deadline=None)
@given(room=room_configs, data=st.data())
def test_invariants_hold_after_every_step(room: Any, data: st.DataObject) -> None:
    run(room, data)


def _facilitator_commands(actor: str) -> list[c.Command]:
    return [
        c.Mute(actor=actor, target="m1", video=True),
        c.MuteAll(actor=actor),
        c.AllowSpeak(actor=actor, target=actor),
        c.GiveFloor(actor=actor, target=actor),
        c.NextFloor(actor=actor),
        c.EndFloor(actor=actor),
        c.SetFloor(actor=actor, mode=FloorMode.OPEN, turn_seconds=None, set_turn_seconds=True),
        c.LowerHand(actor=actor, target="m2"),
        c.LowerAllHands(actor=actor),
        c.Admit(actor=actor, target=actor),
        c.AdmitAll(actor=actor),
        c.Deny(actor=actor, target="m3"),
        c.DenyAll(actor=actor),
        c.Lock(actor=actor, locked=True),
        c.Remove(actor=actor, target="m2", ban=True),
        c.DeleteChat(actor=actor, message_id="m1"),
        c.EndSession(actor=actor),
    ]


@settings(max_examples=100, deadline=None)
@given(room=room_configs, data=st.data())
def test_a_member_never_performs_a_facilitator_action(room: Any, data: st.DataObject) -> None:
    state = run(room, data, max_steps=30)
    before = encode(state)
    for pid in (*MEMBERS, "ghost"):
        for cmd in _facilitator_commands(pid):
            try:
                apply(state, cmd, 99_999.0)
            except CommandError as err:
                assert err.code == "forbidden", f"{cmd}: {err.code}"
            else:
                raise AssertionError(f"{pid} performed {cmd}")
            assert encode(state) == before

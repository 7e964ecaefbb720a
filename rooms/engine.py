"""The room engine: ``apply(state, command, now) -> (state, deliveries)``. Pure: no I/O, no clock.

``apply`` never changes the state it is given. It checks the command against the actor's
capabilities, runs its handler on a clone, then settles the clone: enforces who may be heard,
runs the speaking clocks, and turns every real change into events by comparing before and after.
Events that every admitted participant receives are numbered with ``seq`` here, and only here.
A refused command raises ``CommandError`` and changes nothing.
"""

from __future__ import annotations

import msgspec
from msgspec.structs import replace

from rooms import handlers
from rooms.codes import ErrorCode
from rooms.commands import Command
from rooms.errors import CommandError
from rooms.events import (
    Admitted,
    Delivery,
    FloorChanged,
    Lobby,
    LobbyChanged,
    ParticipantJoined,
    ParticipantLeft,
    ParticipantUpdated,
    RoomLocked,
    ScriptChanged,
    Speaking,
)
from rooms.handlers import Context
from rooms.handlers.floor import can_speak
from rooms.handlers.phases import drop_vanished_phase, phase_event, script_view
from rooms.model import FloorMode, LobbyState, RoomState, Seat, SessionState
from rooms.permissions import Capability

__all__ = [
    "CommandError",
    "apply",
    "authorize",
    "floor_view",
    "lobby_state",
    "next_deadline",
    "speaking_view",
]


def apply(state: RoomState, command: Command, now: float) -> tuple[RoomState, list[Delivery]]:
    spec = handlers.HANDLERS.get(type(command))
    if spec is None:
        raise CommandError(ErrorCode.UNKNOWN_TYPE, f"no rule for {type(command).__name__}")
    if spec.check is not None:
        spec.check(command)
    if spec.capability is not None:
        authorize(state, command.actor, spec.capability, lobby_ok=spec.lobby_ok)
    new = state.clone()
    ctx = Context(now=now)
    result = spec.run(new, command, ctx)
    if result is not None:  # the handler replaced the whole state (end of session)
        new = result
    elif spec.settles:
        _settle(state, new, ctx)
    return new, _number(new, ctx.deliveries)


def authorize(state: RoomState, actor: str, capability: Capability, *, lobby_ok: bool = False) -> None:
    """Refuse (``forbidden``) unless ``actor`` is in the room (let in, unless ``lobby_ok``) and
    their role grants ``capability``. Also what the server asks before relaying a signal."""
    seat = state.seats.get(actor)
    if seat is None:
        raise CommandError(ErrorCode.FORBIDDEN, "you are not in this room")
    if not seat.admitted and not lobby_ok:
        raise CommandError(ErrorCode.FORBIDDEN, "you are waiting to be let in")
    if not seat.can(capability):
        raise CommandError(ErrorCode.FORBIDDEN, f"only a facilitator may do this ({capability})")


def _settle(before: RoomState, state: RoomState, ctx: Context) -> None:
    """Enforce who may be heard, run the clocks, and derive every event from the change, in
    this order: people, the floor, the lock, what facilitators watch, the lobby; welcomes first."""
    _enforce_speaking(state)
    _run_clocks(state, ctx.now)
    drop_vanished_phase(state)
    out = ctx.deliveries
    joined = _people_events(before, state, ctx, out)
    if floor_event(before) != floor_event(state):
        out.append(Delivery(floor_event(state)))
    if phase_event(before) != phase_event(state):
        out.append(Delivery(phase_event(state)))
    if before.locked != state.locked:
        out.append(Delivery(RoomLocked(locked=state.locked)))
    _watched_events(before, state, out)
    _lobby_events(before, state, ctx, out)
    # Welcomes first: a newcomer's welcome (built from the latest state) precedes anything
    # addressed to it; the numbered events it already covers are skipped by its connection.
    welcomes = joined + [p for p in ctx.resumed if p not in joined and state.seats[p].admitted]
    out[:0] = [Delivery(Admitted(id=pid, conn=state.seats[pid].conn), to=(pid,)) for pid in welcomes]


def _people_events(before: RoomState, state: RoomState, ctx: Context, out: list[Delivery]) -> list[str]:
    """Joined, updated and left participants; returns who was let in by this command."""
    joined: list[str] = []
    for pid, seat in state.seats.items():
        if not seat.admitted:
            continue
        old = before.seats.get(pid)
        if old is None or not old.admitted:
            joined.append(pid)
            out.append(Delivery(ParticipantJoined(participant=seat.person)))
        elif old.person != seat.person:
            out.append(Delivery(ParticipantUpdated(participant=seat.person)))
    for pid, reason in ctx.left.items():
        out.append(Delivery(ParticipantLeft(id=pid, reason=reason)))
    return joined


def _watched_events(before: RoomState, state: RoomState, out: list[Delivery]) -> None:
    """The waiting list and the speaking balance, to those whose capabilities let them see it."""
    lobby_viewers = _admitted_who_can(state, Capability.SEE_LOBBY)
    if lobby_viewers:
        waiting = waiting_view(state)
        if waiting != waiting_view(before):
            out.append(Delivery(LobbyChanged(waiting=waiting), to=lobby_viewers))
    script_viewers = _admitted_who_can(state, Capability.SEE_SCRIPT)
    if script_viewers and script_view(state) != script_view(before):
        out.append(Delivery(ScriptChanged(script=script_view(state)), to=script_viewers))
    speaking_viewers = _admitted_who_can(state, Capability.SEE_SPEAKING)
    if speaking_viewers:
        speaking = speaking_view(state)
        if speaking != speaking_view(before):
            out.append(Delivery(Speaking(speaking=speaking), to=speaking_viewers))


def _lobby_events(before: RoomState, state: RoomState, ctx: Context, out: list[Delivery]) -> None:
    """Each waiting person hears what they wait for when they arrive, come back, or it changes."""
    now_state = lobby_state(state)
    changed = lobby_state(before) != now_state
    for pid, seat in state.seats.items():
        if seat.admitted:
            continue
        old = before.seats.get(pid)
        if old is None or old.admitted or changed or pid in ctx.resumed:
            out.append(Delivery(Lobby(state=now_state), to=(pid,)))


def _admitted_who_can(state: RoomState, capability: Capability) -> tuple[str, ...]:
    return tuple(s.id for s in state.admitted() if s.can(capability))


def _enforce_speaking(state: RoomState) -> None:
    """Keep ``can_speak`` true to its definition, and nobody's audio on without it."""
    for pid, seat in state.seats.items():
        person = seat.person
        allowed = can_speak(state, seat)
        audio = person.audio and allowed
        if allowed != person.can_speak or audio != person.audio:
            state.seats[pid] = replace(seat, person=replace(person, can_speak=allowed, audio=audio))


def _speaking_now(state: RoomState, seat: Seat) -> bool:
    if not seat.admitted or not seat.person.connected:
        return False
    if state.floor.holder == seat.id:
        return True
    return state.floor.mode is FloorMode.OPEN and seat.person.audio and not seat.person.away


def _run_clocks(state: RoomState, now: float) -> None:
    """Speaking time: the floor holder's clock runs; in open mode, anyone's with the mic on."""
    for pid in list(state.speaking_since):
        seat = state.seats.get(pid)
        if seat is None or not _speaking_now(state, seat):
            started = state.speaking_since.pop(pid)
            state.speaking[pid] = state.speaking.get(pid, 0.0) + max(0.0, now - started)
    for pid, seat in state.seats.items():
        if pid not in state.speaking_since and _speaking_now(state, seat):
            state.speaking_since[pid] = now


def _number(state: RoomState, deliveries: list[Delivery]) -> list[Delivery]:
    numbered: list[Delivery] = []
    for delivery in deliveries:
        if delivery.to is None:
            state.seq += 1
            delivery = Delivery(replace(delivery.event, seq=state.seq), None, delivery.close)
        numbered.append(delivery)
    return numbered


# Views shared with the server (welcome, snapshot) ----------------------------------------------


def floor_event(state: RoomState) -> FloorChanged:
    floor = state.floor
    return FloorChanged(
        mode=floor.mode,
        holder=floor.holder,
        queue=state.hand_queue(),
        order=list(floor.order),
        started_at=floor.started_at,
        ends_at=floor.ends_at,
        turn_seconds=floor.turn_seconds,
    )


def floor_view(state: RoomState) -> dict[str, object]:
    """The floor object as ``welcome`` and ``snapshot`` carry it (no ``type``, no ``seq``)."""
    view = msgspec.structs.asdict(floor_event(state))
    del view["seq"]
    return view


def waiting_view(state: RoomState) -> list[dict[str, str]]:
    """The lobby as facilitators see it; ``reason: "after_ban"`` marks people who wait only
    because someone was banned this session (they came with a shared link)."""
    return [
        {"id": s.id, "name": s.person.name, "reason": "after_ban"}
        if s.held_after_ban
        else {"id": s.id, "name": s.person.name}
        for s in state.waiting()
    ]


def speaking_view(state: RoomState) -> dict[str, float]:
    """Completed speaking time per admitted participant, 0 for those who have not spoken yet."""
    return {s.id: round(state.speaking.get(s.id, 0.0), 1) for s in state.admitted()}


def lobby_state(state: RoomState) -> LobbyState:
    if state.session is SessionState.LIVE and state.admitter_present():
        return LobbyState.WAITING_FOR_ADMISSION
    return LobbyState.WAITING_FOR_FACILITATOR


def next_deadline(
    state: RoomState, grace_seconds: float, lobby_wait_seconds: float | None = None
) -> float | None:
    """When the clock next matters: a turn running out, a grace period or a lobby wait ending."""
    deadlines: list[float] = []
    floor = state.floor
    if floor.holder is not None and floor.ends_at is not None and not floor.time_up_sent:
        deadlines.append(floor.ends_at)
    for seat in state.seats.values():
        if seat.disconnected_at is not None:
            deadlines.append(seat.disconnected_at + grace_seconds)
        elif lobby_wait_seconds is not None and not seat.admitted:
            deadlines.append(seat.joined_at + lobby_wait_seconds)
    return min(deadlines) if deadlines else None

"""The door and the session: joining, resuming, disconnecting and leaving, the clock's ``Tick``,
the lobby (admit, deny), lock, removal and bans, the end of a session, and room updates."""

from __future__ import annotations

from msgspec.structs import replace

from rooms import commands as c
from rooms.codes import Close, ErrorCode
from rooms.errors import CommandError
from rooms.events import Delivery, Lobby, Removed, RoomUpdated, SessionEnded
from rooms.handlers.floor import drop_from_floor, fresh_floor, needs_turn, release_if_holder, time_up
from rooms.handlers.registry import Context, rule
from rooms.handlers.seats import find_seat, update_person
from rooms.model import FloorMode, LeaveReason, LobbyState, Participant, RoomState, Seat, SessionState
from rooms.permissions import Capability, can


def _admit(state: RoomState, pid: str) -> None:
    seat = state.seats[pid]
    state.seats[pid] = replace(seat, admitted=True)
    if state.floor.mode is FloorMode.CIRCLE and needs_turn(seat) and pid not in state.floor.order:
        state.floor = replace(state.floor, order=(*state.floor.order, pid))


def _drop(state: RoomState, pid: str, reason: LeaveReason, ctx: Context) -> None:
    seat = state.seats.pop(pid)
    state.speaking_since.pop(pid, None)
    drop_from_floor(state, pid)
    if seat.admitted:
        ctx.left[pid] = reason
        if state.session is SessionState.LIVE and not state.room.lobby:
            _admit_waiting(state)  # a place came free: without a lobby, the next one comes in


def _start_session(state: RoomState, cmd: c.Join, now: float) -> None:
    state.session = SessionState.LIVE
    state.session_id = cmd.session_id
    state.started_at = now
    state.media = cmd.media  # fixed for the session: a room update applies from the next one
    state.floor = fresh_floor(state)
    if not state.room.lobby:
        _admit_waiting(state)


def _room_has_space(state: RoomState) -> bool:
    """Room seats are the admitted ones (reconnecting included); the lobby has its own cap."""
    return len(state.admitted()) < state.room.max_participants


def _admit_waiting(state: RoomState, *, held_too: bool = False) -> None:
    """Let in those waiting, in the order they came, while the room has space; the others wait.
    Those held after a ban come in only by a facilitator's hand (``held_too``: ``admit_all``)."""
    for seat in sorted(state.waiting(), key=lambda s: s.joined_at):
        if seat.held_after_ban and not held_too:
            continue
        if not seat.can(Capability.BYPASS_LIMITS) and not _room_has_space(state):
            return
        _admit(state, seat.id)


def _room_full(state: RoomState) -> CommandError:
    return CommandError(ErrorCode.ROOM_FULL, f"the room is full ({state.room.max_participants} people)")


def _refuse_join(state: RoomState, cmd: c.Join) -> None:
    """What refuses anyone, newcomer or not: the agreement, and a ban."""
    if not cmd.agree:
        raise CommandError(ErrorCode.AGREEMENT_REQUIRED, "please read and accept the group agreement")
    if (cmd.sub is not None and cmd.sub in state.banned_subs) or cmd.device in state.banned_devices:
        raise CommandError(ErrorCode.BANNED, "you cannot rejoin this session")


def _take_seat_back(state: RoomState, seat: Seat, cmd: c.Join, ctx: Context) -> None:
    """The same personal invite again: the seat is theirs, whatever else holds."""
    gen = seat.resume_gen + 1
    state.seats[cmd.actor] = replace(seat, disconnected_at=None, resume_gen=gen, conn=cmd.conn)
    update_person(state, cmd.actor, connected=True)
    ctx.resumed.append(cmd.actor)


def _check_room(state: RoomState, cmd: c.Join, straight_in: bool) -> None:
    """A newcomer needs an open room, and a place in it or in the lobby (unless their
    capabilities let them past)."""
    privileged = can(cmd.role, Capability.BYPASS_LIMITS)
    if state.locked and not privileged:
        raise CommandError(ErrorCode.ROOM_LOCKED, "the facilitator has locked the room")
    if straight_in and not privileged and not _room_has_space(state):
        raise _room_full(state)
    if not straight_in and cmd.lobby_max is not None and len(state.waiting()) >= cmd.lobby_max:
        raise CommandError(
            ErrorCode.LOBBY_FULL, "the waiting room is full right now: please try again in a while"
        )


@rule(c.Join, None)
def join(state: RoomState, cmd: c.Join, ctx: Context) -> None:
    _refuse_join(state, cmd)
    existing = state.seats.get(cmd.actor)
    if existing is not None:
        _take_seat_back(state, existing, cmd, ctx)
        return
    enters = can(cmd.role, Capability.BYPASS_LOBBY)
    held = state.lobby_after_ban and cmd.sub is None and not enters  # a ban's hold lasts the session
    straight_in = enters or (state.session is SessionState.LIVE and not state.room.lobby and not held)
    _check_room(state, cmd, straight_in)
    person = Participant(id=cmd.actor, name=cmd.name, role=cmd.role)
    state.seats[cmd.actor] = Seat(
        person=person,
        admitted=False,
        joined_at=ctx.now,
        sub=cmd.sub,
        device=cmd.device,
        conn=cmd.conn,
        held_after_ban=held,
    )
    if straight_in:
        _admit(state, cmd.actor)
    if enters and state.session is SessionState.IDLE:
        _start_session(state, cmd, ctx.now)


@rule(c.Resume, None)
def resume(state: RoomState, cmd: c.Resume, ctx: Context) -> None:
    if cmd.session_id != state.session_id:
        raise CommandError(ErrorCode.SESSION_ENDED, "that session has ended")
    seat = state.seats.get(cmd.actor)
    late = (
        seat is not None
        and seat.disconnected_at is not None
        and (ctx.now > seat.disconnected_at + cmd.grace_seconds)
    )  # the clock's Tick may not have run yet: the grace period decides, not the timer
    if seat is None or seat.resume_gen != cmd.gen or late:
        raise CommandError(ErrorCode.UNAUTHORIZED, "this resume token was already used or has expired")
    state.seats[cmd.actor] = replace(
        seat, disconnected_at=None, resume_gen=seat.resume_gen + 1, conn=cmd.conn
    )
    update_person(state, cmd.actor, connected=True)
    ctx.resumed.append(cmd.actor)


@rule(c.Disconnect, None)
def disconnect(state: RoomState, cmd: c.Disconnect, ctx: Context) -> None:
    seat = state.seats.get(cmd.actor)
    if seat is None or not seat.person.connected or (cmd.conn and seat.conn != cmd.conn):
        raise CommandError(ErrorCode.INVALID_TARGET, "not connected (or connected elsewhere now)")
    if not seat.admitted:  # a lobby seat has no resume token: nobody could take it back
        _drop(state, cmd.actor, LeaveReason.LEFT, ctx)
        return
    state.seats[cmd.actor] = replace(seat, disconnected_at=ctx.now)
    update_person(state, cmd.actor, connected=False)
    release_if_holder(state, cmd.actor)


@rule(c.Tick, None)
def tick(state: RoomState, cmd: c.Tick, ctx: Context) -> None:
    for seat in list(state.seats.values()):
        if seat.disconnected_at is not None and ctx.now >= seat.disconnected_at + cmd.grace_seconds:
            _drop(state, seat.id, LeaveReason.TIMEOUT, ctx)
        elif _waited_too_long(seat, cmd.lobby_wait_seconds, ctx.now):
            _drop(state, seat.id, LeaveReason.TIMEOUT, ctx)
            timed_out = Lobby(state=LobbyState.TIMED_OUT)
            ctx.deliveries.append(Delivery(timed_out, to=(seat.id,), close=Close.REFUSED))
    time_up(state, ctx)


def _waited_too_long(seat: Seat, lobby_wait_seconds: float | None, now: float) -> bool:
    return lobby_wait_seconds is not None and not seat.admitted and now >= seat.joined_at + lobby_wait_seconds


@rule(c.Leave, Capability.TAKE_PART, lobby_ok=True)
def leave(state: RoomState, cmd: c.Leave, ctx: Context) -> None:
    _drop(state, cmd.actor, LeaveReason.LEFT, ctx)


@rule(c.Admit, Capability.ADMIT)
def admit(state: RoomState, cmd: c.Admit, ctx: Context) -> None:
    seat = find_seat(state, cmd.target, admitted=False)
    if not seat.can(Capability.BYPASS_LIMITS) and not _room_has_space(state):
        raise _room_full(state)
    _admit(state, cmd.target)


@rule(c.AdmitAll, Capability.ADMIT)
def admit_all(state: RoomState, cmd: c.AdmitAll, ctx: Context) -> None:
    """Everyone waiting, in the order they came, as far as the room has space."""
    if state.waiting() and not _room_has_space(state):
        raise _room_full(state)
    _admit_waiting(state, held_too=True)


@rule(c.Deny, Capability.ADMIT)
def deny(state: RoomState, cmd: c.Deny, ctx: Context) -> None:
    find_seat(state, cmd.target, admitted=False)
    del state.seats[cmd.target]
    ctx.deliveries.append(Delivery(Lobby(state=LobbyState.DENIED), to=(cmd.target,), close=Close.REFUSED))


@rule(c.DenyAll, Capability.ADMIT)
def deny_all(state: RoomState, cmd: c.DenyAll, ctx: Context) -> None:
    """Clear the lobby at once (a flood of strangers, or the end of arrivals)."""
    for seat in state.waiting():
        del state.seats[seat.id]
        ctx.deliveries.append(Delivery(Lobby(state=LobbyState.DENIED), to=(seat.id,), close=Close.REFUSED))


@rule(c.Lock, Capability.LOCK)
def lock(state: RoomState, cmd: c.Lock, ctx: Context) -> None:
    state.locked = cmd.locked


@rule(c.Remove, Capability.REMOVE)
def remove(state: RoomState, cmd: c.Remove, ctx: Context) -> None:
    seat = state.seats.get(cmd.target)
    if seat is None or seat.can(Capability.PROTECTED):
        raise CommandError(ErrorCode.INVALID_TARGET, "nobody with that id can be removed")
    if cmd.ban:
        state.lobby_after_ban = True  # a shared link would let them straight back in
        if seat.sub is not None:
            state.banned_subs = state.banned_subs | {seat.sub}
        if seat.device is not None:
            state.banned_devices = state.banned_devices | {seat.device}
    reason = "removed by a facilitator"
    ctx.deliveries.append(Delivery(Removed(reason=reason), to=(cmd.target,), close=Close.REFUSED))
    _drop(state, cmd.target, LeaveReason.REMOVED, ctx)


@rule(c.EndSession, Capability.END_SESSION)
def end_session(state: RoomState, cmd: c.EndSession, ctx: Context) -> RoomState:
    everyone = tuple(state.seats)
    ended = SessionEnded(reason="the facilitator ended the session")
    ctx.deliveries.append(Delivery(ended, to=everyone, close=Close.SESSION_ENDED))
    return RoomState(room=state.room)


@rule(c.UpdateRoom, None)
def update_room(state: RoomState, cmd: c.UpdateRoom, ctx: Context) -> None:
    state.room = cmd.config
    if state.session is SessionState.LIVE:
        ctx.deliveries.append(Delivery(RoomUpdated(room=cmd.config.public())))
        if not cmd.config.lobby:
            _admit_waiting(state)

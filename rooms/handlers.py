"""One small handler per command, registered in ``HANDLERS`` with the capability it needs.

A handler receives a clone of the state and may change it freely, but must raise
``CommandError`` before its first change when it refuses. Handlers only add the events that
cannot be derived by comparing states (chat, reactions, removal notices); ``rooms.engine``
derives the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from msgspec.structs import replace

from rooms import commands as c
from rooms import floor as fl
from rooms.codes import Close, ErrorCode
from rooms.errors import CommandError
from rooms.events import (
    ChatDeleted,
    ChatPosted,
    Delivery,
    FloorTimeUp,
    Lobby,
    Reaction,
    Removed,
    RoomUpdated,
    SessionEnded,
)
from rooms.model import (
    ChatMessage,
    FloorMode,
    LeaveReason,
    LobbyState,
    Participant,
    RoomState,
    Seat,
    SessionState,
)
from rooms.permissions import Capability, can
from rooms.text import TextRefused, clean_chat_text

REACTIONS: tuple[str, ...] = ("💜", "👏", "🙏", "🤗", "👍", "🌱")


@dataclass
class Context:
    now: float
    deliveries: list[Delivery] = field(default_factory=list)
    left: dict[str, LeaveReason] = field(default_factory=dict)
    resumed: list[str] = field(default_factory=list)


Run = Callable[[RoomState, Any, Context], RoomState | None]


Check = Callable[[Any], None]


@dataclass(frozen=True)
class HandlerSpec:
    run: Run
    capability: Capability | None  # None: a system command, the server vouches for it
    lobby_ok: bool = False  # may someone still in the lobby send it?
    settles: bool = True  # False for commands that cannot change people or the floor
    # Rules about the command alone (not the room): checked first, before who may send it.
    check: Check | None = None


HANDLERS: dict[type[c.Command], HandlerSpec] = {}
C = TypeVar("C", bound=c.Command)


def rule(
    command: type[C],
    capability: Capability | None,
    *,
    lobby_ok: bool = False,
    settles: bool = True,
    check: Callable[[C], None] | None = None,
) -> Callable[[Callable[[RoomState, C, Context], RoomState | None]], Any]:
    def register(run: Callable[[RoomState, C, Context], RoomState | None]) -> Any:
        HANDLERS[command] = HandlerSpec(run, capability, lobby_ok, settles, check)
        return run

    return register


# Helpers -------------------------------------------------------------------------------------


def _seat(state: RoomState, pid: str, *, admitted: bool = True) -> Seat:
    seat = state.seats.get(pid)
    if seat is None or seat.admitted != admitted:
        where = "in the room" if admitted else "in the lobby"
        raise CommandError(ErrorCode.INVALID_TARGET, f"nobody with that id is {where}")
    return seat


def _unprotected(state: RoomState, pid: str) -> Seat:
    """An admitted seat that others may mute or remove (``Capability.PROTECTED``)."""
    seat = _seat(state, pid)
    if seat.can(Capability.PROTECTED):
        raise CommandError(ErrorCode.INVALID_TARGET, "facilitators cannot be muted or removed")
    return seat


def _update(state: RoomState, pid: str, **changes: Any) -> None:
    seat = state.seats[pid]
    state.seats[pid] = replace(seat, person=replace(seat.person, **changes))


def _admit(state: RoomState, pid: str) -> None:
    seat = state.seats[pid]
    state.seats[pid] = replace(seat, admitted=True)
    if state.floor.mode is FloorMode.CIRCLE and fl.needs_turn(seat) and pid not in state.floor.order:
        state.floor = replace(state.floor, order=(*state.floor.order, pid))


def _drop(state: RoomState, pid: str, reason: LeaveReason, ctx: Context) -> None:
    seat = state.seats.pop(pid)
    state.speaking_since.pop(pid, None)
    fl.drop_from_floor(state, pid)
    if seat.admitted:
        ctx.left[pid] = reason
        if state.session is SessionState.LIVE and not state.room.lobby:
            _admit_waiting(state)  # a place came free: without a lobby, the next one comes in


def _start_session(state: RoomState, session_id: str, now: float) -> None:
    state.session = SessionState.LIVE
    state.session_id = session_id
    state.started_at = now
    state.floor = fl.fresh_floor(state)
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


# Joining, leaving, connections ----------------------------------------------------------------


@rule(c.Join, None)
def join(state: RoomState, cmd: c.Join, ctx: Context) -> None:
    existing = state.seats.get(cmd.actor)
    if not cmd.agree:
        raise CommandError(ErrorCode.AGREEMENT_REQUIRED, "please read and accept the group agreement")
    if (cmd.sub is not None and cmd.sub in state.banned_subs) or cmd.device in state.banned_devices:
        raise CommandError(ErrorCode.BANNED, "you cannot rejoin this session")
    privileged = can(cmd.role, Capability.BYPASS_LIMITS)
    if existing is not None:  # the same personal invite again: take the seat back
        state.seats[cmd.actor] = replace(
            existing, disconnected_at=None, resume_gen=existing.resume_gen + 1, conn=cmd.conn
        )
        _update(state, cmd.actor, connected=True)
        ctx.resumed.append(cmd.actor)
        return
    if state.locked and not privileged:
        raise CommandError(ErrorCode.ROOM_LOCKED, "the facilitator has locked the room")
    enters = can(cmd.role, Capability.BYPASS_LOBBY)
    held = state.lobby_after_ban and cmd.sub is None and not enters  # a ban's hold lasts the session
    straight_in = enters or (state.session is SessionState.LIVE and not state.room.lobby and not held)
    if straight_in and not privileged and not _room_has_space(state):
        raise _room_full(state)
    if not straight_in and cmd.lobby_max is not None and len(state.waiting()) >= cmd.lobby_max:
        raise CommandError(
            ErrorCode.LOBBY_FULL, "the waiting room is full right now: please try again in a while"
        )
    person = Participant(id=cmd.actor, name=cmd.name, role=cmd.role)
    state.seats[cmd.actor] = Seat(
        person=person, admitted=False, joined_at=ctx.now, sub=cmd.sub, device=cmd.device, conn=cmd.conn,
        held_after_ban=held,
    )
    if straight_in:
        _admit(state, cmd.actor)
    if enters and state.session is SessionState.IDLE:
        _start_session(state, cmd.session_id, ctx.now)


@rule(c.Resume, None)
def resume(state: RoomState, cmd: c.Resume, ctx: Context) -> None:
    if cmd.session_id != state.session_id:
        raise CommandError(ErrorCode.SESSION_ENDED, "that session has ended")
    seat = state.seats.get(cmd.actor)
    late = seat is not None and seat.disconnected_at is not None and (
        ctx.now > seat.disconnected_at + cmd.grace_seconds
    )  # the clock's Tick may not have run yet: the grace period decides, not the timer
    if seat is None or seat.resume_gen != cmd.gen or late:
        raise CommandError(ErrorCode.UNAUTHORIZED, "this resume token was already used or has expired")
    state.seats[cmd.actor] = replace(
        seat, disconnected_at=None, resume_gen=seat.resume_gen + 1, conn=cmd.conn
    )
    _update(state, cmd.actor, connected=True)
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
    _update(state, cmd.actor, connected=False)
    fl.release_if_holder(state, cmd.actor)


@rule(c.Tick, None)
def tick(state: RoomState, cmd: c.Tick, ctx: Context) -> None:
    for seat in list(state.seats.values()):
        if seat.disconnected_at is not None and ctx.now >= seat.disconnected_at + cmd.grace_seconds:
            _drop(state, seat.id, LeaveReason.TIMEOUT, ctx)
        elif _waited_too_long(seat, cmd.lobby_wait_seconds, ctx.now):
            _drop(state, seat.id, LeaveReason.TIMEOUT, ctx)
            timed_out = Lobby(state=LobbyState.TIMED_OUT)
            ctx.deliveries.append(Delivery(timed_out, to=(seat.id,), close=Close.REFUSED))
    floor = state.floor
    if floor.holder and floor.ends_at is not None and not floor.time_up_sent and ctx.now >= floor.ends_at:
        state.floor = replace(floor, time_up_sent=True)
        ctx.deliveries.append(Delivery(FloorTimeUp(holder=floor.holder)))


def _waited_too_long(seat: Seat, lobby_wait_seconds: float | None, now: float) -> bool:
    return lobby_wait_seconds is not None and not seat.admitted and now >= seat.joined_at + lobby_wait_seconds


@rule(c.Leave, Capability.TAKE_PART, lobby_ok=True)
def leave(state: RoomState, cmd: c.Leave, ctx: Context) -> None:
    _drop(state, cmd.actor, LeaveReason.LEFT, ctx)


# Taking part ----------------------------------------------------------------------------------


def check_chat_text(cmd: c.Chat) -> None:
    """A chat message says something, within the server's length cap (``Limits.max_chat_chars``).
    Checked before anything else, whoever sends it: the text alone decides."""
    if not cmd.text.strip():
        raise CommandError(ErrorCode.BAD_MESSAGE, "a chat message cannot be empty")
    if len(cmd.text) > cmd.max_chars:
        raise CommandError(ErrorCode.TOO_LARGE, f"a chat message is at most {cmd.max_chars} characters")


@rule(c.Chat, Capability.TAKE_PART, settles=False, check=check_chat_text)
def chat(state: RoomState, cmd: c.Chat, ctx: Context) -> None:
    sender = state.seats[cmd.actor]
    try:
        text = clean_chat_text(cmd.text)  # no direction controls or stray invisible characters
    except TextRefused as refused:
        raise CommandError(ErrorCode.BAD_MESSAGE, str(refused)) from None
    message = ChatMessage(
        id=cmd.message_id,
        sender=cmd.actor,
        name=sender.person.name,
        text=text,
        ts=ctx.now,
        private=cmd.to_facilitators,
        role=sender.person.role,
    )
    state.chat = state.chat.with_message(message).capped(cmd.max_messages, cmd.max_bytes)
    if cmd.to_facilitators:
        ctx.deliveries.append(Delivery(ChatPosted(message=message), to=_private_audience(state, message)))
    else:
        ctx.deliveries.append(Delivery(ChatPosted(message=message, seq=0)))


def _private_audience(state: RoomState, message: ChatMessage) -> tuple[str, ...]:
    """A private message reaches the facilitators and its sender, if still here."""
    readers = [s.id for s in state.admitted() if s.can(Capability.READ_PRIVATE)]
    if message.sender in state.seats:
        readers.append(message.sender)
    return tuple(dict.fromkeys(readers))


@rule(c.React, Capability.TAKE_PART, settles=False)
def react(state: RoomState, cmd: c.React, ctx: Context) -> None:
    if cmd.emoji not in REACTIONS:
        raise CommandError(ErrorCode.BAD_MESSAGE, "that reaction is not one of welcome.reactions")
    ctx.deliveries.append(Delivery(Reaction(sender=cmd.actor, emoji=cmd.emoji)))


@rule(c.Media, Capability.TAKE_PART)
def media(state: RoomState, cmd: c.Media, ctx: Context) -> None:
    seat = state.seats[cmd.actor]
    person = seat.person
    if cmd.audio and not person.audio and not fl.can_speak(state, seat):
        why = "a facilitator muted you" if person.muted_by_facilitator else "someone else has the floor"
        raise CommandError(ErrorCode.NOT_ALLOWED_TO_SPEAK, why)
    if cmd.video and not person.video and person.video_muted_by_facilitator:
        raise CommandError(ErrorCode.FORBIDDEN, "a facilitator turned your camera off")
    _update(state, cmd.actor, audio=cmd.audio, video=cmd.video)


@rule(c.Hand, Capability.TAKE_PART)
def hand(state: RoomState, cmd: c.Hand, ctx: Context) -> None:
    current = state.seats[cmd.actor].person.hand
    if cmd.raised and current is None:
        _update(state, cmd.actor, hand=ctx.now)
    elif not cmd.raised:
        _update(state, cmd.actor, hand=None)


@rule(c.Pass, Capability.TAKE_PART)
def pass_floor(state: RoomState, cmd: c.Pass, ctx: Context) -> None:
    if state.floor.holder != cmd.actor:
        raise CommandError(ErrorCode.FORBIDDEN, "you do not hold the floor")
    if state.floor.mode is FloorMode.CIRCLE:  # the talking circle moves on by itself
        _advance(state, ctx)
    else:  # queue/open: the facilitator gives the floor to the next in line, not the pass
        fl.set_holder(state, None, ctx.now)


@rule(c.Away, Capability.TAKE_PART)
def away(state: RoomState, cmd: c.Away, ctx: Context) -> None:
    if cmd.away:
        _update(state, cmd.actor, away=True, video=False)
        fl.release_if_holder(state, cmd.actor)
    else:
        _update(state, cmd.actor, away=False)


# Facilitators: voices ---------------------------------------------------------------------------


@rule(c.Mute, Capability.MUTE_OTHERS)
def mute(state: RoomState, cmd: c.Mute, ctx: Context) -> None:
    _unprotected(state, cmd.target)
    if cmd.video:
        _update(state, cmd.target, audio=False, muted_by_facilitator=True, video=False,
                video_muted_by_facilitator=True)
    else:
        _update(state, cmd.target, audio=False, muted_by_facilitator=True)


@rule(c.MuteAll, Capability.MUTE_OTHERS)
def mute_all(state: RoomState, cmd: c.MuteAll, ctx: Context) -> None:
    for seat in state.admitted():
        if not seat.can(Capability.PROTECTED):
            _update(state, seat.id, audio=False, muted_by_facilitator=True)


@rule(c.AllowSpeak, Capability.MUTE_OTHERS)
def allow_speak(state: RoomState, cmd: c.AllowSpeak, ctx: Context) -> None:
    _seat(state, cmd.target)
    _update(state, cmd.target, muted_by_facilitator=False, video_muted_by_facilitator=False)


# Facilitators: the floor ---------------------------------------------------------------------


def _advance(state: RoomState, ctx: Context) -> None:
    """The floor moves on: the next in the circle, or the next raised hand, or back to nobody."""
    if state.floor.mode is FloorMode.CIRCLE:
        nxt = fl.next_in_circle(state)
        if nxt is None:  # the round is complete: the floor returns, the next round starts at the top
            fl.set_holder(state, None, ctx.now)
            state.floor = replace(state.floor, cursor=-1)
            return
    else:
        nxt = fl.next_in_queue(state)
    if nxt is not None:
        _update(state, nxt, hand=None)
    fl.set_holder(state, nxt, ctx.now)


@rule(c.GiveFloor, Capability.RUN_FLOOR)
def give_floor(state: RoomState, cmd: c.GiveFloor, ctx: Context) -> None:
    if not fl.eligible(_seat(state, cmd.target)):
        raise CommandError(ErrorCode.INVALID_TARGET, "that person is away or reconnecting")
    _update(state, cmd.target, hand=None)
    fl.set_holder(state, cmd.target, ctx.now)


@rule(c.NextFloor, Capability.RUN_FLOOR)
def next_floor(state: RoomState, cmd: c.NextFloor, ctx: Context) -> None:
    _advance(state, ctx)


@rule(c.EndFloor, Capability.RUN_FLOOR)
def end_floor(state: RoomState, cmd: c.EndFloor, ctx: Context) -> None:
    fl.set_holder(state, None, ctx.now)


@rule(c.SetFloor, Capability.RUN_FLOOR)
def set_floor(state: RoomState, cmd: c.SetFloor, ctx: Context) -> None:
    order = state.floor.order
    if cmd.order is not None:
        if len(set(cmd.order)) != len(cmd.order):
            raise CommandError(ErrorCode.BAD_MESSAGE, "order lists someone twice")
        for pid in cmd.order:
            _seat(state, pid)
        order = cmd.order
    elif cmd.mode is FloorMode.CIRCLE and (state.floor.mode is not FloorMode.CIRCLE or not order):
        order = fl.default_order(state)
    turn = cmd.turn_seconds if cmd.set_turn_seconds else state.floor.turn_seconds
    floor = state.floor
    if cmd.mode is not floor.mode:
        state.floor = replace(floor, mode=cmd.mode, order=order, turn_seconds=turn, cursor=-1)
        fl.set_holder(state, None, ctx.now)
        return
    cursor = order.index(floor.holder) if floor.holder in order else -1
    ends_at = floor.started_at + turn if turn and floor.started_at is not None else None
    time_up_sent = floor.time_up_sent and ends_at == floor.ends_at  # a new end gets its own time-up
    state.floor = replace(
        floor, order=order, turn_seconds=turn, ends_at=ends_at, cursor=cursor, time_up_sent=time_up_sent
    )


@rule(c.LowerHand, Capability.MANAGE_HANDS)
def lower_hand(state: RoomState, cmd: c.LowerHand, ctx: Context) -> None:
    _seat(state, cmd.target)
    _update(state, cmd.target, hand=None)


@rule(c.LowerAllHands, Capability.MANAGE_HANDS)
def lower_all_hands(state: RoomState, cmd: c.LowerAllHands, ctx: Context) -> None:
    for seat in state.admitted():
        if seat.person.hand is not None:
            _update(state, seat.id, hand=None)


# Facilitators: the door ----------------------------------------------------------------------


@rule(c.Admit, Capability.ADMIT)
def admit(state: RoomState, cmd: c.Admit, ctx: Context) -> None:
    seat = _seat(state, cmd.target, admitted=False)
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
    _seat(state, cmd.target, admitted=False)
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


@rule(c.DeleteChat, Capability.MODERATE_CHAT, settles=False)
def delete_chat(state: RoomState, cmd: c.DeleteChat, ctx: Context) -> None:
    message = state.chat.find(cmd.message_id)
    if message is None:
        raise CommandError(ErrorCode.INVALID_TARGET, "no chat message with that id")
    state.chat = state.chat.without_message(message.id)
    if message.private:  # only those who could see it learn that it is gone
        to = _private_audience(state, message)
        ctx.deliveries.append(Delivery(ChatDeleted(id=message.id), to=to))
    else:
        ctx.deliveries.append(Delivery(ChatDeleted(id=message.id)))


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

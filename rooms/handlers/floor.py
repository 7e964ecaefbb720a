"""The floor in one place: who may be heard, who holds the floor, where the circle goes next, and
the commands that move it (raise a hand, pass, give, next, end, set the mode and order, lower hands).

Pure rules over a ``RoomState`` clone. The rest of the floor: its record (``Floor``, and
``RoomState.hand_queue``) is in ``rooms.model``; ``rooms.engine`` keeps ``can_speak`` true on every
seat after each command (``_enforce_speaking``), runs the speaking clocks and emits
``floor_changed`` when the floor differs; joining and leaving call ``needs_turn``,
``drop_from_floor`` and ``release_if_holder`` (``rooms.handlers.door``, ``rooms.handlers.voices``).
"""

from __future__ import annotations

from msgspec.structs import replace

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import Delivery, FloorTimeUp
from rooms.handlers.registry import Context, rule
from rooms.handlers.seats import find_seat, update_person
from rooms.model import Floor, FloorMode, RoomState, Seat
from rooms.permissions import Capability

# The rules ------------------------------------------------------------------------------------


def can_speak(state: RoomState, seat: Seat) -> bool:
    """The definition of ``can_speak`` (PROTOCOL.md): not facilitator-muted, and the room is open,
    or the person is always heard (a facilitator: ``Capability.ALWAYS_HEARD``), or holds the floor."""
    if seat.person.muted_by_facilitator:
        return False
    floor = state.floor
    return floor.mode is FloorMode.OPEN or seat.can(Capability.ALWAYS_HEARD) or floor.holder == seat.id


def eligible(seat: Seat | None) -> bool:
    """May this seat receive the floor now? Admitted, connected and not away."""
    return seat is not None and seat.admitted and seat.person.connected and not seat.person.away


def set_holder(state: RoomState, holder: str | None, now: float) -> None:
    """Give the floor to ``holder`` (or nobody), restarting the turn timer. When the floor moves on,
    the previous holder's microphone is switched off (PROTOCOL.md), in open mode too."""
    floor = state.floor
    previous = state.seats.get(floor.holder) if floor.holder is not None else None
    if previous is not None and previous.id != holder and previous.person.audio:
        state.seats[previous.id] = replace(previous, person=replace(previous.person, audio=False))
    if holder is None:
        state.floor = replace(floor, holder=None, started_at=None, ends_at=None, time_up_sent=False)
        return
    ends_at = now + floor.turn_seconds if floor.turn_seconds else None
    cursor = floor.order.index(holder) if holder in floor.order else floor.cursor
    state.floor = replace(
        floor, holder=holder, started_at=now, ends_at=ends_at, time_up_sent=False, cursor=cursor
    )


def next_in_circle(state: RoomState) -> str | None:
    """The next eligible person after the cursor; ``None`` when the round is complete."""
    order = state.floor.order
    for index in range(state.floor.cursor + 1, len(order)):
        if eligible(state.seats.get(order[index])):
            return order[index]
    return None


def next_in_queue(state: RoomState) -> str | None:
    """The earliest raised hand of someone who can take the floor now."""
    for pid in state.hand_queue():
        if eligible(state.seats.get(pid)):
            return pid
    return None


def default_order(state: RoomState) -> tuple[str, ...]:
    """A circle of those present who need a turn to be heard (the members), in the order they
    joined."""
    members = [s for s in state.admitted() if needs_turn(s)]
    members.sort(key=lambda s: (s.joined_at, s.id))
    return tuple(s.id for s in members)


def needs_turn(seat: Seat) -> bool:
    """Whether a seat belongs in the circle's order: those always heard need no turn."""
    return not seat.can(Capability.ALWAYS_HEARD)


def drop_from_floor(state: RoomState, pid: str) -> None:
    """Someone left for good: release the floor if theirs and take them out of the circle."""
    if state.floor.holder == pid:
        state.floor = replace(state.floor, holder=None, started_at=None, ends_at=None, time_up_sent=False)
    order = state.floor.order
    if pid in order:
        index = order.index(pid)
        cursor = state.floor.cursor - 1 if index <= state.floor.cursor else state.floor.cursor
        state.floor = replace(state.floor, order=tuple(p for p in order if p != pid), cursor=cursor)


def release_if_holder(state: RoomState, pid: str) -> None:
    """Someone stepped away or lost their connection: the floor cannot stay with them."""
    if state.floor.holder == pid:
        state.floor = replace(state.floor, holder=None, started_at=None, ends_at=None, time_up_sent=False)


def fresh_floor(state: RoomState) -> Floor:
    return Floor(mode=state.room.floor_mode, turn_seconds=state.room.turn_seconds)


def time_up(state: RoomState, ctx: Context) -> None:
    """The holder's turn ran out (the clock's ``Tick``): say so once; the floor stays theirs until
    a facilitator or the holder moves it on."""
    floor = state.floor
    if floor.holder and floor.ends_at is not None and not floor.time_up_sent and ctx.now >= floor.ends_at:
        state.floor = replace(floor, time_up_sent=True)
        ctx.deliveries.append(Delivery(FloorTimeUp(holder=floor.holder)))


# The commands ---------------------------------------------------------------------------------


@rule(c.Hand, Capability.TAKE_PART)
def hand(state: RoomState, cmd: c.Hand, ctx: Context) -> None:
    current = state.seats[cmd.actor].person.hand
    if cmd.raised and current is None:
        update_person(state, cmd.actor, hand=ctx.now)
    elif not cmd.raised:
        update_person(state, cmd.actor, hand=None)


@rule(c.Pass, Capability.TAKE_PART)
def pass_floor(state: RoomState, cmd: c.Pass, ctx: Context) -> None:
    if state.floor.holder != cmd.actor:
        raise CommandError(ErrorCode.FORBIDDEN, "you do not hold the floor")
    if state.floor.mode is FloorMode.CIRCLE:  # the talking circle moves on by itself
        _advance(state, ctx)
    else:  # queue/open: the facilitator gives the floor to the next in line, not the pass
        set_holder(state, None, ctx.now)


def _advance(state: RoomState, ctx: Context) -> None:
    """The floor moves on: the next in the circle, or the next raised hand, or back to nobody."""
    if state.floor.mode is FloorMode.CIRCLE:
        nxt = next_in_circle(state)
        if nxt is None:  # the round is complete: the floor returns, the next round starts at the top
            set_holder(state, None, ctx.now)
            state.floor = replace(state.floor, cursor=-1)
            return
    else:
        nxt = next_in_queue(state)
    if nxt is not None:
        update_person(state, nxt, hand=None)
    set_holder(state, nxt, ctx.now)


@rule(c.GiveFloor, Capability.RUN_FLOOR)
def give_floor(state: RoomState, cmd: c.GiveFloor, ctx: Context) -> None:
    if not eligible(find_seat(state, cmd.target)):
        raise CommandError(ErrorCode.INVALID_TARGET, "that person is away or reconnecting")
    update_person(state, cmd.target, hand=None)
    set_holder(state, cmd.target, ctx.now)


@rule(c.NextFloor, Capability.RUN_FLOOR)
def next_floor(state: RoomState, cmd: c.NextFloor, ctx: Context) -> None:
    _advance(state, ctx)


@rule(c.EndFloor, Capability.RUN_FLOOR)
def end_floor(state: RoomState, cmd: c.EndFloor, ctx: Context) -> None:
    set_holder(state, None, ctx.now)


@rule(c.SetFloor, Capability.RUN_FLOOR)
def set_floor(state: RoomState, cmd: c.SetFloor, ctx: Context) -> None:
    order = state.floor.order
    if cmd.order is not None:
        if len(set(cmd.order)) != len(cmd.order):
            raise CommandError(ErrorCode.BAD_MESSAGE, "order lists someone twice")
        for pid in cmd.order:
            find_seat(state, pid)
        order = cmd.order
    elif cmd.mode is FloorMode.CIRCLE and (state.floor.mode is not FloorMode.CIRCLE or not order):
        order = default_order(state)
    turn = cmd.turn_seconds if cmd.set_turn_seconds else state.floor.turn_seconds
    floor = state.floor
    if cmd.mode is not floor.mode:
        state.floor = replace(floor, mode=cmd.mode, order=order, turn_seconds=turn, cursor=-1)
        set_holder(state, None, ctx.now)
        return
    cursor = order.index(floor.holder) if floor.holder in order else -1
    ends_at = floor.started_at + turn if turn and floor.started_at is not None else None
    time_up_sent = floor.time_up_sent and ends_at == floor.ends_at  # a new end gets its own time-up
    state.floor = replace(
        floor, order=order, turn_seconds=turn, ends_at=ends_at, cursor=cursor, time_up_sent=time_up_sent
    )


@rule(c.LowerHand, Capability.MANAGE_HANDS)
def lower_hand(state: RoomState, cmd: c.LowerHand, ctx: Context) -> None:
    find_seat(state, cmd.target)
    update_person(state, cmd.target, hand=None)


@rule(c.LowerAllHands, Capability.MANAGE_HANDS)
def lower_all_hands(state: RoomState, cmd: c.LowerAllHands, ctx: Context) -> None:
    for seat in state.admitted():
        if seat.person.hand is not None:
            update_person(state, seat.id, hand=None)

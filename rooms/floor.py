"""Floor rules: who may be heard, who holds the floor, and where the circle goes next.

Pure helpers over a ``RoomState`` clone; the handlers in ``rooms.handlers`` call them.
"""

from __future__ import annotations

from msgspec.structs import replace

from rooms.model import Floor, FloorMode, RoomState, Seat
from rooms.permissions import Capability


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

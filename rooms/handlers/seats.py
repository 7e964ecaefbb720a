"""Finding and changing a seat, as every group of handlers needs it."""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.model import RoomState, Seat
from rooms.permissions import Capability


def find_seat(state: RoomState, pid: str, *, admitted: bool = True) -> Seat:
    seat = state.seats.get(pid)
    if seat is None or seat.admitted != admitted:
        where = "in the room" if admitted else "in the lobby"
        raise CommandError(ErrorCode.INVALID_TARGET, f"nobody with that id is {where}")
    return seat


def unprotected_seat(state: RoomState, pid: str) -> Seat:
    """An admitted seat that others may mute or remove (``Capability.PROTECTED``)."""
    seat = find_seat(state, pid)
    if seat.can(Capability.PROTECTED):
        raise CommandError(ErrorCode.INVALID_TARGET, "facilitators cannot be muted or removed")
    return seat


def update_person(state: RoomState, pid: str, **changes: Any) -> None:
    seat = state.seats[pid]
    state.seats[pid] = replace(seat, person=replace(seat.person, **changes))

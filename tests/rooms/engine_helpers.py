"""Builders for engine tests: rooms in a known shape, and a small harness that applies commands.

The harness checks on every call that ``apply`` left its input untouched, and ``refuse`` checks
that a refused command raised the expected code and changed nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import pytest
from msgspec.structs import replace

from rooms import commands as c
from rooms.engine import apply
from rooms.errors import CommandError
from rooms.events import Delivery, Event
from rooms.model import ChatLog, FloorMode, Participant, Role, RoomConfig, RoomState, Seat

T0 = 1_000.0
SESSION = "s-1"
FAC = "f1"


def _chat_entries(value: object) -> object:
    if isinstance(value, ChatLog):
        return value.entries_from(0)  # every entry, tombstones included
    raise NotImplementedError(type(value))


_encoder = msgspec.json.Encoder(enc_hook=_chat_entries)


def encode(state: RoomState) -> bytes:
    """The whole state, chat entries included: equal bytes, equal states."""
    return _encoder.encode(state)


def config(**settings: Any) -> RoomConfig:
    return RoomConfig(id="room-1", title="Tuesday pain group", **settings)


def join(
    pid: str,
    role: Role = Role.MEMBER,
    *,
    agree: bool = True,
    sub: str | None = None,
    device: str | None = None,
    session_id: str = SESSION,
    name: str | None = None,
) -> c.Join:
    return c.Join(
        actor=pid,
        name=name or f"name-{pid}",
        role=role,
        agree=agree,
        sub=sub,
        device=device,
        session_id=session_id,
    )


def fjoin(pid: str = FAC, **kw: Any) -> c.Join:
    return join(pid, Role.FACILITATOR, **kw)


@dataclass
class Room:
    """A room state and a clock; ``do`` applies a command and keeps the result."""

    state: RoomState
    now: float = T0
    log: list[Delivery] = field(default_factory=list)

    def do(self, cmd: c.Command, *, at: float | None = None, dt: float = 1.0) -> list[Delivery]:
        self.now = at if at is not None else self.now + dt
        before = encode(self.state)
        new, out = apply(self.state, cmd, self.now)
        assert encode(self.state) == before, "apply changed its input"
        self.state = new
        self.log.extend(out)
        return out

    def refuse(self, cmd: c.Command, code: str, *, dt: float = 1.0) -> CommandError:
        before = encode(self.state)
        with pytest.raises(CommandError) as info:
            apply(self.state, cmd, self.now + dt)
        assert info.value.code == code, info.value.message
        assert encode(self.state) == before, "a refused command changed the state"
        return info.value

    def seat(self, pid: str) -> Seat:
        return self.state.seats[pid]

    def person(self, pid: str) -> Participant:
        return self.state.seats[pid].person

    @property
    def holder(self) -> str | None:
        return self.state.floor.holder


def idle_room(*, waiting: Iterable[str] = (), **settings: Any) -> Room:
    """A room without a session; ``waiting`` members have joined and wait for the facilitator."""
    room = Room(RoomState(room=config(**settings)))
    for pid in waiting:
        room.do(join(pid))
    return room


def live_room(
    members: int = 2,
    *,
    lobby: bool = False,
    waiting: int = 0,
    floor_mode: FloorMode = FloorMode.OPEN,
    turn_seconds: int | None = None,
    facilitators: int = 1,
    **settings: Any,
) -> Room:
    """A live session: facilitators ``f1``.., admitted members ``m1``.. (joined one second apart,
    in that order), and ``waiting`` members ``w1``.. in the lobby (needs ``lobby=True``)."""
    if waiting and not lobby:
        raise ValueError("a room without a lobby has nobody waiting during a session")
    room = Room(
        RoomState(room=config(lobby=True, floor_mode=floor_mode, turn_seconds=turn_seconds, **settings))
    )
    for n in range(1, facilitators + 1):
        room.do(fjoin(f"f{n}"))
    for n in range(1, members + 1):
        room.do(join(f"m{n}"))
        room.do(c.Admit(actor=FAC, target=f"m{n}"), dt=0)
    for n in range(1, waiting + 1):
        room.do(join(f"w{n}"))
    room.state.room = replace(room.state.room, lobby=lobby)
    room.log.clear()
    return room


# Looking at deliveries -------------------------------------------------------------------------


def events(out: Iterable[Delivery], kind: type[Event]) -> list[Delivery]:
    return [d for d in out if isinstance(d.event, kind)]


def only(out: Iterable[Delivery], kind: type[Event]) -> Delivery:
    found = events(out, kind)
    assert len(found) == 1, f"expected one {kind.__name__}, got {found}"
    return found[0]


def numbered(out: Iterable[Delivery]) -> list[Delivery]:
    return [d for d in out if d.to is None]

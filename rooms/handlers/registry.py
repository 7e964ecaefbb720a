"""The handler registry: ``HANDLERS`` maps each command to its handler and the capability it needs.

Handlers register with ``@rule(command, capability)`` in the modules of ``rooms.handlers``;
``rooms.engine`` looks a command up here, checks it, and runs its handler on a clone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rooms import commands as c
from rooms.events import Delivery
from rooms.model import LeaveReason, RoomState
from rooms.permissions import Capability


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

"""The run-sheet: which phase of a session is under way, and the floor that follows it.

A facilitator (``RUN_SESSION``) begins a phase by its index (``set_phase``) or moves on with
one click (``next_phase``). A phase that names a floor mode switches the floor when it begins,
exactly as ``set_floor`` would (the floor's own rule, ``rooms.handlers.floor.set_floor``): the
turn timer is kept, and a talking circle gets the default order (the members, in the order they
came), starting from the top. The floor can still be changed by hand during the phase.

Time is only shown, never enforced: when a phase's minutes are up, pages say "Time to move on
when the group is ready"; nobody is cut off and no timer event exists. ``rooms.engine`` derives
the ``phase`` event by comparing before and after (``phase_event``) and ends a phase whose index
an edited run-sheet no longer has (``drop_vanished_phase``).
"""

from __future__ import annotations

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import PhaseChanged, PhaseView
from rooms.handlers.floor import default_order, set_floor
from rooms.handlers.registry import Context, rule
from rooms.model import FloorMode, RoomState
from rooms.permissions import Capability


def begin_phase(state: RoomState, index: int | None, actor: str, ctx: Context) -> None:
    """Make phase ``index`` the one under way (``None``: none). Beginning the phase already
    under way changes nothing: its clock keeps running and the floor stays as it is."""
    if index == state.phase:
        return
    state.phase = index
    state.phase_started_at = None if index is None else ctx.now
    if index is None:
        return
    mode = state.room.run_sheet[index].floor
    if mode is None:
        return
    order = default_order(state) if mode is FloorMode.CIRCLE else None
    set_floor(state, c.SetFloor(actor=actor, mode=mode, order=order), ctx)


@rule(c.SetPhase, Capability.RUN_SESSION)
def set_phase(state: RoomState, cmd: c.SetPhase, ctx: Context) -> None:
    phases = len(state.room.run_sheet)
    if cmd.index is not None and not 0 <= cmd.index < phases:
        raise CommandError(ErrorCode.INVALID_TARGET, f"the run-sheet has {phases} phases (from 0)")
    begin_phase(state, cmd.index, cmd.actor, ctx)


@rule(c.NextPhase, Capability.RUN_SESSION)
def next_phase(state: RoomState, cmd: c.NextPhase, ctx: Context) -> None:
    phases = len(state.room.run_sheet)
    if phases == 0:
        raise CommandError(ErrorCode.INVALID_TARGET, "the room has no run-sheet")
    following = 0 if state.phase is None else state.phase + 1
    begin_phase(state, following if following < phases else None, cmd.actor, ctx)


# Views shared with the engine and the server --------------------------------------------------


def drop_vanished_phase(state: RoomState) -> None:
    """A run-sheet edited during a session (``UpdateRoom``) may no longer have the phase under
    way: it ends (the floor stays as it is)."""
    if state.phase is not None and state.phase >= len(state.room.run_sheet):
        state.phase = None
        state.phase_started_at = None


def phase_view(state: RoomState) -> PhaseView | None:
    """The phase under way as everyone sees it (``welcome``, ``snapshot`` and the event)."""
    if state.phase is None or state.phase_started_at is None or state.phase >= len(state.room.run_sheet):
        return None
    phase = state.room.run_sheet[state.phase]
    started = state.phase_started_at
    return PhaseView(
        index=state.phase,
        name=phase.name,
        minutes=phase.minutes,
        kind=phase.kind,
        floor=phase.floor,
        started_at=started,
        ends_at=started + phase.minutes * 60,
    )


def phase_event(state: RoomState) -> PhaseChanged:
    return PhaseChanged(phase=phase_view(state))


def script_view(state: RoomState) -> list[str]:
    """The facilitators' notes of every phase, by index: for ``SEE_SCRIPT`` only."""
    return [phase.notes for phase in state.room.run_sheet]

"""The group's journey in a live session: a notice that something others see changed.

The journey itself lives in its store (``rooms.journey``, ``server.journey_api``); the session
only hears that the board, the shared plans or the check-in summaries changed, so every page
refetches what it may see. A notice without a live session is refused: between sessions
nobody is there to hear it.
"""

from __future__ import annotations

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import Delivery, JourneyChanged
from rooms.handlers.registry import Context, rule
from rooms.model import RoomState, SessionState

WHAT = frozenset({"board", "plans", "checkins"})


def _check(cmd: c.JourneyNotice) -> None:
    if cmd.what not in WHAT:
        raise CommandError(ErrorCode.BAD_MESSAGE, f"a journey notice is about one of {sorted(WHAT)}")


@rule(c.JourneyNotice, None, settles=False, check=_check)
def journey_notice(state: RoomState, cmd: c.JourneyNotice, ctx: Context) -> None:
    if state.session is not SessionState.LIVE:
        raise CommandError(ErrorCode.INVALID_TARGET, "this room has no live session")
    ctx.deliveries.append(Delivery(JourneyChanged(what=cmd.what)))

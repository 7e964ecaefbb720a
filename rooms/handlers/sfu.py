"""The session's media server: where an SFU session is placed, and placed again after a failure.

The server (``server/sfu``) chooses an instance and a VideoRoom; the engine only records the
choice in the live state, so every node agrees on it, and refuses a placement that does not
follow the current one (two nodes racing, or a placement computed before a newer one landed).
The session's end clears it with the rest of the live state.
"""

from __future__ import annotations

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import Delivery, MediaPlaced
from rooms.handlers.registry import Context, rule
from rooms.model import MediaPath, RoomState, SessionState, SfuPlacement


@rule(c.PlaceSfu, None, settles=False)
def place_sfu(state: RoomState, cmd: c.PlaceSfu, ctx: Context) -> None:
    if state.session is not SessionState.LIVE or state.media is not MediaPath.SFU:
        raise CommandError(ErrorCode.INVALID_TARGET, "this room has no live session through a media server")
    current = state.sfu.epoch if state.sfu is not None else 0
    if cmd.epoch != current + 1:
        raise CommandError(ErrorCode.INVALID_TARGET, f"a stale placement (the current one is {current})")
    state.sfu = SfuPlacement(instance=cmd.instance, room=cmd.room, epoch=cmd.epoch)
    ctx.deliveries.append(Delivery(MediaPlaced(epoch=cmd.epoch)))

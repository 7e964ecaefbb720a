"""What SFU mode keeps per room on one node, and the rules of whom the media server lets be
heard and seen."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from rooms.model import Seat, SfuPlacement
from server.sfu.peer import SfuPeer


def may_be_heard(seat: Seat) -> bool:
    """Whether Janus may forward this person's audio: let in, here, allowed to speak by the floor
    and the facilitators, not away, and their microphone on (docs/architecture.md, "SFU mode")."""
    person = seat.person
    return (
        seat.admitted
        and person.connected
        and person.can_speak
        and person.audio
        and not person.muted_by_facilitator
        and not person.away
    )


def may_be_seen(seat: Seat) -> bool:
    """Whether Janus may forward this person's video: let in, here, not away, and their camera
    not blocked by a facilitator. (Their own camera switch is theirs: the page sends nothing
    then, and the others show their name.)"""
    person = seat.person
    return seat.admitted and person.connected and not person.away and not person.video_muted_by_facilitator


@dataclass
class SfuRoom:
    """This node's part of one room in SFU mode."""

    session_id: str | None
    peers: dict[str, SfuPeer] = field(default_factory=dict)
    placement: SfuPlacement | None = None  # the latest seen in the state
    stale_epoch: int = 0  # placements up to this epoch are on a lost instance
    pins: dict[str, str | None] = field(default_factory=dict)
    speaker: str | None = None
    retry: asyncio.TimerHandle | None = None

"""Placing a session's media on a Janus instance (and placing it again when that one is lost).

The placement is part of the room's live state (``RoomState.sfu``), written only by the system
command ``PlaceSfu``, whose compare-and-set on ``epoch`` lets exactly one node win when several
place at once: a loser destroys the Janus room it made and uses the winner's.
"""

from __future__ import annotations

import contextlib
import logging
import secrets

from rooms.codes import ErrorCode
from rooms.commands import PlaceSfu
from rooms.errors import CommandError
from rooms.model import RoomState
from rooms.service import RoomService
from server.sfu.instances import Instances
from server.sfu.janus import JanusError, JanusGone

log = logging.getLogger("hearth.sfu")


ROOM_PREFIX = "hearth-"
KEYFRAME_EVERY_SECONDS = 5
"""Janus asks every publisher for a key frame this often (``fir_freq``). A subscriber switched to
another simulcast layer (See larger, the floor) waits for that layer's next key frame; Janus asks
for one at the switch, but a browser may not answer a request that comes right after its last
key frame, and without this the subscriber would stay on the old layer for good (seen in about
half the runs of tests/e2e/test_sfu.py's See larger). A key frame every 5 s costs a few percent
of a stream's bytes."""


def janus_room_id() -> str:
    """A fresh, unguessable VideoRoom id (Janus runs with ``string_ids``)."""
    return ROOM_PREFIX + secrets.token_hex(16)


def room_options(room: str, secret: str, seats: int) -> dict[str, object]:
    """The VideoRoom ``create`` request of a session: Opus and VP8, the audio level events the
    active speaker comes from, a key frame asked for every ``KEYFRAME_EVERY_SECONDS``, and room
    for twice the seats as publishers: facilitators get in beyond the seat limit, and a
    participant whose Janus session is being replaced (a resume, a restart) is briefly there
    twice. Its ``secret`` is the Janus secret, so only Hearth may moderate, kick or destroy in
    it."""
    return {
        "request": "create",
        "room": room,
        "admin_key": secret,
        "secret": secret,
        "publishers": 2 * seats,
        "audiocodec": "opus",
        "videocodec": "vp8",
        "audiolevel_event": True,
        "fir_freq": KEYFRAME_EVERY_SECONDS,
        "notify_joining": True,
        "is_private": True,
        "permanent": False,
    }


async def destroy_room(instances: Instances, url: str, room: str, secret: str) -> None:
    """Destroy a VideoRoom (every publisher and subscription in it goes); quiet if it is gone."""
    with contextlib.suppress(JanusGone, JanusError, TimeoutError):
        await instances.request(url, {"request": "destroy", "room": room, "secret": secret})


async def place(service: RoomService, instances: Instances, secret: str, state: RoomState) -> bool:
    """Place ``state``'s session on the least-loaded live instance (after the current placement,
    if any: ``epoch + 1``). False when no instance answers (the caller tries again later)."""
    url = await instances.least_loaded()
    if url is None:
        log.warning("no janus instance answers", extra={"room": state.room.id})
        return False
    room = janus_room_id()
    try:
        await instances.request(url, room_options(room, secret, state.room.max_participants))
    except (JanusGone, JanusError):
        return False
    epoch = (state.sfu.epoch if state.sfu is not None else 0) + 1
    try:
        await service.execute(state.room.id, PlaceSfu(instance=url, room=room, epoch=epoch))
    except CommandError as refused:
        await destroy_room(instances, url, room, secret)
        if refused.code != ErrorCode.INVALID_TARGET:
            raise
        return True  # another node placed it first (or the session ended): use theirs
    except BaseException:
        await destroy_room(instances, url, room, secret)
        raise
    log.info(
        "session placed", extra={"room": state.room.id, "instance": instances.index(url), "epoch": epoch}
    )
    return True


async def sweep_empty_rooms(instances: Instances, secret: str, empty_before: set[tuple[str, str]]) -> None:
    """Destroy Hearth's VideoRooms that were empty at the previous sweep and still are.

    A session's VideoRoom is destroyed when a node sees the session end; one that ended while
    no node held a socket of it (the last people timed out) would stay on Janus. A room empty
    for a whole sweep interval is destroyed; should its session still be live (everyone was
    reconnecting), the next reconcile finds "no such room" and places the session again.
    ``empty_before`` is updated in place for the next sweep."""
    empty_now: set[tuple[str, str]] = set()
    for url in instances.urls:
        try:
            answer = await instances.request(url, {"request": "list", "admin_key": secret})
        except (JanusGone, JanusError):
            continue
        for entry in answer.get("list") or ():
            room = str(entry.get("room", "")) if isinstance(entry, dict) else ""
            if room.startswith(ROOM_PREFIX) and not entry.get("num_participants"):
                empty_now.add((url, room))
    gone = empty_now & empty_before
    for url, room in gone:
        await destroy_room(instances, url, room, secret)
    empty_before.clear()
    empty_before.update(empty_now - gone)

"""SFU mode end to end: a real Hearth server (in process) driving a real Janus (``tests/janus.py``),
with real aiortc participants (``HearthPeer``) on loopback only. Every wait is bounded.

``sfu_server`` starts Hearth configured with the test's Janus instance(s); ``sfu_room`` makes a
room in SFU mode on it. Participants are made with the ``peers`` fixture of tests/peers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import aioice.ice
import pytest

from rooms.model import SfuPlacement
from server.peers import HearthPeer, LocalMedia
from server.sfu.janus import Janus
from server.sfu.subscription import feed_owner
from tests.janus import JanusProcess, hold, launch
from tests.peers.conftest import SMALL, MakePeer, invite, media_file, peers  # noqa: F401  (fixtures)
from tests.polling import eventually
from tests.server.conftest import Room, Running, start_server  # noqa: F401  (fixture)

MEDIA_TIMEOUT = 30.0  # a 2-core machine shared with other work: generous, but bounded
TINY = {"width": 160, "height": 120, "fps": 15.0}  # enough to count frames; light to encode


@pytest.fixture(autouse=True)
def loopback_candidates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    yield


def tiny(**extra: Any) -> LocalMedia:
    return LocalMedia(**{**TINY, **extra})


async def sfu_room(server: Running, **fields: Any) -> Room:
    return await server.create_room(media="sfu", lobby=False, **fields)


def asked_layers(server: Running, room: str, viewer: str) -> dict[str, int]:
    """The simulcast layer the server last asked Janus to send ``viewer`` of each other person's
    video, by participant id; empty while ``viewer`` has no peer on this node."""
    sfu = server.node.sfu
    assert sfu is not None
    peer = sfu.rooms[room].peers.get(viewer)
    if peer is None:
        return {}
    sub = peer.sub
    owners = {str(s["mid"]): feed_owner(s["feed_id"]) for s in sub.streams if s.get("type") == "video"}
    return {owners[mid]: layer for mid, layer in sub.layers.items() if mid in owners}


def link(server: Running, room: Room, facilitator: bool = False) -> str:
    return invite(server, room.id, room.facilitator if facilitator else room.member)


def frames(peer: HearthPeer, remote: str) -> int:
    stats = peer.stats().get(remote)
    return stats.frames if stats else 0


def audio(peer: HearthPeer, remote: str) -> int:
    stats = peer.stats().get(remote)
    return stats.audio_frames if stats else 0


async def media_flows(
    receivers: list[HearthPeer],
    senders: list[HearthPeer],
    count: Callable[[HearthPeer, str], int],
    what: str,
    more: int = 10,
    timeout: float = MEDIA_TIMEOUT,
) -> None:
    """``count`` (frames, audio) from every sender grows by ``more`` at every other receiver."""
    pairs = [(r, s.id) for r in receivers for s in senders if r is not s]
    start = {(r.name, sid): count(r, sid) for r, sid in pairs}
    await eventually(
        lambda: all(count(r, sid) >= start[(r.name, sid)] + more for r, sid in pairs),
        what,
        timeout=timeout,
    )


async def janus_room(url: str, secret: str, body: dict[str, Any]) -> dict[str, Any]:
    """A VideoRoom request on a Janus connection of the test's own (never the server's)."""
    janus = await Janus.connect(url, secret)
    try:
        handle = await janus.admin_handle()
        return await handle.request({**body, "secret": secret})
    finally:
        await janus.close()


async def janus_participants(url: str, secret: str, room: str) -> dict[str, bool]:
    """Who is in VideoRoom ``room`` on ``url``, by Janus id: whether each publishes."""
    answer = await janus_room(url, secret, {"request": "listparticipants", "room": room})
    return {str(p["id"]): bool(p.get("publisher")) for p in answer.get("participants", [])}


async def placement(server: Running, room: Room) -> SfuPlacement:
    """The session's placement, once it has one (bounded wait)."""

    async def placed() -> SfuPlacement | None:
        state = await server.node.service.state(room.id, with_chat=False)
        return state.sfu if state is not None else None

    return await eventually(placed, "the session placed on a media server")


class Tampered(HearthPeer):
    """A modified client: its microphone keeps sending a tone and its camera a picture whatever
    the server says (a facilitator mute, the floor moving on, a blocked camera); only the media
    server can stop it being heard and seen."""

    def _changed(self) -> None:
        super()._changed()
        self.media.microphone = True
        self.media.camera = True


async def audio_stopped(receivers: list[HearthPeer], sender: HearthPeer, slack: int = 2) -> None:
    """``sender``'s audio packets stop arriving at every receiver while its video goes on.

    Packets are counted, not sound: silence would still be packets. First the video from the
    sender grows by 15 frames at each receiver (time for the mute to act, measured in the
    sender's own frames rather than in seconds), then by 30 more, during which its audio at
    each receiver may grow by at most ``slack`` (packets already in flight)."""
    await media_flows(receivers, [sender], frames, f"video from {sender.name} (before)", more=15)
    before = {r.name: audio(r, sender.id) for r in receivers}
    await media_flows(receivers, [sender], frames, f"video from {sender.name} (after)", more=30)
    grew = {r.name: audio(r, sender.id) - before[r.name] for r in receivers}
    assert all(n <= slack for n in grew.values()), f"audio from {sender.name} still arrives: {grew}"


def restart_janus(old: JanusProcess) -> JanusProcess:
    """Start Janus again with ``old``'s configuration (same address) after it was killed: an
    instance that came back, with every room and session forgotten. The caller stops it."""
    hold(old.rtp_ports)  # the old configuration's ports, given back when ``old`` was killed
    return launch(old.config_dir, int(old.url.rsplit(":", 1)[1]), old.secret, old.rtp_ports)


async def video_stopped(
    receivers: list[HearthPeer], sender: HearthPeer, clock: HearthPeer, slack: int = 3
) -> None:
    """``sender``'s video stops arriving at every receiver, measured in ``clock``'s video frames
    (another sender), as ``audio_stopped`` does."""
    await media_flows(receivers, [clock], frames, f"video from {clock.name} (before)", more=15)
    before = {r.name: frames(r, sender.id) for r in receivers}
    await media_flows(receivers, [clock], frames, f"video from {clock.name} (after)", more=30)
    grew = {r.name: frames(r, sender.id) - before[r.name] for r in receivers}
    assert all(n <= slack for n in grew.values()), f"video from {sender.name} still arrives: {grew}"

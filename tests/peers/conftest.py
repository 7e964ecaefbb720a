"""Python peers (aiortc) against a real in-process server, on loopback only.

aioice leaves 127.0.0.1 out of its host candidates, so every test here gathers 127.0.0.1 only
(TESTING.md). ``peers`` makes ``HearthPeer``s (or a subclass: ``kind=``) and closes them after
the test; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
from array import array
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aioice.ice
import av
import pytest

from server.peers import HearthPeer, LocalMedia
from tests.e2e.conftest import browser, people  # noqa: F401  (fixtures for the browser tests)
from tests.polling import eventually
from tests.server.conftest import Room, Running, start_server  # noqa: F401
from tests.turn import TurnServer

TURN_SECRET = "peers-turn-secret"
SMALL = {"width": 320, "height": 240}  # plenty to count frames, light on a 2-core machine
MEDIA_TIMEOUT = 20.0


@pytest.fixture(autouse=True)
def loopback_candidates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    yield


def invite(server: Running, room_id: str, token: str) -> str:
    return f"{server.base_url}/r/{room_id}#k={token}"


MakePeer = Callable[..., HearthPeer]


@pytest.fixture
async def peers() -> AsyncIterator[MakePeer]:
    made: list[HearthPeer] = []

    def make(link: str, name: str, kind: type[HearthPeer] = HearthPeer, **options: Any) -> HearthPeer:
        options.setdefault("media", LocalMedia(**SMALL))
        peer = kind(link, name, **options)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(peer.close(), 10)


async def silent_host(peers: MakePeer, server: Running, room: Room) -> HearthPeer:
    """A facilitator who keeps the session going (members may come in) and takes part in no
    media: it connects to nobody and reads (and ignores) every signal sent to it."""
    host = peers(
        invite(server, room.id, room.facilitator),
        "Fran",
        media=LocalMedia(audio=False, video=False),
        accept=lambda remote_id: False,
    )
    await host.join()
    return host


async def frames_rising(peer: HearthPeer, remote_ids: list[str], timeout: float = MEDIA_TIMEOUT) -> None:
    """Video from every one of ``remote_ids`` arrives at ``peer`` and keeps coming."""
    await eventually(
        lambda: all(peer.stats().get(r) and peer.stats()[r].frames > 0 for r in remote_ids),
        f"{peer.name}: first video frames",
        timeout=timeout,
    )
    first = {r: peer.stats()[r].frames for r in remote_ids}
    await eventually(
        lambda: all(peer.stats()[r].frames > first[r] + 5 for r in remote_ids),
        f"{peer.name}: video frames to keep coming",
        timeout=timeout,
    )


def level(peer: HearthPeer, remote_id: str) -> float:
    stats = peer.stats().get(remote_id)
    return stats.audio_level if stats else 0.0


@pytest.fixture
def turn_url(tmp_path: Path) -> Iterator[str]:
    """A coturn on a free loopback port (TURN REST credentials with ``TURN_SECRET``)."""
    directory = tmp_path / "turn"
    directory.mkdir()
    turn = TurnServer(directory, secret=TURN_SECRET)
    turn.start()
    try:
        yield turn.url
    finally:
        turn.stop()


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    """Two seconds of WebM: VP8 video (176x144, brightening) and an Opus tone."""
    path = tmp_path / "clip.webm"
    with av.open(str(path), "w") as container:
        video = container.add_stream("libvpx", rate=20)
        video.width, video.height, video.pix_fmt = 176, 144, "yuv420p"
        audio = container.add_stream("libopus", rate=48_000)
        for index in range(40):
            frame = av.VideoFrame(176, 144, "yuv420p")
            for plane, value in zip(frame.planes, (40 + 4 * index, 100, 160), strict=True):
                plane.update(bytes([value]) * plane.buffer_size)
            frame.pts = index
            container.mux(video.encode(frame))
        for index in range(100):
            sound = av.AudioFrame(format="s16", layout="mono", samples=960)
            start = index * 960
            wave = (int(8000 * math.sin(2 * math.pi * 440 * (start + k) / 48_000)) for k in range(960))
            sound.planes[0].update(array("h", wave).tobytes())
            sound.sample_rate, sound.pts, sound.time_base = 48_000, start, fractions.Fraction(1, 48_000)
            container.mux(audio.encode(sound))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    return path

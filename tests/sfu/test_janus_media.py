"""Media through a real Janus driven by Hearth's client: an aiortc publisher and an aiortc
subscriber on loopback (tests/janus.py), and ``moderate`` stopping one stream at the server.

aioice leaves 127.0.0.1 out of its host candidates: gather 127.0.0.1 only, and no STUN server
(``iceServers=[]``; aiortc's default is a public one). Counts are the subscriber's inbound-rtp
``packetsReceived`` (what arrives, not what a track reports), and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aioice.ice
import pytest
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCInboundRtpStreamStats,
    RTCPeerConnection,
    RTCSessionDescription,
)

from server.peers import LocalMedia
from server.sfu.janus import Janus, JanusHandle
from tests.janus import JanusProcess
from tests.polling import eventually

ROOM = "media-room"


@pytest.fixture(autouse=True)
def loopback_candidates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
    yield


@dataclass
class Call:
    janus: Janus
    secret: str
    admin: JanusHandle
    publisher_id: str
    streams: dict[str, str]  # kind -> the publisher's mid
    publisher: RTCPeerConnection
    subscriber: RTCPeerConnection
    received: list[Any]  # tracks the subscriber got


async def inbound(pc: RTCPeerConnection) -> dict[str, int]:
    """packetsReceived per kind on the subscriber connection."""
    report = await pc.getStats()
    counts: dict[str, int] = {}
    for stats in report.values():
        if isinstance(stats, RTCInboundRtpStreamStats):
            counts[stats.kind] = counts.get(stats.kind, 0) + stats.packetsReceived
    return counts


@pytest.fixture
async def call(janus: JanusProcess) -> AsyncIterator[Call]:
    """A room with one aiortc publisher (audio + video) and one aiortc subscriber of it."""
    client = await Janus.connect(janus.url, janus.secret)
    media = LocalMedia(width=160, height=120, fps=10)
    publisher = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    subscriber = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    try:
        admin = await client.admin_handle()
        await admin.request(
            {
                "request": "create",
                "room": ROOM,
                "admin_key": janus.secret,
                "secret": janus.secret,
                "publishers": 6,
                "audiocodec": "opus",
                "videocodec": "vp8",
            }
        )
        # Publish: join, then configure with the offer (all candidates gathered: no trickle).
        pub = await (await client.create_session()).attach()
        signals: list[str] = []
        pub.on_signal(lambda message: signals.append(str(message["janus"])))
        joined, _ = await pub.message({"request": "join", "room": ROOM, "ptype": "publisher", "display": "p"})
        for track in media.new_tracks():
            publisher.addTrack(track)
        await publisher.setLocalDescription(await publisher.createOffer())
        offer = {"type": "offer", "sdp": publisher.localDescription.sdp}
        configured, answer = await pub.message({"request": "configure", "audio": True, "video": True}, offer)
        assert configured.get("configured") == "ok" and answer is not None
        await publisher.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        publisher_id = str(joined["id"])
        # A feed can be subscribed to once its connection is up (Janus's webrtcup).
        await eventually(lambda: "webrtcup" in signals, "webrtcup for the publisher")
        # Subscribe: Janus offers the feed's streams; the subscriber answers, then start.
        sub = await (await client.create_session()).attach()
        received: list[Any] = []
        subscriber.on("track", received.append)
        attached, sub_offer = await sub.message(
            {"request": "join", "room": ROOM, "ptype": "subscriber", "streams": [{"feed": publisher_id}]}
        )
        assert attached["videoroom"] == "attached" and sub_offer is not None
        streams = {stream["type"]: stream["feed_mid"] for stream in attached["streams"]}
        await subscriber.setRemoteDescription(RTCSessionDescription(sub_offer["sdp"], sub_offer["type"]))
        await subscriber.setLocalDescription(await subscriber.createAnswer())
        started, _ = await sub.message(
            {"request": "start"}, {"type": "answer", "sdp": subscriber.localDescription.sdp}
        )
        assert started.get("started") == "ok"
        yield Call(client, janus.secret, admin, publisher_id, streams, publisher, subscriber, received)
    finally:
        for pc in (publisher, subscriber):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pc.close(), 10)
        media.stop()
        await client.close()


async def growing(pc: RTCPeerConnection, kind: str, by: int) -> bool:
    """Whether ``kind`` packets arrive: ``by`` more within a bounded wait."""
    start = (await inbound(pc)).get(kind, 0)

    async def grown() -> bool:
        return (await inbound(pc)).get(kind, 0) >= start + by

    try:
        await eventually(grown, f"{by} more {kind} packets", timeout=15)
    except AssertionError:
        return False
    return True


async def stalled(pc: RTCPeerConnection, kind: str) -> int:
    """Wait (bounded) until ``kind`` packets stop arriving; the count they stopped at."""
    last = -1

    async def still() -> int | None:
        nonlocal last
        now = (await inbound(pc)).get(kind, 0)
        same, last = now == last, now
        return now if same else None

    return int(await eventually(still, f"{kind} packets to stop arriving", timeout=15, every=1.0) or 0)


async def test_a_publisher_reaches_a_subscriber_through_janus(call: Call) -> None:
    assert set(call.streams) == {"audio", "video"}
    assert await growing(call.subscriber, "video", 20)
    assert await growing(call.subscriber, "audio", 50)
    assert sorted(track.kind for track in call.received) == ["audio", "video"]
    video = next(track for track in call.received if track.kind == "video")
    frame = await asyncio.wait_for(video.recv(), 15)
    assert (frame.width, frame.height) == (160, 120)


async def test_moderate_stops_and_resumes_one_stream_at_the_server(call: Call) -> None:
    assert await growing(call.subscriber, "audio", 50)

    async def moderate(mute: bool) -> None:
        await call.admin.request(
            {
                "request": "moderate",
                "room": ROOM,
                "secret": call.secret,
                "id": call.publisher_id,
                "mid": call.streams["audio"],
                "mute": mute,
            }
        )

    await moderate(True)
    stopped_at = await stalled(call.subscriber, "audio")
    # Video goes on while audio stays stopped (50+ audio packets a second would arrive).
    assert await growing(call.subscriber, "video", 20)
    assert (await inbound(call.subscriber))["audio"] == stopped_at
    await moderate(False)
    assert await growing(call.subscriber, "audio", 50)

"""Helpers for connection-check tests: loopback ICE, synthetic media (no numpy), a Python
"browser" that makes a check against a running server, and a throwaway coturn.

aioice leaves 127.0.0.1 out of its host candidates; ``loopback_ice`` makes both the server's
echo peer and the test's peer offer only 127.0.0.1, so nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import av
import httpx
import pytest
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AUDIO_PTIME, VIDEO_CLOCK_RATE, VIDEO_PTIME

from tests.turn import TurnServer, running_turn

WIDTH, HEIGHT = 160, 120  # an unusual size: frames of this size coming back are ours


@pytest.fixture
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])


class GradientTrack(MediaStreamTrack):
    """Video: a gradient that moves one step per frame (yuv420p, 160x120, 30 fps)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.start: float | None = None

    async def recv(self) -> av.VideoFrame:
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time()
        target = self.start + self.count * VIDEO_PTIME
        if target > loop.time():
            await asyncio.sleep(target - loop.time())
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        for index, plane in enumerate(frame.planes):
            rows = HEIGHT if index == 0 else HEIGHT // 2
            width = plane.line_size
            if index == 0:
                line = bytes((x + self.count * 4) % 256 for x in range(width))
            else:
                line = bytes([128]) * width
            plane.update(line * rows)
        frame.pts = int(self.count * VIDEO_PTIME * VIDEO_CLOCK_RATE)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        self.count += 1
        return frame


class SineTrack(MediaStreamTrack):
    """Audio: a quiet 440 Hz tone, 20 ms frames of 48 kHz mono s16."""

    kind = "audio"
    RATE = 48000

    def __init__(self) -> None:
        super().__init__()
        self.samples = 0
        self.start: float | None = None

    async def recv(self) -> av.AudioFrame:
        loop = asyncio.get_running_loop()
        if self.start is None:
            self.start = loop.time()
        target = self.start + self.samples / self.RATE
        if target > loop.time():
            await asyncio.sleep(target - loop.time())
        count = int(AUDIO_PTIME * self.RATE)
        frame = av.AudioFrame(format="s16", layout="mono", samples=count)
        data = bytearray()
        for n in range(count):
            value = int(3000 * math.sin(2 * math.pi * 440 * (self.samples + n) / self.RATE))
            data += value.to_bytes(2, "little", signed=True)
        frame.planes[0].update(bytes(data))
        frame.pts = self.samples
        frame.sample_rate = self.RATE
        frame.time_base = fractions.Fraction(1, self.RATE)
        self.samples += count
        return frame


@dataclass
class Checker:
    """A Python "browser": one RTCPeerConnection sending synthetic media to the echo peer."""

    pc: RTCPeerConnection
    frames: dict[str, int] = field(default_factory=lambda: {"video": 0, "audio": 0})
    sizes: set[tuple[int, int]] = field(default_factory=set)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    check_id: str = ""
    answer: dict[str, Any] = field(default_factory=dict)

    async def _read(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                self.frames[track.kind] += 1
                if isinstance(frame, av.VideoFrame):
                    self.sizes.add((frame.width, frame.height))

    async def close(self) -> None:
        await self.pc.close()
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


def rtc_configuration(config: dict[str, Any]) -> RTCConfiguration:
    """A browser-side configuration from ``POST /api/check/config``'s answer."""
    servers = [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in config["ice_servers"]
    ]
    relay = config["ice_transport_policy"] == "relay"
    policy = RTCIceTransportPolicy.RELAY if relay else RTCIceTransportPolicy.ALL
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)


async def offer_check(
    http: httpx.AsyncClient, token: str, *, video: bool = True, audio: bool = True
) -> tuple[Checker, httpx.Response]:
    """Configure (``POST /api/check/config``), offer (``POST /api/check``) and, on 200, set the
    answer. The caller closes the checker."""
    config = await http.post("/api/check/config", json={"token": token})
    assert config.status_code == 200, config.text
    pc = RTCPeerConnection(rtc_configuration(config.json()))
    checker = Checker(pc)

    def on_track(track: MediaStreamTrack) -> None:
        checker.readers.append(asyncio.create_task(checker._read(track)))

    pc.on("track", on_track)
    if video:
        pc.addTrack(GradientTrack())
    if audio:
        pc.addTrack(SineTrack())
    await pc.setLocalDescription(await pc.createOffer())
    local = pc.localDescription
    response = await http.post("/api/check", json={"token": token, "sdp": local.sdp, "type": local.type})
    if response.status_code == 200:
        checker.answer = response.json()
        checker.check_id = checker.answer["id"]
        await pc.setRemoteDescription(RTCSessionDescription(sdp=checker.answer["sdp"], type="answer"))
    else:
        await checker.close()
    return checker, response


# coturn on loopback (TESTING.md), for the relayed path: the shared one of tests/turn.py.

Turn = TurnServer


@pytest.fixture
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TurnServer]:
    with running_turn(tmp_path_factory.mktemp("turn")) as server:
        yield server


@contextlib.asynccontextmanager
async def checks_open(http: httpx.AsyncClient, token: str, count: int) -> AsyncIterator[list[Checker]]:
    """``count`` checks that were accepted, closed on the way out."""
    checkers: list[Checker] = []
    try:
        for _ in range(count):
            checker, response = await offer_check(http, token, audio=False)
            assert response.status_code == 200, response.text
            checkers.append(checker)
        yield checkers
    finally:
        for checker in checkers:
            await checker.close()

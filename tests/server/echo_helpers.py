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
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
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
    servers = [RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
               for s in config["ice_servers"]]
    relay = config["ice_transport_policy"] == "relay"
    policy = RTCIceTransportPolicy.RELAY if relay else RTCIceTransportPolicy.ALL
    return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)


async def offer_check(http: httpx.AsyncClient, token: str, *, video: bool = True,
                      audio: bool = True) -> tuple[Checker, httpx.Response]:
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


async def wait_until(predicate: Any, what: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# coturn on loopback (TESTING.md), for the relayed path.

TURN_SECRET = "turn-test-secret-" + "y" * 20


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass
class Turn:
    url: str
    secret: str
    log: Path


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Turn]:
    binary = shutil.which("turnserver")
    if binary is None:
        pytest.fail("turnserver is missing: scripts/test installs it (apt-get install coturn)")
    port = _free_udp_port()
    relay_low = 50000 + (port % 1000) * 10
    log = tmp_path / "turn.log"
    process = subprocess.Popen(
        [binary, "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
         "--use-auth-secret", f"--static-auth-secret={TURN_SECRET}", "--realm=hearth.test", "--fingerprint",
         "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers",
         f"--min-port={relay_low}", f"--max-port={relay_low + 9}",
         f"--userdb={tmp_path / 'turndb'}", f"--pidfile={tmp_path / 'turn.pid'}",
         f"--log-file={log}", "--simple-log", "--no-stdout-log"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_udp_listener(port, process)
        yield Turn(url=f"turn:127.0.0.1:{port}", secret=TURN_SECRET, log=log)
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _wait_for_udp_listener(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until coturn answers a STUN binding request on ``port`` (bounded)."""
    request = bytes.fromhex("000100002112a442") + b"hearth-check"  # binding request, 12-byte id
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        for _ in range(50):
            if process.poll() is not None:
                raise RuntimeError(f"turnserver exited with status {process.returncode}")
            s.sendto(request, ("127.0.0.1", port))
            with contextlib.suppress(TimeoutError, ConnectionRefusedError, OSError):
                s.recvfrom(2048)
                return
    raise RuntimeError("turnserver did not start within 10 s")


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

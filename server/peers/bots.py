"""``hearth bots LINK --count N --duration S``: N synthetic participants for load tests.

The bots join one after another (a short stagger), each connects to everyone in the room like a
browser, stays ``duration`` seconds from the moment the last one joined, then all leave. The report
gives per bot the join latency (join sent -> welcome) and the frames per second received from
each other participant (video, and audio frames of 20 ms), then a summary: mean and lowest video
frame rate between bots, failed bots (not admitted, or missing media from another bot) and the CPU
time this process used per bot per second. Ctrl-C (``stop``) ends the stay early.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from server.peers.client import HearthError, HearthPeer
from server.peers.invite import Invite, include_loopback_candidates, parse_link
from server.peers.media import LocalMedia


@dataclass
class FromPeer:
    name: str
    video_fps: float
    audio_fps: float


@dataclass
class BotResult:
    name: str
    id: str = ""
    join_ms: float | None = None
    error: str = ""
    received: dict[str, FromPeer] = field(default_factory=dict)  # by participant id

    def line(self, bot_ids: set[str]) -> str:
        if self.error:
            return f"{self.name}: FAILED: {self.error}"
        parts = [
            f"{peer.name} "
            + (f"{peer.video_fps:.1f} fps video, " if peer.video_fps else "")
            + f"{peer.audio_fps:.0f}/s audio"
            for peer in sorted(self.received.values(), key=lambda peer: peer.name)
            if peer.video_fps or peer.audio_fps
        ]
        missing = self.missing(bot_ids)
        tail = f"; nothing from {', '.join(sorted(missing))}" if missing else ""
        return (
            f"{self.name} ({self.id}): joined in {self.join_ms:.0f} ms; "
            + ("; ".join(parts) or "no media")
            + tail
        )

    def missing(self, bot_ids: set[str]) -> set[str]:
        got = {pid for pid, peer in self.received.items() if peer.video_fps > 0 or peer.audio_fps > 0}
        return bot_ids - got - {self.id}


@dataclass
class BotsReport:
    room: str
    count: int
    duration: float = 0.0  # how long everyone stayed
    stopped_early: bool = False
    bots: list[BotResult] = field(default_factory=list)
    cpu_seconds: float = 0.0
    video: bool = True

    @property
    def bot_ids(self) -> set[str]:
        return {bot.id for bot in self.bots if bot.id and not bot.error}

    @property
    def failed(self) -> list[BotResult]:
        ids = self.bot_ids
        return [bot for bot in self.bots if bot.error or bot.missing(ids)]

    def lines(self) -> list[str]:
        ids = self.bot_ids
        out = [
            f"hearth bots: {self.count} bots in room {self.room}, stayed {self.duration:.1f} s"
            + (" (stopped early)" if self.stopped_early else "")
        ]
        out += [f"  {bot.line(ids)}" for bot in self.bots]
        rates = [
            peer.video_fps if self.video else peer.audio_fps
            for bot in self.bots
            for pid, peer in bot.received.items()
            if pid in ids
        ]
        unit = "fps video" if self.video else "audio frames/s"
        if rates:
            out.append(
                f"summary: {unit} between bots: mean {sum(rates) / len(rates):.1f}, min {min(rates):.1f}"
            )
        else:
            out.append("summary: no media between bots")
        failed = self.failed
        out.append(
            f"  failed bots: {len(failed)}" + (f" ({', '.join(b.name for b in failed)})" if failed else "")
        )
        if self.duration > 0 and self.count:
            per_bot = self.cpu_seconds / self.duration / self.count
            out.append(
                f"  CPU of this process: {self.cpu_seconds:.1f} s in {self.duration:.1f} s, "
                f"{per_bot:.2f} s per bot per second"
            )
        return out


async def run_bots(
    link: str | Invite,
    count: int,
    duration: float,
    *,
    video: bool = True,
    width: int = 640,
    height: int = 480,
    fps: float = 20.0,
    path: str | None = None,
    stagger: float = 0.2,
    join_timeout: float = 15.0,
    stop: asyncio.Event | None = None,
) -> BotsReport:
    invite = link if isinstance(link, Invite) else parse_link(link)
    if invite.is_loopback():
        include_loopback_candidates()
    stop = stop or asyncio.Event()
    report = BotsReport(room=invite.room_id, count=count, video=video)
    report.bots = [BotResult(f"Bot {n + 1}") for n in range(count)]
    peers = [
        HearthPeer(
            invite, result.name, media=LocalMedia(video=video, width=width, height=height, fps=fps, path=path)
        )
        for result in report.bots
    ]
    loop = asyncio.get_running_loop()
    try:
        joins = []
        for peer, result in zip(peers, report.bots, strict=True):
            joins.append(asyncio.create_task(_join(peer, result, join_timeout)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), stagger)
            if stop.is_set():
                break
        await asyncio.gather(*joins)
        started, cpu_start = loop.time(), time.process_time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
        report.stopped_early = stop.is_set()
        report.duration = loop.time() - started
        report.cpu_seconds = time.process_time() - cpu_start
        for peer, result in zip(peers, report.bots, strict=True):
            _collect(peer, result)
    finally:
        await asyncio.gather(*(asyncio.wait_for(peer.close(), 10) for peer in peers), return_exceptions=True)
    return report


async def _join(peer: HearthPeer, result: BotResult, timeout: float) -> None:
    try:
        await peer.join(timeout)
    except HearthError as exc:
        result.error = exc.message if exc.code in ("lobby", "unreachable") else f"{exc.code}: {exc.message}"
        return
    result.id = peer.id
    result.join_ms = 1000 * (peer.join_latency or 0.0)


def _collect(peer: HearthPeer, result: BotResult) -> None:
    if result.error:
        return
    now = asyncio.get_running_loop().time()
    for pid, stats in peer.stats().items():
        media = peer.receiver.media.get(pid)
        audio_fps = 0.0
        if media is not None and media.first_audio_at is not None and now - media.first_audio_at > 0.2:
            audio_fps = media.audio_frames / (now - media.first_audio_at)
        name = str(peer.participants.get(pid, {}).get("name", pid))
        result.received[pid] = FromPeer(name, stats.mean_fps, audio_fps)

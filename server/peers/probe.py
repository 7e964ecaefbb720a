"""``hearth probe LINK``: is media flowing through this deployment right now?

Two synthetic participants ("Hearth probe A" and "B") join the room of the link, connect to each
other only (they ignore everyone else in the room, who may see them briefly), and wait until video
and audio flow both ways. The report gives, per direction, the ICE path (host, srflx or relay)
with the candidate types of the selected pair, the time from both being in the room to the
first video frame, and the frame rate; then the round-trip time (RTCP). Both leave at the end.

The members of a room wait in the lobby unless a facilitator is in the room and the room has no
lobby: for unattended monitoring use the facilitator link of a room kept for it (the probe then
starts that room's session itself, and it ends when both leave).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from server.peers.client import HearthError, HearthPeer, until
from server.peers.invite import InvalidLink, include_loopback_candidates, parse_link
from server.peers.media import LocalMedia

MEASURE_SECONDS = 2.0


def path_type(pair: tuple[str, str] | None) -> str:
    """host, srflx or relay: the most indirect of the two candidate types (prflx counts as srflx)."""
    if pair is None:
        return "unknown"
    if "relay" in pair:
        return "relay"
    if "srflx" in pair or "prflx" in pair:
        return "srflx"
    return "host"


@dataclass
class Direction:
    sender: str
    receiver: str
    pair: tuple[str, str] | None = None  # (sender's candidate type, receiver's)
    first_frame: float | None = None  # seconds from both being in the room
    frames: int = 0
    fps: float = 0.0
    audio_frames: int = 0

    @property
    def flowed(self) -> bool:
        return self.frames > 0 and self.audio_frames > 0

    def line(self) -> str:
        if not self.flowed:
            what = "video" if self.frames == 0 else "audio"
            return f"{self.sender} -> {self.receiver}: no {what} arrived"
        pair = f"{self.pair[0]} -> {self.pair[1]}" if self.pair else "pair unknown"
        first = f"{self.first_frame:.2f} s" if self.first_frame is not None else "?"
        return (
            f"{self.sender} -> {self.receiver}: path {path_type(self.pair)} ({pair}), "
            f"first frame after {first}, {self.fps:.1f} fps, {self.frames} frames"
        )


@dataclass
class ProbeReport:
    ok: bool = False
    problem: str = ""
    room: str = ""
    join_ms: list[float] = field(default_factory=list)
    directions: list[Direction] = field(default_factory=list)
    rtt_ms: list[float] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"hearth probe: media flowed both ways in room {self.room}"
            if self.ok
            else f"hearth probe: FAILED: {self.problem}"
        )
        out = [head]
        if self.join_ms:
            out.append("  joined in " + " and ".join(f"{ms:.0f} ms" for ms in self.join_ms))
        out += [f"  {direction.line()}" for direction in self.directions]
        if self.directions:
            rtt = " / ".join(f"{ms:.1f} ms" for ms in self.rtt_ms) if self.rtt_ms else "not measured yet"
            out.append(f"  round-trip time: {rtt}")
        return out


async def run_probe(link: str, timeout: float = 20.0) -> ProbeReport:
    report = ProbeReport()
    try:
        invite = parse_link(link)
    except InvalidLink as exc:
        report.problem = f"invalid link: {exc}"
        return report
    report.room = invite.room_id
    if invite.is_loopback():
        include_loopback_candidates()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    allowed: set[str] = set()
    a = HearthPeer(invite, "Hearth probe A", media=LocalMedia(), accept=allowed.__contains__)
    b = HearthPeer(invite, "Hearth probe B", media=LocalMedia(), accept=allowed.__contains__)
    try:
        for peer in (a, b):
            await peer.join(max(0.5, deadline - loop.time()))
            report.join_ms.append(1000 * (peer.join_latency or 0.0))
        allowed.update({a.id, b.id})
        start = loop.time()
        a.refresh()
        b.refresh()
        report.directions = [Direction("A", "B"), Direction("B", "A")]
        try:
            await until(lambda: _flowing(a, b) and _flowing(b, a), deadline - loop.time(), "media")
            await asyncio.sleep(min(MEASURE_SECONDS, max(0.0, deadline - loop.time())))
        except TimeoutError:
            report.problem = f"media did not flow both ways within {timeout:g} s"
        for direction, sender, receiver in ((report.directions[0], a, b), (report.directions[1], b, a)):
            _measure(direction, sender, receiver, start)
        report.rtt_ms = [1000 * value for peer in (a, b) for value in (await peer.rtt()).values() if value]
        report.ok = not report.problem and all(d.flowed for d in report.directions)
    except HearthError as exc:
        report.problem = _explain(exc)
    finally:
        for peer in (a, b):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(peer.close(), 10)
    return report


def _flowing(sender: HearthPeer, receiver: HearthPeer) -> bool:
    stats = receiver.stats().get(sender.id)
    return stats is not None and stats.frames >= 2 and stats.audio_frames >= 2


def _measure(direction: Direction, sender: HearthPeer, receiver: HearthPeer, start: float) -> None:
    stats = receiver.stats().get(sender.id)
    direction.pair = sender.selected_pair_types().get(receiver.id)
    if stats is None:
        return
    direction.frames, direction.audio_frames, direction.fps = stats.frames, stats.audio_frames, stats.fps
    if stats.first_frame_at is not None:
        direction.first_frame = stats.first_frame_at - start


def _explain(exc: HearthError) -> str:
    if exc.code == "unreachable":
        return f"the server is unreachable: {exc.message}"
    if exc.code == "unauthorized":
        return f"the link was refused ({exc.message}): it may be expired or replaced by a newer one"
    if exc.code == "lobby":
        return (
            f"the probe was not let in: {exc.message}; use a room without lobby with a session "
            "going on, or a facilitator link"
        )
    return f"{exc.code}: {exc.message}"

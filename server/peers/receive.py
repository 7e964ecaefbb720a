"""What a Python peer receives: every remote track is read to the end, frames are counted per
remote participant, and the audio level (RMS, 0..1) is kept so a test can tell a tone from
silence. Nothing is played: a peer records whose audio it would mute instead (``audible``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import operator
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

log = logging.getLogger("hearth.peers")

FPS_WINDOW_SECONDS = 2.0
LEVEL_FRAMES = 25  # the audio level is the RMS over the last 0.5 s (25 frames of 20 ms)
LEVEL_STRIDE = 4  # every 4th sample is enough for a level, at a quarter of the work


@dataclass
class PeerStats:
    """What arrived from one remote participant (compare the browser's ``mesh.stats()``)."""

    frames: int  # video frames decoded
    fps: float  # over the last two seconds
    mean_fps: float  # since the first frame
    frame_width: int
    audio_frames: int
    audio_level: float  # RMS of the last half second, 0..1
    first_frame_at: float | None  # event-loop time of the first video frame
    connection_state: str
    audible: bool  # a browser would play this participant (can_speak)


@dataclass
class RemoteMedia:
    """Media received from one remote participant, over every connection made to them."""

    frames: int = 0  # video frames decoded
    audio_frames: int = 0
    frame_width: int = 0
    first_frame_at: float | None = None  # loop time of the first video frame
    first_audio_at: float | None = None
    recent_frames: deque[float] = field(default_factory=lambda: deque(maxlen=300))
    levels: deque[float] = field(default_factory=lambda: deque(maxlen=LEVEL_FRAMES))

    def fps(self, now: float) -> float:
        """Video frames per second over the last two seconds (or since the first frame)."""
        if self.first_frame_at is None:
            return 0.0
        since = max(now - FPS_WINDOW_SECONDS, self.first_frame_at)
        span = now - since
        count = sum(1 for t in self.recent_frames if t > since)
        return count / span if span > 0.2 else 0.0

    def mean_fps(self, now: float) -> float:
        """Video frames per second since the first frame."""
        if self.first_frame_at is None or now - self.first_frame_at < 0.2:
            return 0.0
        return (self.frames - 1) / (now - self.first_frame_at)

    def audio_level(self) -> float:
        """RMS of the last half second of audio, 0 (silence) .. 1 (full scale)."""
        if not self.levels:
            return 0.0
        return math.sqrt(sum(self.levels) / len(self.levels))

    def stats(self, now: float, connection_state: str, audible: bool) -> PeerStats:
        return PeerStats(
            frames=self.frames,
            fps=self.fps(now),
            mean_fps=self.mean_fps(now),
            frame_width=self.frame_width,
            audio_frames=self.audio_frames,
            audio_level=self.audio_level(),
            first_frame_at=self.first_frame_at,
            connection_state=connection_state,
            audible=audible,
        )


def mean_square(frame: Any) -> float:
    """Mean square of a decoded audio frame's samples, in full-scale units."""
    if frame.format.name != "s16":  # aiortc's decoders give s16; anything else is not measured
        return 0.0
    channels = len(frame.layout.channels)
    data = bytes(frame.planes[0])[: frame.samples * channels * 2]
    samples = array("h", data)[::LEVEL_STRIDE]
    if not samples:
        return 0.0
    total: int = sum(map(operator.mul, samples, samples))
    return total / (len(samples) * 32768.0 * 32768.0)


class Receiver:
    """Reads remote tracks; ``media[participant_id]`` accumulates what arrived."""

    def __init__(self) -> None:
        self.media: dict[str, RemoteMedia] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def consume(self, participant_id: str, track: MediaStreamTrack) -> None:
        remote = self.media.setdefault(participant_id, RemoteMedia())
        self._start(lambda: remote, track, participant_id)

    def consume_mapped(self, track: MediaStreamTrack, owner: Callable[[], str | None]) -> None:
        """Read a track whose frames count for whoever ``owner()`` names at the time (SFU mode:
        a receiving stream is reused for another participant after a renegotiation)."""

        def remote() -> RemoteMedia | None:
            participant_id = owner()
            return self.media.setdefault(participant_id, RemoteMedia()) if participant_id else None

        self._start(remote, track, "sfu")

    def _start(self, remote: Callable[[], RemoteMedia | None], track: MediaStreamTrack, name: str) -> None:
        task = asyncio.create_task(self._read(remote, track), name=f"hearth-receive-{name}")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _read(self, owner: Callable[[], RemoteMedia | None], track: MediaStreamTrack) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                frame = await track.recv()
                now = loop.time()
                remote = owner()
                if remote is None:
                    continue  # a stream nobody owns now (its feed went)
                if isinstance(frame, av.VideoFrame):
                    remote.frames += 1
                    remote.frame_width = frame.width
                    remote.recent_frames.append(now)
                    if remote.first_frame_at is None:
                        remote.first_frame_at = now
                else:
                    remote.audio_frames += 1
                    remote.levels.append(mean_square(frame))
                    if remote.first_audio_at is None:
                        remote.first_audio_at = now
        except MediaStreamError:
            pass  # the connection closed: the track ended
        except Exception:  # a decoding problem must not end the peer
            log.exception("hearth: reading a remote %s track failed", track.kind)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

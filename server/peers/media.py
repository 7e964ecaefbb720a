"""What a Python peer sends: a synthetic camera and microphone (no numpy), or a media file.

aiortc pulls frames from a track (``await track.recv()``), one sender per connection, so a track
must not be shared between connections: each would take every other frame. ``LocalMedia`` is the
one source of a peer (the moving pattern is computed once per frame for every connection, the
tone is Opus-encoded once) and hands out fresh tracks for each connection. Its ``microphone`` and
``camera`` switches act at once on every track it made: a muted microphone sends silence, a
camera that is off sends black, like a browser's disabled track.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from array import array
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaPlayer, MediaRelay
from aiortc.mediastreams import MediaStreamError

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000
AUDIO_FRAME_SECONDS = 0.020
AUDIO_SAMPLES = int(AUDIO_RATE * AUDIO_FRAME_SECONDS)  # 960 per 20 ms frame
BLACK = (16, 128, 128)  # Y, U, V of black in limited-range yuv420p
BACKGROUND_UV = (112, 148)  # a warm tint under the gradient
SQUARE_YUV = (225, 170, 60)  # a bright teal square
MAX_LATE_FRAMES = 2  # a track that falls further behind skips ahead instead of bursting


class Pacer:
    """Frame ``n`` is due at ``start + n * period``; a track that runs late (a busy machine)
    drops the frames it missed rather than sending them in a burst."""

    def __init__(self, period: float) -> None:
        self.period = period
        self.start: float | None = None
        self.index = -1

    async def next(self) -> int:
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.start is None:
            self.start, self.index = now, 0
            return 0
        self.index += 1
        due = self.start + self.index * self.period
        if now - due > MAX_LATE_FRAMES * self.period:
            self.index = int((now - self.start) / self.period)
        else:
            await asyncio.sleep(max(0.0, due - now))
        return self.index


class Pattern:
    """A still diagonal gradient with a bright square bouncing across it, as yuv420p planes.

    Mostly still, like a person in front of a camera: cheap to build (a copy and a few row writes
    per frame), cheap to encode (VP8 needs about a third less time and half the bitrate than for
    a picture that moves everywhere), and no two consecutive frames are alike."""

    def __init__(self, width: int, height: int, fps: float) -> None:
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ValueError(f"video size must be even and at least 16x16, not {width}x{height}")
        self.width, self.height, self.fps = width, height, fps
        sample = av.VideoFrame(width, height, "yuv420p")
        self.line_sizes = [plane.line_size for plane in sample.planes]
        rows = (height, height // 2, height // 2)
        line = self.line_sizes[0]
        ramp = bytes(16 + 219 * k // (width + height) for k in range(height + line))
        luma = b"".join(ramp[y : y + line] for y in range(height))
        self.background = (
            luma,
            *(
                bytes([value]) * (size * count)
                for value, size, count in zip(BACKGROUND_UV, self.line_sizes[1:], rows[1:], strict=True)
            ),
        )
        self.black = tuple(
            bytes([value]) * (size * count)
            for value, size, count in zip(BLACK, self.line_sizes, rows, strict=True)
        )
        self.side = max(8, min(width, height) // 6 // 2 * 2)
        self.square = tuple(
            bytes([value]) * (self.side >> shift) for value, shift in zip(SQUARE_YUV, (0, 1, 1), strict=True)
        )
        self._cached: tuple[int, tuple[bytes, ...]] | None = None
        self._start: float | None = None

    def now(self) -> tuple[bytes, ...]:
        """The pattern at this moment: every connection shows (and shares) the same picture."""
        loop_time = asyncio.get_running_loop().time()
        if self._start is None:
            self._start = loop_time
        return self.planes(int((loop_time - self._start) * self.fps))

    def planes(self, index: int) -> tuple[bytes, ...]:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        x = _bounce(index * 6, self.width - self.side)
        y = _bounce(index * 4, self.height - self.side)
        planes = []
        layout = zip(self.background, self.square, self.line_sizes, (0, 1, 1), strict=True)
        for background, row, line, shift in layout:  # chroma planes are half size: shift 1
            data = bytearray(background)
            left, top, side = x >> shift, y >> shift, self.side >> shift
            for r in range(top, top + side):
                data[r * line + left : r * line + left + side] = row
            planes.append(bytes(data))
        self._cached = (index, tuple(planes))
        return self._cached[1]


def _bounce(travelled: int, span: int) -> int:
    """Where something moving back and forth over ``span`` is after ``travelled`` (even)."""
    if span <= 0:
        return 0
    position = travelled % (2 * span)
    return (position if position <= span else 2 * span - position) // 2 * 2


class Tone:
    """A sine tone (48 kHz mono), Opus-encoded once: 50 packets of 20 ms that loop seamlessly (one
    second holds a whole number of periods for any whole-number frequency), and one of silence.

    Tracks hand these packets to aiortc, which sends them as they are: no encoder per connection,
    and none of the per-frame audio-level arithmetic aiortc does in Python for raw frames."""

    def __init__(self, frequency: int = 440, amplitude: float = 0.25) -> None:
        peak = int(32767 * amplitude)
        period = AUDIO_RATE // math.gcd(frequency, AUDIO_RATE)  # samples until the wave repeats exactly
        cycle = array(
            "h", (int(peak * math.sin(2 * math.pi * frequency * i / AUDIO_RATE)) for i in range(period))
        )
        second = cycle.tobytes() * (AUDIO_RATE // period)
        frame_bytes = AUDIO_SAMPLES * 2
        per_second = AUDIO_RATE // AUDIO_SAMPLES
        chunks = [second[i * frame_bytes : (i + 1) * frame_bytes] for i in range(per_second)]
        # Two seconds in, the encoder is past its start-up: the second second's packets loop.
        self.packets = _opus([*chunks, *chunks])[-per_second:]
        self.silence = _opus([bytes(frame_bytes)] * 3)[-1]

    def packet(self, index: int, muted: bool) -> av.Packet[Any]:
        data = self.silence if muted else self.packets[index % len(self.packets)]
        packet = av.Packet(data)
        packet.pts = index * AUDIO_SAMPLES
        packet.time_base = fractions.Fraction(1, AUDIO_RATE)
        return packet


def _opus(chunks: list[bytes]) -> list[bytes]:
    """Opus packets (20 ms each) for 20 ms chunks of s16 mono audio at 48 kHz."""
    codec: Any = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.layout, codec.format = AUDIO_RATE, "mono", "s16"
    codec.time_base = fractions.Fraction(1, AUDIO_RATE)
    packets: list[bytes] = []
    for index, chunk in enumerate(chunks):
        frame = av.AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(chunk)
        frame.sample_rate, frame.pts = AUDIO_RATE, index * AUDIO_SAMPLES
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        packets += [bytes(packet) for packet in codec.encode(frame)]
    return packets


class PatternTrack(MediaStreamTrack):
    kind = "video"

    def __init__(self, media: LocalMedia, pattern: Pattern) -> None:
        super().__init__()
        self.media, self.pattern = media, pattern
        self.pacer = Pacer(1 / pattern.fps)
        self.step = int(VIDEO_CLOCK / pattern.fps)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self.pacer.next()
        frame = av.VideoFrame(self.pattern.width, self.pattern.height, "yuv420p")
        planes = self.pattern.now() if self.media.camera else self.pattern.black
        for plane, data in zip(frame.planes, planes, strict=True):
            plane.update(data)
        frame.pts = index * self.step
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class ToneTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(self, media: LocalMedia, tone: Tone) -> None:
        super().__init__()
        self.media, self.tone = media, tone
        self.pacer = Pacer(AUDIO_FRAME_SECONDS)

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self.pacer.next()
        return self.tone.packet(index, muted=not self.media.microphone)


class GatedTrack(MediaStreamTrack):
    """A file's track with the switches applied: silence while muted, black while the camera
    is off (frames keep their timing, only their content changes)."""

    def __init__(self, media: LocalMedia, source: MediaStreamTrack) -> None:
        super().__init__()
        self.kind = source.kind
        self.media, self.source = media, source

    async def recv(self) -> Any:
        frame: Any = await self.source.recv()
        if self.kind == "audio" and not self.media.microphone:
            quiet = av.AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=frame.samples)
            for plane in quiet.planes:
                plane.update(bytes(plane.buffer_size))
            quiet.sample_rate = frame.sample_rate
            return _timed_like(quiet, frame)
        if self.kind == "video" and not self.media.camera:
            dark = av.VideoFrame(frame.width, frame.height, "yuv420p")
            for video_plane, value in zip(dark.planes, BLACK, strict=True):
                video_plane.update(bytes([value]) * video_plane.buffer_size)
            return _timed_like(dark, frame)
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()


def _timed_like(new: Any, old: Any) -> Any:
    new.pts, new.time_base = old.pts, old.time_base
    return new


class LocalMedia:
    """A peer's camera and microphone: synthetic by default, or a media file (``path``, looped).

    ``audio``/``video`` false: nothing of that kind is sent (the connection only receives it).
    """

    def __init__(
        self,
        *,
        audio: bool = True,
        video: bool = True,
        width: int = 640,
        height: int = 480,
        fps: float = 20.0,
        frequency: int = 440,
        path: str | None = None,
    ) -> None:
        self.audio, self.video = audio, video
        self.microphone = True  # False: every audio track made here sends silence
        self.camera = True  # False: every video track made here sends black
        self.pattern = Pattern(width, height, fps) if video and path is None else None
        self.tone = Tone(frequency) if audio and path is None else None
        self.player: Any = MediaPlayer(path, loop=True) if path is not None else None
        self.relay: Any = MediaRelay() if path is not None else None
        self.tracks: list[MediaStreamTrack] = []

    def new_tracks(self) -> list[MediaStreamTrack]:
        """Fresh tracks (audio first, then video) for one more connection."""
        made: list[MediaStreamTrack] = []
        if self.player is not None:
            for kind, wanted in (("audio", self.audio), ("video", self.video)):
                source = getattr(self.player, kind)
                if wanted and source is not None:
                    made.append(GatedTrack(self, self.relay.subscribe(source)))
        else:
            if self.tone is not None:
                made.append(ToneTrack(self, self.tone))
            if self.pattern is not None:
                made.append(PatternTrack(self, self.pattern))
        self.tracks.extend(made)
        self.tracks = [track for track in self.tracks if track.readyState == "live"]
        return made

    def stop(self) -> None:
        for track in self.tracks:
            track.stop()
        self.tracks.clear()
        if self.player is not None:
            for source in (self.player.audio, self.player.video):
                if source is not None:
                    source.stop()

"""One aiortc connection to one other participant, negotiated like the browser (negotiation.js).

Politeness rule: of two participants, the one whose id sorts first is POLITE. The impolite side
adds its tracks at once and offers; the polite side sends ``hello`` and puts its tracks on the
transceivers of the offer it answers. If no offer comes within 4 s, the polite side offers.

Differences from the browser, because of what aiortc can do:

- Everything a link does (offer, apply a signal, a timer) runs in one queue, one job at a
  time, so "making an offer" and "applying an offer" never overlap.
- aiortc has no rollback: a polite side whose own offer collides with the other side's replaces
  its ``RTCPeerConnection`` (keeping its tag, so the other side sees the same connection; the
  abandoned offer was ignored there) and answers on the fresh one.
- aiortc does not trickle: its candidates are inside its descriptions. Trickled browser
  candidates are converted; an empty or null candidate is the end of candidates.
- aiortc has no ICE restart: a connection that is not connected after 12 s (polite) or 20 s
  (impolite) is replaced by a new one with a new tag (``on_stuck``), as the browser does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from server.peers.media import LocalMedia

log = logging.getLogger("hearth.peers")

POLITE_FALLBACK_SECONDS = 4.0
STUCK_SECONDS = (12.0, 20.0)  # polite, impolite
CLOSE_SECONDS = 5.0
KINDS = ("audio", "video")

SendSignal = Callable[[dict[str, Any]], Awaitable[None]]
Job = Callable[[], Awaitable[None]]


def parse_candidate(value: object) -> Any:
    """A trickled browser candidate as an aiortc ``RTCIceCandidate``; None for end-of-candidates."""
    text = value.get("candidate") if isinstance(value, dict) else value
    if not isinstance(text, str) or not text.strip():
        return None
    text = text.strip().removeprefix("a=")
    candidate = candidate_from_sdp(text.split(":", 1)[1] if text.startswith("candidate:") else text)
    if isinstance(value, dict):
        candidate.sdpMid = value.get("sdpMid")
        candidate.sdpMLineIndex = value.get("sdpMLineIndex")
    if candidate.sdpMid is None and candidate.sdpMLineIndex is None:
        candidate.sdpMLineIndex = 0
    return candidate


def description_of(pc: Any) -> dict[str, str]:
    local = pc.localDescription
    return {"type": str(local.type), "sdp": str(local.sdp)}


class PeerLink:
    def __init__(
        self,
        *,
        remote_id: str,
        polite: bool,
        config: RTCConfiguration,
        media: LocalMedia,
        send: SendSignal,
        on_track: Callable[[MediaStreamTrack], None],
        on_stuck: Callable[[], None],
    ) -> None:
        self.remote_id, self.polite, self.config, self.media = remote_id, polite, config, media
        self._send, self.on_track, self.on_stuck = send, on_track, on_stuck
        self.tag = secrets.token_hex(8)
        self.remote_tag: str | None = None  # the tag of the other side's connection, once heard
        self.tracks_attached = False
        self.ignore_offer = False
        self.closed = False
        self.connected_at: float | None = None
        self.local_tracks: list[MediaStreamTrack] = []
        self.closing: set[asyncio.Task[None]] = set()
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.jobs: asyncio.Queue[Job] = asyncio.Queue()
        self.pc: Any = self._new_pc()
        self.worker = asyncio.create_task(self._work(), name=f"hearth-link-{remote_id}")
        self._set_timer("stuck", STUCK_SECONDS[0 if polite else 1], self._check_stuck)

    # The queue

    def _enqueue(self, job: Job) -> None:
        if not self.closed:
            self.jobs.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self.jobs.get()
            if self.closed:
                return
            try:
                await job()
            except Exception as exc:
                log.warning("hearth: negotiation with %s: %s: %s", self.remote_id, type(exc).__name__, exc)

    # Starting

    def start(self) -> None:
        """Begin on our own initiative: offer (impolite), or say hello and wait (polite)."""
        if not self.polite:
            self._enqueue(self._offer_with_tracks)
            return
        self._enqueue(lambda: self.send({"hello": True}))
        self._set_timer("fallback", POLITE_FALLBACK_SECONDS, lambda: self._enqueue(self._fallback))

    async def _fallback(self) -> None:
        if self.pc.remoteDescription is None and self.pc.signalingState == "stable":
            log.debug("hearth: no offer came from %s: offering", self.remote_id)
            await self._offer_with_tracks()

    async def send(self, data: dict[str, Any]) -> None:
        if not self.closed:
            await self._send({**data, "pc": self.tag, "peer_pc": self.remote_tag})

    # Descriptions

    def _new_pc(self) -> Any:
        pc = RTCPeerConnection(self.config)
        pc.on("track", lambda track: self._track(pc, track))
        pc.on("connectionstatechange", lambda: self._state(pc))
        return pc

    def _add_tracks(self) -> None:
        if self.tracks_attached:
            return
        self.tracks_attached = True
        tracks = self.media.new_tracks()
        self.local_tracks.extend(tracks)
        for track in tracks:
            self.pc.addTrack(track)
        sent = {track.kind for track in tracks}
        for kind in KINDS:  # receive what we do not send
            if kind not in sent:
                self.pc.addTransceiver(kind, direction="recvonly")

    async def _offer_with_tracks(self) -> None:
        self._add_tracks()
        await self._offer()

    async def _offer(self) -> None:
        if self.pc.signalingState != "stable":
            return
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.send({"description": description_of(self.pc)})

    def _attach_to_offer(self) -> list[MediaStreamTrack]:
        """Our tracks on the offer's transceivers (no new m-lines); the tracks left over."""
        if self.tracks_attached:
            return []
        self.tracks_attached = True
        tracks = self.media.new_tracks()
        self.local_tracks.extend(tracks)
        left: list[MediaStreamTrack] = []
        for track in tracks:
            transceiver = next(
                (
                    t
                    for t in self.pc.getTransceivers()
                    if t.mid is not None and t.sender.track is None and t.kind == track.kind and not t.stopped
                ),
                None,
            )
            if transceiver is None:
                left.append(track)
                continue
            transceiver.direction = "sendrecv"
            transceiver.sender.replaceTrack(track)
        return left

    def _roll_back(self) -> None:
        """aiortc cannot roll back: a fresh connection (same tag) takes the colliding offer."""
        log.debug("hearth: offer from %s collided with ours: starting over to answer it", self.remote_id)
        self._discard_pc()
        self.pc = self._new_pc()
        self.tracks_attached = False

    def _discard_pc(self) -> None:
        for track in self.local_tracks:
            track.stop()
        self.local_tracks.clear()
        task = asyncio.create_task(self._close_pc(self.pc))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    @staticmethod
    async def _close_pc(pc: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(pc.close(), CLOSE_SECONDS)

    # Signals from the other side

    def receive(self, data: dict[str, Any]) -> None:
        self._enqueue(lambda: self._apply(data))

    async def _apply(self, data: dict[str, Any]) -> None:
        description = data.get("description")
        if isinstance(description, dict):
            kind, sdp = description.get("type"), description.get("sdp")
            if kind == "offer" and isinstance(sdp, str):
                await self._apply_offer(sdp)
            elif kind == "answer" and isinstance(sdp, str):
                if self.pc.signalingState != "have-local-offer":
                    log.debug("hearth: stale answer from %s: ignored", self.remote_id)
                    return
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        elif "candidate" in data:
            try:
                await self.pc.addIceCandidate(parse_candidate(data["candidate"]))
            except Exception:
                if not self.ignore_offer:
                    raise

    async def _apply_offer(self, sdp: str) -> None:
        collision = self.pc.signalingState != "stable"
        self.ignore_offer = not self.polite and collision
        if self.ignore_offer:
            log.debug("hearth: ignoring a colliding offer from %s", self.remote_id)
            return
        if collision:
            self._roll_back()
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        self._clear_timer("fallback")
        left = self._attach_to_offer()
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.send({"description": description_of(self.pc)})
        if left:  # the offer had no room for some of our tracks: offer them now
            for track in left:
                self.pc.addTrack(track)
            await self._offer()

    # State, timers

    def _track(self, pc: Any, track: MediaStreamTrack) -> None:
        if pc is self.pc and not self.closed:
            self.on_track(track)

    def _state(self, pc: Any) -> None:
        if pc is not self.pc or self.closed:
            return
        state = pc.connectionState
        log.debug("hearth: connection to %s: %s", self.remote_id, state)
        if state == "connected":
            self.connected_at = asyncio.get_running_loop().time()
            self._clear_timer("stuck")
        elif state == "failed":
            self._set_timer("stuck", STUCK_SECONDS[0 if self.polite else 1], self._check_stuck)

    def _check_stuck(self) -> None:
        if not self.closed and self.pc.connectionState != "connected":
            log.debug("hearth: connection to %s is stuck (%s)", self.remote_id, self.pc.connectionState)
            self.on_stuck()

    def _set_timer(self, name: str, seconds: float, callback: Callable[[], None]) -> None:
        self._clear_timer(name)
        self.timers[name] = asyncio.get_running_loop().call_later(seconds, callback)

    def _clear_timer(self, name: str) -> None:
        timer = self.timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    # Readings

    def selected_pair(self) -> tuple[str, str] | None:
        """(local, remote) candidate types of the pair ICE selected, or None before that."""
        return selected_pair(self.pc)

    async def rtt(self) -> float | None:
        """Round-trip time in seconds from RTCP receiver reports on what we send, or None."""
        return await rtcp_round_trip(self.pc)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for name in list(self.timers):
            self._clear_timer(name)
        self.worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.worker
        self._discard_pc()
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)


def selected_pair(pc: RTCPeerConnection) -> tuple[str, str] | None:
    """(local, remote) candidate types of the pair ICE selected on ``pc``, or None before that
    (aiortc keeps it on its ICE connection: one bundled transport for every transceiver)."""
    for transceiver in pc.getTransceivers():
        ice = getattr(transceiver.receiver.transport, "transport", None)
        connection = getattr(ice, "_connection", None)
        pair = getattr(connection, "_nominated", {}).get(1)
        if pair is not None:
            return str(pair.local_candidate.type), str(pair.remote_candidate.type)
    return None


async def rtcp_round_trip(pc: RTCPeerConnection) -> float | None:
    """Round-trip time in seconds from RTCP receiver reports on what ``pc`` sends, or None."""
    report = await pc.getStats()
    times = [
        s.roundTripTime
        for s in report.values()
        if s.type == "remote-inbound-rtp" and getattr(s, "roundTripTime", None)
    ]
    return sum(times) / len(times) if times else None

"""A Python peer's media in SFU mode: one connection publishing its camera and microphone to the
group's media server, one receiving everyone else's, both negotiated on the Hearth socket
(``sfu`` messages, docs/protocol.md), never with the media server directly.

- Publishing: this side offers (audio first, then video; aiortc sends no simulcast, so the
  server simply has one layer of it) and applies the server's answer.
- Receiving: the server offers, naming whose each stream is (``streams``: mid -> participant),
  and this side answers; later offers (people come and go) reuse the same connection. aiortc
  needs ``bundlePolicy`` max-bundle to receive several videos on one connection.
- ``restart``: the media server changed (failover) or this participant's session there was
  replaced: both connections are closed and publishing starts over; the server sends a new
  subscriber offer by itself.

Received frames are counted per participant as in the mesh (``Receiver``): a stream's frames
count for whoever the latest offer names for its mid, so a mid reused for someone else counts
for them from then on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from server.peers.media import LocalMedia
from server.peers.mesh import rtc_configuration
from server.peers.negotiation import description_of, parse_candidate, rtcp_round_trip, selected_pair
from server.peers.receive import Receiver

log = logging.getLogger("hearth.peers")

Send = Callable[[dict[str, Any]], Awaitable[None]]
Job = Callable[[], Awaitable[None]]


class SfuMedia:
    def __init__(self, send: Send, media: LocalMedia, receiver: Receiver) -> None:
        self.send, self.media, self.receiver = send, media, receiver
        self.config: RTCConfiguration = rtc_configuration([], "all")
        self.pub: RTCPeerConnection | None = None
        self.sub: RTCPeerConnection | None = None
        self.owners: dict[str, str] = {}  # subscriber mid -> participant id
        self.speaking: str | None = None
        self.restarts = 0
        self.active = False
        self.jobs: asyncio.Queue[Job] = asyncio.Queue()
        self.worker: asyncio.Task[None] | None = None
        self.closing: set[asyncio.Task[None]] = set()

    # Starting and stopping -----------------------------------------------------------------------

    def reset(self, ice_servers: Iterable[dict[str, Any]], policy: str) -> None:
        """After a welcome in an SFU session: start over and publish."""
        self.config = rtc_configuration(ice_servers, policy)
        self.active = True
        if self.worker is None:
            self.worker = asyncio.create_task(self._work(), name="hearth-peer-sfu")
        self._enqueue(self._start)

    def _enqueue(self, job: Job) -> None:
        self.jobs.put_nowait(job)

    async def _work(self) -> None:
        while True:
            job = await self.jobs.get()
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad negotiation must not end the peer
                log.exception("hearth: an sfu negotiation step failed")

    async def _start(self) -> None:
        self._discard()
        pc = self.pub = RTCPeerConnection(self.config)
        for track in self.media.new_tracks():  # audio first, then video
            pc.addTransceiver(track, direction="sendonly")
        if not pc.getTransceivers():
            return  # nothing to send: only receive
        await pc.setLocalDescription(await pc.createOffer())
        await self.send({"type": "sfu", "pc": "pub", "description": description_of(pc)})

    def _discard(self) -> None:
        for pc in (self.pub, self.sub):
            if pc is not None:
                task = asyncio.create_task(pc.close())
                self.closing.add(task)
                task.add_done_callback(self.closing.discard)
        self.pub = self.sub = None
        self.owners = {}

    def stop(self) -> None:
        """The Hearth socket ended: close both connections (nothing renegotiates them now)."""
        self.active = False
        self._discard()

    async def close(self) -> None:
        self.active = False
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
            self.worker = None
        self._discard()
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)

    # The server's ``sfu`` frames -----------------------------------------------------------------

    def handle(self, frame: dict[str, Any]) -> None:
        if not self.active:
            return
        if frame.get("restart"):
            self.restarts += 1
            self._enqueue(self._start)
        elif "speaking" in frame:
            speaking = frame.get("speaking")
            self.speaking = speaking if isinstance(speaking, str) else None
        elif isinstance(frame.get("description"), dict):
            description = frame["description"]
            if frame.get("pc") == "pub" and description.get("type") == "answer":
                self._enqueue(lambda: self._answered(description))
            elif frame.get("pc") == "sub" and description.get("type") == "offer":
                streams: list[Any] = frame["streams"] if isinstance(frame.get("streams"), list) else []
                self._enqueue(lambda: self._offered(description, streams))
        elif "candidate" in frame and frame.get("pc") in ("pub", "sub"):
            self._enqueue(lambda: self._candidate(str(frame["pc"]), frame.get("candidate")))

    async def _answered(self, description: dict[str, Any]) -> None:
        if self.pub is not None and self.pub.signalingState == "have-local-offer":
            await self.pub.setRemoteDescription(RTCSessionDescription(str(description["sdp"]), "answer"))

    async def _offered(self, description: dict[str, Any], streams: list[Any]) -> None:
        self.owners = {
            str(s["mid"]): str(s["participant"])
            for s in streams
            if isinstance(s, dict) and "mid" in s and "participant" in s
        }
        pc = self.sub
        if pc is None:
            made = pc = self.sub = RTCPeerConnection(self.config)
            pc.on("track", lambda track: self._track(made, track))
        await pc.setRemoteDescription(RTCSessionDescription(str(description["sdp"]), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        if pc is self.sub:  # not closed meanwhile (the socket ended)
            await self.send({"type": "sfu", "pc": "sub", "description": description_of(pc)})

    async def _candidate(self, pc_name: str, value: object) -> None:
        pc = self.pub if pc_name == "pub" else self.sub
        candidate = parse_candidate(value)
        if pc is not None and candidate is not None and pc.remoteDescription is not None:
            await pc.addIceCandidate(candidate)

    def _track(self, pc: RTCPeerConnection, track: MediaStreamTrack) -> None:
        mid = next((t.mid for t in pc.getTransceivers() if t.receiver.track is track), None)
        if mid is not None:
            self.receiver.consume_mapped(track, lambda: self.owners.get(str(mid)))

    # Readings ------------------------------------------------------------------------------------

    def state(self) -> str:
        """The receiving connection's state (what media from others depends on)."""
        return str(self.sub.connectionState) if self.sub is not None else "closed"

    def selected_pair(self) -> tuple[str, str] | None:
        """(local, remote) candidate types of the publishing connection's selected pair."""
        return selected_pair(self.pub) if self.pub is not None else None

    async def rtt(self) -> float | None:
        """Round-trip time (s) to the media server from RTCP reports on what we publish."""
        return await rtcp_round_trip(self.pub) if self.pub is not None else None

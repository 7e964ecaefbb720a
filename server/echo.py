"""The connection check: an aiortc peer on the server that echoes a browser's camera and microphone.

Before joining, a person can make one WebRTC connection to the server with the room's ICE servers
and policy, send their camera and microphone, and see and hear themselves come back. That proves
the path media takes from their network (direct or through the TURN server) works.

``EchoChecks`` holds at most ``settings.check_max`` such connections on this node; each is closed
after ``settings.check_seconds``, when the browser closes it, when its connection fails, or on
``close(id)``. Beyond the limit ``start`` raises ``ChecksBusy``.

Nothing leaves this machine that the room's own configuration would not send: the server's peer
is configured with the room's TURN servers (its own time-limited credentials) or, without TURN,
with an explicitly empty list (aiortc adds a public STUN server when it gets none). SDP is
never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from server import metrics, tokens
from server.config import Settings
from server.signals import strip_sdp

log = logging.getLogger("hearth.check")

MAX_CANDIDATES = 32  # remote candidates in one offer: a browser sends a handful per network
MEDIA_KINDS = ("audio", "video")  # at most one of each: what a camera and a microphone need
# What aiortc raises for an offer it cannot parse or answer.
UNUSABLE = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    InternalError,
    InvalidAccessError,
    InvalidStateError,
    OperationError,
)
START_TIMEOUT = 15.0  # the longest setting up one answer may take (TURN allocation included)


class ChecksBusy(Exception):
    """Every slot is taken; ``retry_after`` is when the earliest running check ends (s)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the connection check is busy")
        self.retry_after = retry_after


class BadOffer(ValueError):
    """An offer the check does not accept; the message says why (no SDP in it)."""


@dataclass(eq=False)
class _Check:
    id: str
    room: str
    pc: RTCPeerConnection
    started: float
    expiry: asyncio.Task[None] | None = None
    tracks: list[str] = field(default_factory=list)
    closing: bool = False


def check_offer(sdp: object, kind: object, relay_only: bool) -> str:
    """The offer's SDP, checked (and in relay-only mode without non-relay candidates)."""
    if kind != "offer":
        raise BadOffer("'type' must be \"offer\"")
    if not isinstance(sdp, str) or not sdp.startswith("v=0"):
        raise BadOffer("'sdp' must be a session description")
    lines = sdp.splitlines()
    media = [line.split()[0].removeprefix("m=") for line in lines if line.startswith("m=") and line.split()]
    if not media:
        raise BadOffer("the offer has no media")
    for kind_name in media:
        if kind_name not in MEDIA_KINDS:
            raise BadOffer("the offer may carry only audio and video")
        if media.count(kind_name) > 1:
            raise BadOffer("the offer may carry one audio and one video track")
    if sum(1 for line in lines if line.startswith("a=candidate:")) > MAX_CANDIDATES:
        raise BadOffer(f"the offer has more than {MAX_CANDIDATES} candidates")
    return strip_sdp(sdp) if relay_only else sdp


class EchoChecks:
    """The running connection checks of this node."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._checks: dict[str, _Check] = {}
        self._starting = 0  # slots taken by checks still being set up
        self._closed = False

    @property
    def active(self) -> int:
        """Checks running or being set up (each takes a slot)."""
        return len(self._checks) + self._starting

    def _shut_down(self) -> bool:
        # A method rather than the attribute: it may change across the awaits in `start`.
        return self._closed

    def _full(self) -> bool:
        return self._closed or self.active >= self.settings.check_max

    def ice_config(self) -> dict[str, Any]:
        """What the browser's side of a check uses: the room's ICE servers and policy."""
        return {
            "ice_servers": self._ice_servers(),
            "ice_transport_policy": self.settings.ice_policy,
            "check_seconds": self.settings.check_seconds,
        }

    def rtc_configuration(self) -> RTCConfiguration:
        """The server peer's ``RTCConfiguration``. ``iceServers`` is never ``None``: aiortc would
        add a public STUN server; an empty list means host candidates only."""
        servers = [
            RTCIceServer(
                urls=[str(url) for url in cast(list[str], s["urls"])],
                username=str(s["username"]),
                credential=str(s["credential"]),
            )
            for s in self._ice_servers()
        ]
        relay = self.settings.ice_policy == "relay"
        policy = RTCIceTransportPolicy.RELAY if relay else RTCIceTransportPolicy.ALL
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)

    def _ice_servers(self) -> list[dict[str, object]]:
        s = self.settings
        who = "check-" + secrets.token_hex(6)
        return tokens.turn_credentials(s.turn_secret, s.turn_urls, who, s.turn_ttl, self.clock())

    def retry_after(self) -> int:
        """Seconds until a slot is expected to free up (at least 1)."""
        now = self.clock()
        ends = [c.started + self.settings.check_seconds - now for c in self._checks.values()]
        return max(1, math.ceil(min(ends, default=self.settings.check_seconds)))

    async def start(self, offer_sdp: object, offer_type: object, room_id: str) -> dict[str, Any]:
        """Answer a browser's offer with a peer that echoes its tracks back.

        Raises ``ChecksBusy`` when ``check_max`` checks run already, ``BadOffer`` for an offer
        that cannot be used. Returns ``{"sdp", "type", "id", "expires_in"}``; the answer carries
        every candidate (aiortc does not trickle).
        """
        sdp = check_offer(offer_sdp, offer_type, self.settings.ice_policy == "relay")
        if self._full():
            metrics.CHECKS_REFUSED.inc()
            raise ChecksBusy(self.retry_after())
        self._starting += 1
        check = _Check(
            id="c" + secrets.token_hex(8),
            room=room_id,
            pc=RTCPeerConnection(configuration=self.rtc_configuration()),
            started=self.clock(),
        )
        try:
            answer = await asyncio.wait_for(self._answer(check, sdp), START_TIMEOUT)
        except BaseException:
            await self._close_pc(check)
            raise
        finally:
            self._starting -= 1
        if self._shut_down():
            await self._close_pc(check)
            raise ChecksBusy(self.retry_after())
        if check.closing:  # its connection failed while the answer was being made
            raise TimeoutError("the echo peer closed during setup")
        check.started = self.clock()
        self._checks[check.id] = check
        check.expiry = asyncio.create_task(self._expire(check), name=f"check-expiry-{check.id}")
        metrics.CHECKS.set(len(self._checks))
        log.info("check started", extra={"check": check.id, "room": room_id, "type": ",".join(check.tracks)})
        expires_in = self.settings.check_seconds
        return {"sdp": answer.sdp, "type": answer.type, "id": check.id, "expires_in": expires_in}

    async def _answer(self, check: _Check, sdp: str) -> RTCSessionDescription:
        pc = check.pc
        relay = MediaRelay()

        def on_track(track: MediaStreamTrack) -> None:
            check.tracks.append(track.kind)
            pc.addTrack(relay.subscribe(track, buffered=False))

        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._end(check, pc.connectionState)

        pc.on("track", on_track)
        pc.on("connectionstatechange", on_state)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            answer = await pc.createAnswer()
        except UNUSABLE as exc:
            # What aiortc says may quote the SDP: only the exception's type is kept.
            raise BadOffer(f"the offer could not be used ({type(exc).__name__})") from None
        await pc.setLocalDescription(answer)  # gathers every candidate before returning
        return pc.localDescription

    async def _expire(self, check: _Check) -> None:
        await asyncio.sleep(max(0.0, check.started + self.settings.check_seconds - self.clock()))
        await self._end(check, "expired")

    async def close(self, check_id: str, room_id: str | None = None) -> bool:
        """End one check early (only if it belongs to ``room_id``, when given); false if unknown."""
        check = self._checks.get(check_id)
        if check is None or (room_id is not None and check.room != room_id):
            return False
        await self._end(check, "closed")
        return True

    async def _end(self, check: _Check, reason: str) -> None:
        if check.closing:
            return
        check.closing = True
        if self._checks.get(check.id) is check:
            del self._checks[check.id]
        metrics.CHECKS.set(len(self._checks))
        expiry = check.expiry
        if expiry is not None and expiry is not asyncio.current_task():
            expiry.cancel()
        await self._close_pc(check)
        seconds = round(self.clock() - check.started, 1)
        log.info(
            "check ended", extra={"check": check.id, "room": check.room, "reason": reason, "seconds": seconds}
        )

    @staticmethod
    async def _close_pc(check: _Check) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(check.pc.close(), 5)

    async def close_all(self) -> None:
        """Shut down: end every check and refuse new ones."""
        self._closed = True
        await asyncio.gather(*(self._end(c, "shutdown") for c in list(self._checks.values())))

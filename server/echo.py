"""The connection check: an aiortc peer on the server that echoes a browser's camera and microphone.

Before joining, a person can make one WebRTC connection to the server with the room's ICE servers
and policy, send their camera and microphone, and see and hear themselves come back. That proves
the path media takes from their network (direct or through the TURN server) works.

``EchoChecks`` holds at most ``settings.check_max`` such connections on this node, and at most
``settings.check_max_per_room`` for one room (so one link cannot hold every slot); each is closed
after ``settings.check_seconds``, when the browser closes it, when its connection fails, or on
``close(id)``. Beyond a limit ``start`` raises ``ChecksBusy``.

The echo peer only sends STUN to global unicast addresses an offer names: candidates naming
loopback, private, link-local, multicast, reserved or unspecified addresses, or a host name (an
mDNS ``.local`` name), are removed from the offer before aiortc sees it, so a check cannot be
used to probe the node's own network. ``settings.check_allow_loopback`` (tests and development
on one machine only) lets loopback candidates through. When any candidate is removed, so is the
offer's end-of-candidates: the echo peer then learns the browser's address from the browser's own
authenticated checks (peer-reflexive), which is how a browser offering only mDNS names connects.

TURN credentials for checks are bound tightly: short-lived (``settings.check_turn_ttl``), at most
``settings.check_turn_per_link`` per invite link and ``settings.check_turn_per_node`` per node each
minute (``CheckRateLimited`` beyond), and their user name names the room and the link
(``check-<room>-<link tag>``), so coturn's per-user quota caps what one link can allocate however
many credentials it asks for. The echo peer's own credentials name the check
(``check-<check id>-echo``).

Nothing leaves this machine that the room's own configuration would not send: the server's peer
is configured with the room's TURN servers (its own time-limited credentials) or, without TURN,
with an explicitly empty list (aiortc adds a public STUN server when it gets none). SDP is
never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import logging
import math
import secrets
import time
from collections import Counter, deque
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

from server import metrics, tokens
from server.config import Settings
from server.signals import strip_sdp

log = logging.getLogger("hearth.check")

MAX_CANDIDATES = 32  # remote candidates in one offer: a browser sends a handful per network
MEDIA_KINDS = ("audio", "video")  # at most one of each: what a camera and a microphone need
START_TIMEOUT = 15.0  # the longest setting up one answer may take (TURN allocation included)
RATE_WINDOW = 60.0  # check TURN credentials are counted over this many seconds
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
# Global-looking ranges that still lead into IPv4 space by another name (6to4, its relay anycast).
NOT_REACHABLE = (ipaddress.IPv6Network("2002::/16"), ipaddress.IPv4Network("192.88.99.0/24"))


class ChecksBusy(Exception):
    """Every slot is taken (of the node, or of the room when ``room`` is true); ``retry_after`` is
    when the earliest running check that holds one ends (s)."""

    def __init__(self, retry_after: int, *, room: bool = False) -> None:
        super().__init__("the connection check is busy")
        self.retry_after = retry_after
        self.room = room


class CheckRateLimited(Exception):
    """Too many check TURN credentials asked for lately (by this link, or on this node)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many connection checks")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class CheckAccess:
    """Who a check request is for: the room, and a tag of the invite link (``link_tag``)."""

    room: str
    link: str


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


def reachable_address(address: str, allow_loopback: bool = False) -> bool:
    """Whether the echo peer may send STUN to ``address``: a global unicast IP address (loopback
    too when ``allow_loopback``). Host names, mDNS ``.local`` names included, are refused: aiortc
    would resolve them, and an offer must not make the node look names up on its network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip not in GLOBAL_UNICAST_V6:
        return False  # NAT64 (64:ff9b::/96) and every other range outside global unicast
    return not any(ip in network for network in NOT_REACHABLE)


def candidate_allowed(line: str, allow_loopback: bool = False) -> bool:
    """Whether an ``a=candidate:`` line names an address the echo peer may contact
    (``foundation component transport priority address port typ type ...``)."""
    fields = line.split()
    if len(fields) < 8 or fields[6] != "typ" or not fields[5].isdigit():
        return False
    return 0 < int(fields[5]) < 65536 and reachable_address(fields[4], allow_loopback)


def check_offer(sdp: object, kind: object, relay_only: bool, allow_loopback: bool = False) -> str:
    """The offer's SDP, checked, without candidates naming addresses the echo peer must not
    contact (``candidate_allowed``), and in relay-only mode without non-relay candidates."""
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
    all_lines = sdp.split("\n")
    kept = [
        line
        for line in all_lines
        if not line.startswith("a=candidate:") or candidate_allowed(line.strip(), allow_loopback)
    ]
    if len(kept) < len(all_lines):
        # Candidates were removed (mDNS `.local` names, private addresses), but the browser can
        # still reach the echo peer from them: aioice learns such an address (peer-reflexive)
        # from the browser's authenticated checks. Not after end-of-candidates, though: it then
        # takes the list as final, and with every candidate removed gives up at once.
        kept = [line for line in kept if line.strip() != "a=end-of-candidates"]
    sdp = "\n".join(kept)
    return strip_sdp(sdp) if relay_only else sdp


def link_tag(link: str) -> str:
    """A short, stable tag of an invite link (of its ``jti``, or of the token when it has none):
    it names the link in TURN user names and rate limits without revealing the token."""
    return hashlib.sha256(link.encode()).hexdigest()[:12]


class EchoChecks:
    """The running connection checks of this node."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self._checks: dict[str, _Check] = {}
        self._starting = 0  # slots taken by checks still being set up
        self._starting_in: Counter[str] = Counter()  # the same, by room
        self._closed = False
        # When check TURN credentials were handed out, per link (room, link tag) and on the node.
        self._issued: dict[tuple[str, str], deque[float]] = {}
        self._issued_node: deque[float] = deque()

    @property
    def active(self) -> int:
        """Checks running or being set up (each takes a slot)."""
        return len(self._checks) + self._starting

    def _shut_down(self) -> bool:
        # A method rather than the attribute: it may change across the awaits in `start`.
        return self._closed

    def _full(self) -> bool:
        return self._closed or self.active >= self.settings.check_max

    def active_in(self, room_id: str) -> int:
        """Checks running or being set up for ``room_id``."""
        return sum(1 for c in self._checks.values() if c.room == room_id) + self._starting_in[room_id]

    def ice_config(self, room_id: str = "", link: str = "") -> dict[str, Any]:
        """What the browser's side of a check uses: the room's ICE servers and policy.

        With TURN, the credentials are for user ``check-<room>-<link>`` (``link``: ``link_tag`` of
        the invite link) and live ``check_turn_ttl`` seconds; handing them out counts against the
        link's and the node's rate (``CheckRateLimited`` beyond). Without TURN nothing is handed
        out and nothing is counted."""
        servers: list[dict[str, object]] = []
        if self.settings.turn_urls and self.settings.turn_secret:
            self._count_issue((room_id, link))
            servers = self._ice_servers(f"check-{room_id}-{link}")
        return {
            "ice_servers": servers,
            "ice_transport_policy": self.settings.ice_policy,
            "check_seconds": self.settings.check_seconds,
        }

    def _count_issue(self, key: tuple[str, str]) -> None:
        """Count one hand-out of check credentials for ``key``, or raise ``CheckRateLimited``."""
        now = self.clock()
        since = now - RATE_WINDOW
        for stamps in (self._issued_node, self._issued.get(key)):
            while stamps and stamps[0] <= since:
                stamps.popleft()
        if len(self._issued) > 10_000:  # forget links with no recent hand-out
            self._issued = {k: v for k, v in self._issued.items() if v and v[-1] > since}
        link = self._issued.setdefault(key, deque())
        for stamps, limit in (
            (link, self.settings.check_turn_per_link),
            (self._issued_node, self.settings.check_turn_per_node),
        ):
            if len(stamps) >= limit:
                raise CheckRateLimited(max(1, math.ceil(stamps[0] + RATE_WINDOW - now)))
        link.append(now)
        self._issued_node.append(now)

    def rtc_configuration(self, check_id: str = "") -> RTCConfiguration:
        """The server peer's ``RTCConfiguration``, with TURN credentials that name the check.
        ``iceServers`` is never ``None``: aiortc would add a public STUN server; an empty list
        means host candidates only."""
        servers = [
            RTCIceServer(
                urls=[str(url) for url in cast(list[str], s["urls"])],
                username=str(s["username"]),
                credential=str(s["credential"]),
            )
            for s in self._ice_servers(f"check-{check_id or secrets.token_hex(8)}-echo")
        ]
        relay = self.settings.ice_policy == "relay"
        policy = RTCIceTransportPolicy.RELAY if relay else RTCIceTransportPolicy.ALL
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)

    def _ice_servers(self, who: str) -> list[dict[str, object]]:
        s = self.settings
        return tokens.turn_credentials(s.turn_secret, s.turn_urls, who, s.check_turn_ttl, self.clock())

    def retry_after(self, room_id: str | None = None) -> int:
        """Seconds until a slot (of the node, or of ``room_id``) is expected to free up (at least 1)."""
        now = self.clock()
        ends = [
            c.started + self.settings.check_seconds - now
            for c in self._checks.values()
            if room_id is None or c.room == room_id
        ]
        return max(1, math.ceil(min(ends, default=self.settings.check_seconds)))

    async def start(self, offer_sdp: object, offer_type: object, room_id: str) -> dict[str, Any]:
        """Answer a browser's offer with a peer that echoes its tracks back.

        Raises ``ChecksBusy`` when ``check_max`` checks run already on this node, or
        ``check_max_per_room`` for this room, ``BadOffer`` for an offer that cannot be used.
        Returns ``{"sdp", "type", "id", "expires_in"}``; the answer carries every candidate
        (aiortc does not trickle).
        """
        settings = self.settings
        relay_only, loopback = settings.ice_policy == "relay", settings.check_allow_loopback
        sdp = check_offer(offer_sdp, offer_type, relay_only, loopback)
        if self._full():
            metrics.CHECKS_REFUSED.inc()
            raise ChecksBusy(self.retry_after())
        if self.active_in(room_id) >= settings.check_max_per_room:
            metrics.CHECKS_REFUSED.inc()
            raise ChecksBusy(self.retry_after(room_id), room=True)
        self._starting += 1
        self._starting_in[room_id] += 1
        check_id = "c" + secrets.token_hex(8)
        check = _Check(
            id=check_id,
            room=room_id,
            pc=RTCPeerConnection(configuration=self.rtc_configuration(check_id)),
            started=self.clock(),
        )
        try:
            answer = await asyncio.wait_for(self._answer(check, sdp), START_TIMEOUT)
        except BaseException:
            await self._close_pc(check)
            raise
        finally:
            self._starting -= 1
            self._starting_in[room_id] -= 1
            if self._starting_in[room_id] <= 0:
                del self._starting_in[room_id]
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
        except Exception as exc:
            # Only the offer can make these two fail: aiortc's SDP parser raises whatever its
            # code trips on (assertions included), so every exception here is a bad offer.
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

"""WebRTC signals: the rules for what one participant may relay to another.

- **Shapes.** ``data`` is exactly one of ``{description}``, ``{candidate}`` (null: end of
  candidates) or ``{hello: true}``, with the optional connection tags ``pc``/``peer_pc``: the
  types in ``server.protocol`` (``SignalData``) refuse anything else while decoding
  (``bad_message``), so nothing arbitrary is ever relayed.
- **Sizes.** An SDP of more than ``max_sdp_chars`` or a candidate of more than
  ``max_candidate_chars`` is refused (``too_large``), before anything is relayed.
- **A byte budget per sender.** Message counts alone let one member push tens of megabytes a
  second at another (600 signals of 60 KB in a burst), more than a home connection drains: the
  receiver's send queue filled and *the receiver* was closed as too slow (4011). So every
  participant also has a budget of signal bytes (``signal_bytes_burst`` at once,
  ``signal_bytes_per_second`` sustained), charged on arrival by the frame's size; a signal over
  it is refused with ``rate_limited`` (a strike: sustained, 4008), so the sender is cut off and
  never the victim. The budget is kept per participant on this node, not per socket, so
  reconnecting does not refill it.
- **Relay-only mode** strips non-relay candidates (below).

With ``ice_transport_policy: relay`` no member may learn another member's address: trickled
candidates that are not ``typ relay`` are dropped, and so are such ``a=candidate`` lines inside
session descriptions. End-of-candidates markers (empty or null candidates) pass. What is left
names no address of the sender either: a relay candidate's ``raddr``/``rport`` (the sender's
own address as the TURN server saw it) become ``0.0.0.0``/``0``, as Chromium sends them in
relay-only mode, and the connection addresses of a description (``c=`` and ``a=rtcp:`` lines,
which name the default candidate, a host address for a client that gathered one anyway) become
``0.0.0.0`` (``::`` for IPv6).
"""

from __future__ import annotations

import time

from msgspec.structs import replace

from rooms.codes import ErrorCode
from server.config import Settings
from server.protocol import IceCandidate, ProtocolError, SessionDescription, SignalData
from server.ratelimit import TokenBucket

NO_ADDRESS = {"IP4": "0.0.0.0", "IP6": "::"}


def _is_relay(candidate: str) -> bool:
    parts = candidate.split()
    return "typ" in parts and parts.index("typ") + 1 < len(parts) and parts[parts.index("typ") + 1] == "relay"


def _without_related_address(candidate: str) -> str:
    """A relay candidate whose ``raddr``/``rport`` name nobody."""
    parts = candidate.split(" ")
    for index, part in enumerate(parts[:-1]):
        if part == "raddr":
            parts[index + 1] = NO_ADDRESS["IP6" if ":" in parts[index + 1] else "IP4"]
        elif part == "rport":
            parts[index + 1] = "0"
    return " ".join(parts)


def _blank_connection_address(line: str) -> str:
    """``c=IN IP4 <address>`` or ``a=rtcp:<port> IN IP4 <address>`` with no address in it."""
    parts = line.split(" ")
    for index, part in enumerate(parts[:-1]):
        if part in NO_ADDRESS and index > 0 and parts[index - 1].endswith("IN"):
            parts[index + 1] = NO_ADDRESS[part]
    return " ".join(parts)


def strip_sdp(sdp: str) -> str:
    newline = "\r\n" if "\r\n" in sdp else "\n"
    kept: list[str] = []
    for line in sdp.split(newline):
        if line.startswith("a=candidate:"):
            if _is_relay(line):
                kept.append(_without_related_address(line))
        elif line.startswith(("c=", "a=rtcp:")):
            kept.append(_blank_connection_address(line))
        else:
            kept.append(line)
    return newline.join(kept)


def check_sizes(data: SignalData, settings: Settings) -> None:
    """Refuse (``too_large``) an SDP or a candidate over its configured length."""
    description, candidate = data.description, data.candidate
    if isinstance(description, SessionDescription) and len(description.sdp) > settings.max_sdp_chars:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"an SDP is at most {settings.max_sdp_chars} characters")
    limit = settings.max_candidate_chars
    if isinstance(candidate, IceCandidate) and len(candidate.candidate) > limit:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"an ICE candidate is at most {limit} characters")


def filter_signal(data: SignalData, relay_only: bool) -> SignalData | None:
    """The data to relay, or ``None`` to drop it silently."""
    if not relay_only:
        return data
    if isinstance(data.description, SessionDescription):
        description = replace(data.description, sdp=strip_sdp(data.description.sdp))
        return replace(data, description=description)
    if isinstance(data.candidate, IceCandidate) and data.candidate.candidate:
        text = data.candidate.candidate
        if not _is_relay(text):
            return None
        return replace(data, candidate=replace(data.candidate, candidate=_without_related_address(text)))
    return data


def frame_bytes(text: str) -> int:
    """The size of a received text frame in bytes (what relaying it costs the receiver)."""
    return len(text) if text.isascii() else len(text.encode())


class SignalBudgets:
    """The signal byte budget of every participant who signalled recently on this node.

    Keyed by room and participant, so a sender who reconnects (resume, or 4008 and back) finds
    its budget as it left it. A budget that has refilled completely holds no information and is
    forgotten at the next sweep, so the table only holds recent senders."""

    __slots__ = ("_buckets", "_burst", "_rate", "_sweep_at")

    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._sweep_at = 1024

    def take(self, room: str, participant: str, size: int) -> bool:
        """Charge ``size`` bytes; false (nothing charged) when the budget cannot cover them."""
        key = (room, participant)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._sweep_at:
                self._sweep()
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst)
        return bucket.take(size)

    def _sweep(self) -> None:
        now = time.monotonic()
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.stamp) * b.rate >= b.burst]
        for key in full:
            del self._buckets[key]
        self._sweep_at = max(1024, 2 * len(self._buckets))

    def __len__(self) -> int:
        return len(self._buckets)

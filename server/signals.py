"""WebRTC signals: relayed unchanged, except that relay-only mode strips non-relay candidates.

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

from typing import Any

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


def filter_signal(data: dict[str, Any], relay_only: bool) -> dict[str, Any] | None:
    """The data to relay, or ``None`` to drop it silently."""
    if not relay_only:
        return data
    description = data.get("description")
    if isinstance(description, dict) and isinstance(description.get("sdp"), str):
        data = {**data, "description": {**description, "sdp": strip_sdp(description["sdp"])}}
    candidate = data.get("candidate")
    if isinstance(candidate, dict):
        text = candidate.get("candidate")
        if isinstance(text, str) and text:
            if not _is_relay(text):
                return None
            data = {**data, "candidate": {**candidate, "candidate": _without_related_address(text)}}
    elif isinstance(candidate, str) and candidate:
        if not _is_relay(candidate):
            return None
        data = {**data, "candidate": _without_related_address(candidate)}
    return data

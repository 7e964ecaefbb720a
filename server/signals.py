"""WebRTC signals: relayed unchanged, except that relay-only mode strips non-relay candidates.

With ``ice_transport_policy: relay`` no member may learn another member's address: trickled
candidates that are not ``typ relay`` are dropped, and so are such ``a=candidate`` lines inside
session descriptions. End-of-candidates markers (empty or null candidates) pass.
"""

from __future__ import annotations

from typing import Any


def _is_relay(candidate: str) -> bool:
    parts = candidate.split()
    return "typ" in parts and parts.index("typ") + 1 < len(parts) and parts[parts.index("typ") + 1] == "relay"


def strip_sdp(sdp: str) -> str:
    lines = sdp.split("\r\n") if "\r\n" in sdp else sdp.split("\n")
    kept = [ln for ln in lines if not ln.startswith("a=candidate:") or _is_relay(ln)]
    return ("\r\n" if "\r\n" in sdp else "\n").join(kept)


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
        if isinstance(text, str) and text and not _is_relay(text):
            return None
    elif isinstance(candidate, str) and candidate and not _is_relay(candidate):
        return None
    return data

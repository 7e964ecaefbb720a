"""One participant's receiving side in SFU mode: a multistream subscriber handle in Janus and
its negotiation with the client (the server offers, the client answers).

Janus is the offerer here. Three rules keep both sides in step:

- The next offer goes to the client only once the previous one was answered (an offer waiting
  for its answer holds back later changes; ``SfuPeer`` starts over if it waits too long).
- Janus renegotiates by itself when a feed goes (an unsolicited ``updated`` with an offer). If
  that happens while our offer waits, the client's answer is to an offer Janus no longer holds:
  it is dropped and the newer offer goes out instead.
- What the subscription carries is what Janus's latest ``streams`` say, not what we asked for:
  a feed Janus dropped is gone from it even if we never unsubscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from server.sfu.janus import JanusError, JanusHandle, JanusSession

HIGH, LOW = 2, 0
"""Simulcast substreams (Janus numbers them 0 = lowest .. 2 = highest)."""

Send = Callable[[dict[str, Any]], None]
Candidates = list[dict[str, Any] | None]


def feed_owner(feed: object) -> str:
    """The participant id of a Janus publisher id (``<participant id>~<nonce>``)."""
    return str(feed).split("~", 1)[0]


def description(jsep: dict[str, Any]) -> dict[str, str]:
    return {"type": str(jsep.get("type")), "sdp": str(jsep.get("sdp"))}


async def trickle(handle: JanusHandle, waiting: Candidates) -> None:
    """Hand the client's waiting candidates to Janus, in order (``None``: end of candidates)."""
    while waiting:
        candidate = waiting.pop(0)
        with contextlib.suppress(JanusError):
            await handle.trickle(candidate)


class Subscription:
    def __init__(self, send: Send, wake: Callable[[], None]) -> None:
        self.send = send  # an ``sfu`` frame to the client
        self.wake = wake  # run the peer's next pass (Janus changed something by itself)
        self.handle: JanusHandle | None = None
        self.streams: list[dict[str, Any]] = []  # Janus's, by mid
        self.offered = False  # an offer went to the client and awaits its answer
        self.offered_at = 0.0  # event-loop time of that offer
        self.started = False  # the client answered at least once
        self.unsolicited: tuple[dict[str, Any], dict[str, Any]] | None = None  # Janus's own offer
        self.layers: dict[str, int] = {}  # mid -> substream applied

    def feeds(self) -> frozenset[str]:
        return frozenset(
            str(s["feed_id"]) for s in self.streams if s.get("feed_id") and s.get("active", True)
        )

    def wire_streams(self) -> list[dict[str, str]]:
        return [
            {"mid": str(s["mid"]), "participant": feed_owner(s["feed_id"]), "kind": str(s["type"])}
            for s in self.streams
            if s.get("feed_id") and s.get("active", True) and s.get("type") in ("audio", "video")
        ]

    async def sync(
        self,
        session: JanusSession,
        room: str,
        feeds: frozenset[str],
        high: frozenset[str],
        answer: dict[str, Any] | None,
        candidates: Candidates,
    ) -> None:
        """Bring the subscription in step: apply the client's answer, then offer the wanted feeds
        (or Janus's own newer offer), then the layers. ``answer``: the client's latest, if any."""
        if self.offered and answer is not None and self.unsolicited is not None:
            answer, self.offered = None, False  # to an offer Janus replaced meanwhile
        if self.offered and answer is not None:
            assert self.handle is not None
            await self.handle.message({"request": "start"}, answer)
            self.offered, self.started = False, True
        if self.handle is not None and self.started:
            await trickle(self.handle, candidates)
        if self.offered:
            return  # the next offer only once this one is answered
        if self.unsolicited is not None:
            data, jsep = self.unsolicited
            self.unsolicited = None
            self._offer(data, jsep)
            return
        current = self.feeds()
        if feeds != current:
            if self.handle is None:
                if not feeds:
                    return
                self.handle = await session.attach()
                self.handle.on_event(self._event)
                body: dict[str, Any] = {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": room,
                    "streams": [{"feed": f} for f in sorted(feeds)],
                }
            else:
                body = {"request": "update"}
                if feeds - current:
                    body["subscribe"] = [{"feed": f} for f in sorted(feeds - current)]
                if current - feeds:
                    body["unsubscribe"] = [{"feed": f} for f in sorted(current - feeds)]
            reply, offer = await self.handle.message(body)
            if isinstance(reply.get("streams"), list):
                self.streams = reply["streams"]
            if offer is not None:
                self._offer(reply, offer)
                return
        if self.started:
            await self._layers(high)

    def _offer(self, data: dict[str, Any], jsep: dict[str, Any]) -> None:
        if isinstance(data.get("streams"), list):
            self.streams = data["streams"]
        self.offered = True
        self.offered_at = asyncio.get_running_loop().time()
        self.layers.clear()
        message = {"type": "sfu", "pc": "sub", "description": description(jsep)}
        self.send({**message, "streams": self.wire_streams()})

    async def _layers(self, high: frozenset[str]) -> None:
        """``high`` (the floor holder, the pinned person) at the high simulcast layer, the rest
        low: a subscriber ``configure`` per stream whose layer changes."""
        assert self.handle is not None
        changes = []
        for stream in self.streams:
            if stream.get("type") != "video" or not stream.get("feed_id") or not stream.get("active", True):
                continue
            mid = str(stream["mid"])
            layer = HIGH if feed_owner(stream["feed_id"]) in high else LOW
            if self.layers.get(mid) != layer:
                changes.append((mid, layer))
        if not changes:
            return
        body = {
            "request": "configure",
            "streams": [{"mid": mid, "substream": layer} for mid, layer in changes],
        }
        await self.handle.message(body)
        self.layers.update(changes)

    def _event(self, data: dict[str, Any], jsep: dict[str, Any] | None) -> None:
        """Janus renegotiates by itself when a feed goes (``updated`` with an offer)."""
        if isinstance(data.get("streams"), list):
            self.streams = data["streams"]
        if jsep is not None and jsep.get("type") == "offer":
            self.unsolicited = (data, jsep)
        self.wake()

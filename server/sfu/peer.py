"""One local participant's side of the media server: a Janus session of their own on the placed
instance, with a publisher handle (their camera and microphone) and a subscriber handle (one
multistream connection receiving everyone else's feeds).

Level-triggered. The coordinator and the client's messages only change what is *wanted* (the
placement, the feeds to receive, whether this person may be heard, whom to receive at the high
simulcast layer) and what the client sent last (its publishing offer, its answer to our latest
subscriber offer, its candidates), then wake the peer's one task, which brings Janus in step one
request at a time. So the socket loop never waits for Janus, and nothing piles up: a newer offer
replaces an older one, candidates are capped, and a change that arrives while Janus works is
picked up by the next pass.

Janus ids: a publisher joins as ``<participant id>~<nonce>`` (a fresh nonce per Janus session,
so a lingering older session can never collide); nothing else about the person (no display
name) reaches Janus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rooms.model import SfuPlacement
from server.sfu.instances import Instances
from server.sfu.janus import JanusGone, JanusHandle, JanusSession
from server.sfu.subscription import Subscription, description, trickle

log = logging.getLogger("hearth.sfu")

MAX_CANDIDATES = 64
"""Candidates of one connection waiting for Janus; more are dropped (ICE has plenty by then)."""

RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)
"""Backoff after a failed pass (the instance went away, Janus refused): then the peer starts
over with a fresh Janus session, and the client renegotiates (``restart``)."""

ANSWER_SECONDS = 20.0
"""How long a subscriber offer may wait for the client's answer. A client that never answers
would hold back every later offer: past this, its Janus session starts over (``restart``)."""

Send = Callable[[dict[str, Any]], None]


def first_mids(sdp: str) -> dict[str, str]:
    """The ``mid`` of the first audio and the first video section of an SDP (the client's
    audio and video transceivers), by kind."""
    mids: dict[str, str] = {}
    kind = ""
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind in ("audio", "video") and kind not in mids:
            mids[kind] = line[len("a=mid:") :].strip()
    return mids


@dataclass
class Wanted:
    """What the coordinator wants of this peer, from the room's latest state."""

    placement: SfuPlacement | None = None
    feeds: frozenset[str] = frozenset()  # Janus publisher ids to receive
    heard: bool = False  # may this person's audio be forwarded
    seen: bool = False  # may this person's video be forwarded
    high: frozenset[str] = frozenset()  # participant ids received at the high layer


class SfuPeer:
    def __init__(
        self,
        room_id: str,
        pid: str,
        conn_id: str,
        instances: Instances,
        secret: str,
        send: Send,
        on_event: Callable[[SfuPeer, dict[str, Any]], None],
    ) -> None:
        self.room_id, self.pid, self.conn_id = room_id, pid, conn_id
        self.instances = instances
        self.secret = secret
        self.send = send  # an ``sfu`` frame to this participant's socket
        self.on_event = on_event  # the publisher handle's unsolicited events (feeds, talking)
        self.wanted = Wanted()
        # What the client sent, waiting for the task.
        self.offer: dict[str, Any] | None = None
        self.answer: dict[str, Any] | None = None
        self.candidates: dict[str, list[dict[str, Any] | None]] = {"pub": [], "sub": []}
        # What Janus has.
        self.placement: SfuPlacement | None = None
        self.session: JanusSession | None = None
        self.pub: JanusHandle | None = None
        self.janus_id = ""
        self.published = False
        self.mids: dict[str, str] = {}  # the published audio and video mids
        self.muted: dict[str, bool] = {}  # kind -> the moderation applied since the last publish
        self._wake = asyncio.Event()
        self.sub = Subscription(send, self._wake.set)
        self.opened_before = False
        self.failures = 0
        self.closed = False
        self._task = asyncio.create_task(self._run(), name=f"hearth-sfu-{pid}")

    # What the coordinator and the client change (never await) --------------------------------

    def want(self, wanted: Wanted) -> None:
        if wanted != self.wanted:
            self.wanted = wanted
            self._wake.set()

    def client_offer(self, description: dict[str, Any]) -> None:
        self.offer = description
        self.candidates["pub"].clear()  # candidates of an older offer are no use now
        self._wake.set()

    def client_answer(self, description: dict[str, Any]) -> None:
        self.answer = description
        self._wake.set()

    def client_candidate(self, pc: str, candidate: dict[str, Any] | None) -> None:
        waiting = self.candidates[pc]
        if len(waiting) < MAX_CANDIDATES:
            waiting.append(candidate)
            self._wake.set()

    # The task ------------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.closed:
            wait = max(0.0, self.sub.offered_at + ANSWER_SECONDS - loop.time()) if self.sub.offered else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
            try:
                if self.sub.offered and loop.time() > self.sub.offered_at + ANSWER_SECONDS:
                    raise TimeoutError("the client did not answer the subscriber offer")
                await self._sync()
                self.failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # JanusGone, JanusError, or a reply we could not read
                level = logging.INFO if isinstance(exc, JanusGone) else logging.WARNING
                log.log(
                    level, "sfu peer starts over", extra={"room": self.room_id, "type": type(exc).__name__}
                )
                await self._forget_session()
                delay = RETRY_SECONDS[min(self.failures, len(RETRY_SECONDS) - 1)]
                self.failures += 1
                await asyncio.sleep(delay)
                self._wake.set()

    async def _sync(self) -> None:
        wanted = self.wanted
        if wanted.placement is None:
            return
        if self.session is None or self.placement != wanted.placement:
            await self._open(wanted.placement)
        assert self.pub is not None
        await self._publish(self.pub)
        await self._enforce(self.pub, wanted)
        await self._subscribe(wanted)

    async def _open(self, placement: SfuPlacement) -> None:
        """A fresh Janus session on the placed instance, joined as a publisher. If the client
        had a session before, it starts over too (``restart``)."""
        await self._forget_session()
        janus = await self.instances.connect(placement.instance)
        self.session = await janus.create_session()
        self.pub = await self.session.attach()
        self.pub.on_event(lambda data, jsep: self.on_event(self, data))
        self.janus_id = f"{self.pid}~{secrets.token_hex(6)}"
        join = {"request": "join", "ptype": "publisher", "room": placement.room, "id": self.janus_id}
        await self.pub.message(join)
        self.placement = placement
        if self.opened_before:
            self.offer = self.answer = None
            for waiting in self.candidates.values():
                waiting.clear()
            self.send({"type": "sfu", "restart": True})
        self.opened_before = True

    async def _publish(self, pub: JanusHandle) -> None:
        if self.offer is not None:
            offer, self.offer = self.offer, None
            _, jsep = await pub.message({"request": "configure", "audio": True, "video": True}, offer)
            self.published = True
            self.mids = first_mids(str(offer.get("sdp", "")))
            self.muted = {}  # a (re-)publish loses the moderation: apply it again
            if jsep is not None:
                self.send({"type": "sfu", "pc": "pub", "description": description(jsep)})
        if self.published:
            await trickle(pub, self.candidates["pub"])

    async def _enforce(self, pub: JanusHandle, wanted: Wanted) -> None:
        """Janus forwards this person's audio only while they may be heard, and their video only
        while they may be seen (``moderate`` on that stream's mid)."""
        if not self.published or self.placement is None:
            return
        for kind, allowed in (("audio", wanted.heard), ("video", wanted.seen)):
            mid = self.mids.get(kind)
            if mid is None or self.muted.get(kind) == (not allowed):
                continue
            body = {
                "request": "moderate",
                "secret": self.secret,
                "room": self.placement.room,
                "id": self.janus_id,
                "mid": mid,
                "mute": not allowed,
            }
            await pub.request(body)
            self.muted[kind] = not allowed

    async def _subscribe(self, wanted: Wanted) -> None:
        assert self.session is not None and self.placement is not None
        answer, self.answer = self.answer, None
        await self.sub.sync(
            self.session, self.placement.room, wanted.feeds, wanted.high, answer, self.candidates["sub"]
        )

    # Ending ----------------------------------------------------------------------------------

    async def _forget_session(self) -> None:
        """Destroy this participant's Janus session (and so every handle of it)."""
        session, self.session = self.session, None
        self.pub = None
        self.placement = None
        self.published = False
        self.mids = {}
        self.muted = {}
        self.sub = Subscription(self.send, self._wake.set)
        if session is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.destroy(), 5.0)

    async def close(self) -> None:
        """Stop, and destroy the Janus session: no publisher and no subscription stay behind."""
        self.closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task
        await self._forget_session()

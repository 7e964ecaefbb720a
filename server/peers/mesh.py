"""The mesh of a Python peer: one ``PeerLink`` per other admitted, connected participant, with the
browser's connection tags (rtc.js).

Every signal carries ``pc`` (a random tag of the sender's connection) and ``peer_pc`` (the tag it
last heard from the receiver, or null). A signal from an unknown tag addressed to no tag of ours
(``peer_pc`` null) means the other side started a new connection: ours is replaced to match. A
signal addressed to an older tag of ours is stale and dropped. Signals without tags go to the
current connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy

from server.peers.media import LocalMedia
from server.peers.negotiation import PeerLink
from server.peers.receive import Receiver

log = logging.getLogger("hearth.peers")

SendTo = Callable[[str, dict[str, Any]], Awaitable[None]]


def rtc_configuration(ice_servers: Iterable[dict[str, Any]], policy: str) -> RTCConfiguration:
    """The configuration from ``welcome.ice_servers`` and ``welcome.ice_transport_policy``.

    The list is always passed, even empty: without one aiortc would add a public STUN server."""
    servers = [
        RTCIceServer(urls=entry["urls"], username=entry.get("username"), credential=entry.get("credential"))
        for entry in ice_servers
        if isinstance(entry, dict) and entry.get("urls")
    ]
    return RTCConfiguration(
        iceServers=servers,
        iceTransportPolicy=RTCIceTransportPolicy.RELAY if policy == "relay" else RTCIceTransportPolicy.ALL,
        bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
    )


class Mesh:
    def __init__(
        self,
        send_to: SendTo,
        media: LocalMedia,
        receiver: Receiver,
        accept: Callable[[str], bool] | None = None,
    ) -> None:
        self.send_to, self.media, self.receiver = send_to, media, receiver
        self.accept = accept  # None: connect to everyone; else only to ids it accepts
        self.self_id = ""
        self.config: RTCConfiguration = rtc_configuration([], "all")
        self.links: dict[str, PeerLink] = {}
        self.present: set[str] = set()
        self.closing: set[asyncio.Task[None]] = set()

    def reset(self, self_id: str, ice_servers: Iterable[dict[str, Any]], policy: str) -> None:
        """Start over after a welcome: close every connection; ``reconcile`` makes new ones."""
        for remote_id in list(self.links):
            self.close_link(remote_id)
        self.self_id = self_id
        self.config = rtc_configuration(ice_servers, policy)

    def _wanted(self, remote_id: str) -> bool:
        return remote_id != self.self_id and (self.accept is None or self.accept(remote_id))

    def reconcile(self, participants: Iterable[dict[str, Any]]) -> None:
        """Connect to every admitted, connected participant; drop those who left."""
        admitted: set[str] = set()
        self.present.clear()
        for person in participants:
            remote_id = str(person.get("id"))
            if not self._wanted(remote_id):
                continue
            admitted.add(remote_id)
            if not person.get("connected", True):
                continue
            self.present.add(remote_id)
            if remote_id not in self.links:
                self.create_link(remote_id, None, spontaneous=True)
        for remote_id in list(self.links):
            if remote_id not in admitted:
                self.close_link(remote_id)

    def create_link(self, remote_id: str, remote_tag: str | None, spontaneous: bool) -> PeerLink:
        self.close_link(remote_id)
        link: PeerLink

        async def send(data: dict[str, Any]) -> None:
            if self.links.get(remote_id) is link:
                await self.send_to(remote_id, data)

        def on_stuck() -> None:
            if self.links.get(remote_id) is link and remote_id in self.present:
                self.create_link(remote_id, None, spontaneous=True)

        def on_track(track: MediaStreamTrack) -> None:
            self.receiver.consume(remote_id, track)

        link = PeerLink(
            remote_id=remote_id,
            polite=self.self_id < remote_id,
            config=self.config,
            media=self.media,
            send=send,
            on_track=on_track,
            on_stuck=on_stuck,
        )
        link.remote_tag = remote_tag
        self.links[remote_id] = link
        log.debug("hearth: link to %s (%s, %s)", remote_id, link.tag, "polite" if link.polite else "impolite")
        if spontaneous:
            link.start()
        return link

    def close_link(self, remote_id: str) -> None:
        link = self.links.pop(remote_id, None)
        if link is None:
            return
        task = asyncio.create_task(link.close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    def handle_signal(self, sender: str, data: object) -> None:
        """A ``signal`` frame from another participant."""
        if not isinstance(data, dict) or not self.self_id or not self._wanted(sender):
            return
        link = self.links.get(sender)
        tag = data.get("pc") if isinstance(data.get("pc"), str) else None
        addressed = data.get("peer_pc") if isinstance(data.get("peer_pc"), str) else None
        description = data.get("description")
        is_offer = isinstance(description, dict) and description.get("type") == "offer"
        if addressed is not None and (link is None or addressed != link.tag):
            return  # for an older connection of ours
        if link is None:
            link = self.create_link(sender, tag, spontaneous=not is_offer)
        elif tag is not None and link.remote_tag is None:
            link.remote_tag = tag
        elif tag is not None and tag != link.remote_tag:
            if addressed is None:
                link = self.create_link(sender, tag, spontaneous=not is_offer)  # they started over
            else:
                link.remote_tag = tag
        if not data.get("hello"):
            link.receive(data)

    async def close(self) -> None:
        for remote_id in list(self.links):
            self.close_link(remote_id)
        if self.closing:
            await asyncio.gather(*self.closing, return_exceptions=True)

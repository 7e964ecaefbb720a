"""Python Hearth peers with aiortc media: one implementation for the tests, ``hearth probe`` and
``hearth bots``. ``HearthPeer`` joins by invite link and meshes with browsers and other peers."""

from server.peers.client import HearthError, HearthPeer, until
from server.peers.invite import InvalidLink, Invite, include_loopback_candidates, invite_at, parse_link
from server.peers.media import LocalMedia
from server.peers.receive import PeerStats

__all__ = [
    "HearthError",
    "HearthPeer",
    "InvalidLink",
    "Invite",
    "LocalMedia",
    "PeerStats",
    "include_loopback_candidates",
    "invite_at",
    "parse_link",
    "until",
]

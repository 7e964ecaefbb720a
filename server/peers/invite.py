"""Invite links for Python peers: ``http(s)://host[:port][/prefix]/r/ROOM#k=TOKEN`` (or ``?k=``)
gives the websocket URL (``ws(s)://host[:port][/prefix]/ws``) and the token to join with."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aioice.ice

ROOM_PATH = re.compile(r"(?P<prefix>.*)/r/(?P<room>[A-Za-z0-9_-]+)/?")


class InvalidLink(ValueError):
    """Not a Hearth invite link (the message says why)."""


@dataclass(frozen=True)
class Invite:
    scheme: str  # http or https
    netloc: str  # host[:port]
    prefix: str  # path before /r/ (empty unless the server lives under a path)
    room_id: str
    token: str

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.prefix}"

    @property
    def ws_url(self) -> str:
        return f"{'wss' if self.scheme == 'https' else 'ws'}://{self.netloc}{self.prefix}/ws"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_link(link: str) -> Invite:
    parts = urlsplit(link.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidLink("an invite link starts with http:// or https:// and names the server")
    match = ROOM_PATH.fullmatch(parts.path)
    if match is None:
        raise InvalidLink("an invite link has the form https://SERVER/r/ROOM#k=TOKEN")
    token = (parse_qs(parts.fragment).get("k") or parse_qs(parts.query).get("k") or [""])[0]
    if not token:
        raise InvalidLink("the link has no token (#k=...): copy the whole invite link")
    return Invite(parts.scheme, parts.netloc, match["prefix"], match["room"], token)


def invite_at(base_url: str, token: str) -> Invite:
    """The invite for ``token`` (say, from ``hearth token``) on the server at ``base_url``
    (``https://host[:port][/prefix]``, or any link into it)."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidLink("the server's address starts with http:// or https://")
    if not token:
        raise InvalidLink("no token")
    match = ROOM_PATH.fullmatch(parts.path)
    prefix, room = (match["prefix"], match["room"]) if match else (parts.path.rstrip("/"), "")
    return Invite(parts.scheme, parts.netloc, prefix, room, token)


_loopback_patched = False


def include_loopback_candidates() -> None:
    """aioice leaves 127.0.0.1 out of its host candidates. Peers of a server on this machine (a
    loopback link) may have no other address in common, so put it back (once, for the process)."""
    global _loopback_patched
    if _loopback_patched:
        return
    _loopback_patched = True
    original = aioice.ice.get_host_addresses

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        found = original(use_ipv4, use_ipv6)
        return ["127.0.0.1", *found] if use_ipv4 and "127.0.0.1" not in found else found

    aioice.ice.get_host_addresses = with_loopback

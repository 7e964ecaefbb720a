"""A minimal TURN client for tests: Allocate over UDP with long-term credentials (RFC 5766 / 8656).

It speaks just enough TURN to ask a real coturn for relays the way a browser does: an
unauthenticated Allocate, the 401 with REALM and NONCE, then the same request with USERNAME,
REALM, NONCE and MESSAGE-INTEGRITY (key MD5(username:realm:password)). Each allocation needs its
own client address (TURN ties an allocation to the 5-tuple), so each gets its own UDP socket on
127.0.0.1. Messages are aioice's ``stun.Message``; sockets are plain and blocking, with bounded
timeouts and retries, so a test never waits long for a server that does not answer.
"""

from __future__ import annotations

import hashlib
import socket
import time
from dataclasses import dataclass, field

from aioice import stun

UDP = 17 << 24  # REQUESTED-TRANSPORT: UDP, in the attribute's first byte
ATTEMPTS = 4  # sends of one request before giving up (UDP may drop one, even on loopback)
WAIT_SECONDS = 1.0  # for each answer


class NoAnswer(AssertionError):
    """The TURN server did not answer a request within ``ATTEMPTS`` tries."""


@dataclass
class Allocation:
    """One attempt to allocate a relay: ``relayed`` on success, else ``error`` (the TURN code)."""

    sock: socket.socket
    relayed: tuple[str, int] | None = None
    error: int | None = None
    reason: str = ""
    key: bytes = b""
    auth: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.relayed is not None

    def close(self) -> None:
        self.sock.close()


def _exchange(sock: socket.socket, server: tuple[str, int], request: stun.Message) -> stun.Message:
    """Send ``request`` and return the answer with its transaction id (retransmitting a few times)."""
    data = bytes(request)
    for _ in range(ATTEMPTS):
        sock.sendto(data, server)
        deadline = time.monotonic() + WAIT_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                packet, _ = sock.recvfrom(4096)
            except TimeoutError:
                break
            try:
                answer = stun.parse_message(packet)
            except ValueError:
                continue
            if answer.transaction_id == request.transaction_id:
                return answer
    raise NoAnswer(f"no answer from the TURN server at {server[0]}:{server[1]}")


def _allocate_request(lifetime: int) -> stun.Message:
    request = stun.Message(message_method=stun.Method.ALLOCATE, message_class=stun.Class.REQUEST)
    request.attributes["REQUESTED-TRANSPORT"] = UDP
    request.attributes["LIFETIME"] = lifetime
    return request


def allocate(server: tuple[str, int], username: str, password: str, *, lifetime: int = 600) -> Allocation:
    """Ask ``server`` for one UDP relay with these credentials, from a new client port.

    The caller keeps (and finally closes) the returned allocation's socket; coturn keeps the
    relay for ``lifetime`` seconds or until the server stops.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    allocation = Allocation(sock)
    try:
        answer = _exchange(sock, server, _allocate_request(lifetime))
        for _ in range(2):  # the first try, and one more with a fresh nonce if it was stale
            if answer.message_class is stun.Class.RESPONSE:
                break
            if answer.error_code not in (401, 438):
                break
            realm = str(answer.attributes["REALM"])
            nonce = answer.attributes["NONCE"]
            allocation.key = hashlib.md5(f"{username}:{realm}:{password}".encode()).digest()
            allocation.auth = {"USERNAME": username, "REALM": realm, "NONCE": nonce}
            request = _allocate_request(lifetime)
            request.attributes.update(allocation.auth)
            request.add_message_integrity(allocation.key)
            answer = _exchange(sock, server, request)
    except BaseException:
        sock.close()
        raise
    if answer.message_class is stun.Class.RESPONSE:
        allocation.relayed = answer.attributes["XOR-RELAYED-ADDRESS"]
    else:
        code, reason = answer.attributes.get("ERROR-CODE", (0, ""))
        allocation.error, allocation.reason = int(code), str(reason)
    return allocation


def release(server: tuple[str, int], allocation: Allocation) -> None:
    """Give an allocation back (Refresh with lifetime 0) and close its socket."""
    try:
        if allocation.ok:
            request = stun.Message(message_method=stun.Method.REFRESH, message_class=stun.Class.REQUEST)
            request.attributes["LIFETIME"] = 0
            request.attributes.update(allocation.auth)
            request.add_message_integrity(allocation.key)
            _exchange(allocation.sock, server, request)
    finally:
        allocation.close()

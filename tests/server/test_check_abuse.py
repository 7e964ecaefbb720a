"""The connection check under abuse, against a real in-process server: offers naming addresses the
echo peer must not contact, one room trying to hold every slot, credentials asked for in bulk, and
bodies made to break the routes. Everything stays on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection

from server.echo import EchoChecks, candidate_allowed, check_offer, reachable_address
from tests.polling import eventually
from tests.server.conftest import Running, StartServer
from tests.server.echo_helpers import GradientTrack, checks_open, loopback_ice, offer_check

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loopback_ice")]
__all__ = ["loopback_ice"]  # a fixture used here by name

ROOM_BUSY = "Too many connection checks are running for this room. Please try again in a moment."
STUN_BINDING_REQUEST = b"\x00\x01"
MAGIC_COOKIE = b"\x21\x12\xa4\x42"
REFUSED = [
    "10.0.0.7",
    "192.168.1.20",
    "172.17.0.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.251",
    "255.255.255.255",
    "fe80::1",
    "fd00::1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",
    "2002:a00:1::1",
    "2001:db8::1",
    "ff02::1",
    "::",
    "5f3a7c1e-0d4b-4f6e-9a55-2b8e6c1d7f00.local",
    "printer.example.org",
]


def checks(server: Running) -> EchoChecks:
    echo: EchoChecks = server.app.state.checks
    return echo


# Which addresses the echo peer may contact (pure).


def test_only_global_unicast_addresses_are_reachable() -> None:
    for address in [*REFUSED, "127.0.0.1", "::1"]:
        assert not reachable_address(address), address
    for address in ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001::1"]:
        assert reachable_address(address), address
    # Loopback only with the test/dev setting, and nothing else with it.
    assert reachable_address("127.0.0.1", allow_loopback=True)
    assert reachable_address("::1", allow_loopback=True)
    assert not reachable_address("10.0.0.7", allow_loopback=True)


def test_the_offer_loses_its_unreachable_candidates() -> None:
    lines = [
        f"a=candidate:{n} 1 udp 2130706431 {address} 50000 typ host"
        for n, address in enumerate([*REFUSED, "127.0.0.1", "8.8.8.8"])
    ]
    lines += [
        "a=candidate:90 1 udp 1 8.8.4.4 0 typ srflx",
        "a=candidate:91 1 udp 1 8.8.4.4 x typ srflx",
        "a=candidate:92 1 udp 1 8.8.4.4",
    ]
    sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + "".join(line + "\r\n" for line in lines[:32])
    kept = [
        line
        for line in check_offer(sdp, "offer", relay_only=False).splitlines()
        if line.startswith("a=candidate:")
    ]
    assert kept == ["a=candidate:19 1 udp 2130706431 8.8.8.8 50000 typ host"]
    assert candidate_allowed("a=candidate:18 1 udp 2130706431 127.0.0.1 50000 typ host", allow_loopback=True)


# Over the network: no STUN to an address the filter refuses.


class Listener(asyncio.DatagramProtocol):
    """A UDP socket on 127.0.0.1 that records STUN binding requests sent to it."""

    def __init__(self) -> None:
        self.requests = 0

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if data[:2] == STUN_BINDING_REQUEST and data[4:8] == MAGIC_COOKIE:
            self.requests += 1


async def listener() -> tuple[asyncio.DatagramTransport, Listener]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Listener, local_addr=("127.0.0.1", 0))
    return transport, protocol


async def offer_naming(candidates: list[tuple[str, int]]) -> tuple[RTCPeerConnection, str]:
    """A real aiortc offer (ICE credentials, fingerprint) whose candidates are replaced by
    ``candidates`` and which leaves candidates open (no end-of-candidates): the echo peer keeps
    trying whatever it was given instead of failing at once."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(GradientTrack())
    await pc.setLocalDescription(await pc.createOffer())
    ours = [
        f"a=candidate:{n} 1 udp 2130706431 {host} {port} typ host"
        for n, (host, port) in enumerate(candidates, start=1)
    ]
    lines: list[str] = []
    for line in pc.localDescription.sdp.split("\r\n"):
        if line.startswith("a=candidate:") or line == "a=end-of-candidates":
            if ours:
                lines += ours
                ours = []
            continue
        lines.append(line)
    return pc, "\r\n".join(lines)


@pytest.fixture
async def udp_listener() -> AsyncIterator[tuple[int, Listener]]:
    transport, protocol = await listener()
    try:
        yield transport.get_extra_info("sockname")[1], protocol
    finally:
        transport.close()


async def test_no_stun_is_sent_to_loopback_private_or_mdns_candidates(
    start_server: StartServer, udp_listener: tuple[int, Listener]
) -> None:
    port, heard = udp_listener
    named = [("127.0.0.1", port), *((address, port) for address in REFUSED[:8]), ("abc.local", port)]
    strict = await start_server(check_allow_loopback=False)  # the production default
    room = await strict.create_room()
    pc, sdp = await offer_naming(named)
    try:
        async with strict.http() as http:
            response = await http.post("/api/check", json={"token": room.member, "sdp": sdp, "type": "offer"})
        assert response.status_code == 200, response.text
        [check] = checks(strict)._checks.values()
        transport = check.pc.getTransceivers()[0].receiver.transport.transport
        assert transport.iceGatherer._connection._remote_candidates == []
        await asyncio.sleep(2.0)  # the echo peer would have sent its first checks long before
        assert heard.requests == 0
        assert check.pc.connectionState != "connected"
    finally:
        await pc.close()

    # The same offer on a server that may reach loopback (tests and development): STUN arrives,
    # so the silence above is the filter's doing.
    relaxed = await start_server(check_allow_loopback=True)
    room = await relaxed.create_room()
    pc, sdp = await offer_naming(named)
    try:
        async with relaxed.http() as http:
            response = await http.post("/api/check", json={"token": room.member, "sdp": sdp, "type": "offer"})
        assert response.status_code == 200, response.text
        what = "a STUN binding request to the loopback candidate"
        await eventually(lambda: heard.requests > 0, what, timeout=10)
    finally:
        await pc.close()


# One room cannot hold every slot of a node.


async def test_one_room_holds_at_most_check_max_per_room_slots(start_server: StartServer) -> None:
    server = await start_server(check_max=4, check_max_per_room=2)
    room, other = await server.create_room(), await server.create_room()
    async with server.http() as http, checks_open(http, room.member, 2):
        for token in (room.member, room.facilitator):  # per room, whichever link asks
            _, refused = await offer_check(http, token, audio=False)
            assert refused.status_code == 429, refused.text
            assert refused.json() == {"error": {"code": "busy", "message": ROOM_BUSY}}
            assert 1 <= int(refused.headers["retry-after"]) <= 30
        assert checks(server).active == 2
        async with checks_open(http, other.member, 2):  # the node's other slots are still free
            assert checks(server).active == 4


# Check TURN credentials: short-lived and rate-limited per link and per node.


async def test_check_turn_credentials_are_short_lived_and_rate_limited(start_server: StartServer) -> None:
    server = await start_server(
        turn_urls="turn:127.0.0.1:9", turn_secret="s3cret", check_turn_per_link=2, check_turn_per_node=3
    )
    room = await server.create_room()
    other = await server.create_room()
    async with server.http() as http:

        async def config(token: str) -> Any:
            return await http.post("/api/check/config", json={"token": token})

        given = [await config(room.member) for _ in range(2)]
        assert [r.status_code for r in given] == [200, 200]
        username = given[0].json()["ice_servers"][0]["username"]
        expiry, user = username.split(":", 1)
        assert int(expiry) <= time.time() + 121  # HEARTH_CHECK_TURN_TTL, 120 s by default
        assert user.startswith(f"check-{room.id}-")
        limited = await config(room.member)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Another link has its own allowance, until the node's is used up.
        assert (await config(other.member)).status_code == 200
        node_limited = await config(other.facilitator)
        assert node_limited.status_code == 429 and node_limited.json()["error"]["code"] == "rate_limited"

    # Without TURN nothing is handed out, so nothing is counted.
    plain = await start_server(check_turn_per_link=1, check_turn_per_node=1)
    room = await plain.create_room()
    async with plain.http() as http:
        for _ in range(3):
            assert (await http.post("/api/check/config", json={"token": room.member})).status_code == 200


# Bad input: a clear 4xx JSON error on every check route, never a 500.


async def test_bad_input_to_the_check_routes_gets_a_clear_error(start_server: StartServer) -> None:
    server = await start_server(max_message_bytes=65536)
    room = await server.create_room()
    token = room.member
    deep = b"[" * 20_000 + b"]" * 20_000
    deep_object = b'{"a":' * 10_000 + b"1" + b"}" * 10_000
    media = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=setup:actpass\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
    media += "a=ice-pwd:abcdabcdabcdabcdabcdabcd\r\na=fingerprint:sha-256 AA:BB\r\na=rtpmap:96 VP8/90000\r\n"

    def body(**fields: Any) -> bytes:
        return json.dumps({"token": token, **fields}).encode()

    bodies = [
        b"{",  # malformed JSON
        b'{"token": "\xff\xfe"}',  # not UTF-8
        b"[]",
        b'{"token":"' + token.encode() + b'","extra":' + deep + b"}",  # deeply nested, in a skipped field
        b'{"token":"' + token.encode() + b'","extra":' + deep_object + b"}",
        deep,
        body(token=5),  # wrong types
        body(token=None),
        body(sdp=["v=0"], type="offer"),
        body(sdp="v=0\r\n" + media, type=7),
        body(sdp="v=0\r\nm=audio x\r\n", type="offer"),  # SDP that trips aiortc's parser
        body(sdp="v=0\r\n" + media + "a=candidate:x y z\r\n", type="offer"),
        body(sdp="v=0\r\n" + media + "a=ssrc-group:FID 1\r\n", type="offer"),
        b'{"token":"' + b"x" * 70_000 + b'"}',  # huge
    ]
    routes = [("POST", "/api/check/config"), ("POST", "/api/check"), ("DELETE", "/api/check/c0123")]
    async with server.http() as http:
        for method, path in routes:
            for content in bodies:
                response = await http.request(
                    method, path, content=content, headers={"content-type": "application/json"}
                )
                what = (method, path, content[:60])
                assert response.status_code < 500, (what, response.status_code, response.text[:200])
                if path == "/api/check/config" and response.status_code == 200:
                    continue  # a valid token, and fields the config step does not read
                assert 400 <= response.status_code < 500, (what, response.status_code, response.text[:200])
                error = response.json()["error"]
                assert error["code"] in ("bad_message", "too_large", "unauthorized", "not_found"), what
                assert error["message"] and "Traceback" not in response.text, what
    assert checks(server).active == 0

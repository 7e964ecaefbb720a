"""The connection check with a browser that offers only mDNS host candidates (`.local` names:
Firefox's default), against a real in-process server and a real aiortc "browser" on 127.0.0.1.

The echo peer never resolves such names (tests/server/test_check_abuse.py), so it must connect
through the browser's own checks: it learns the browser's address from them (peer-reflexive).
"""

from __future__ import annotations

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from server.echo import EchoChecks, check_offer
from tests.polling import eventually
from tests.server.conftest import Running, StartServer
from tests.server.echo_helpers import GradientTrack, loopback_ice

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loopback_ice")]
__all__ = ["loopback_ice"]  # a fixture used here by name

HEAD = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
MDNS = "a=candidate:0 1 udp 2122187007 4f054e48-df34-4f8b-9e1d-6d4a0330cf44.local 50000 typ host\r\n"
PUBLIC = "a=candidate:1 1 udp 2122187007 8.8.8.8 50000 typ host\r\n"
END = "a=end-of-candidates\r\n"


def checks(server: Running) -> EchoChecks:
    echo: EchoChecks = server.app.state.checks
    return echo


def test_an_offer_that_lost_candidates_leaves_them_open() -> None:
    # Candidates removed: the list is no longer final (the browser's checks may still come).
    assert END.strip() not in check_offer(HEAD + MDNS + END, "offer", relay_only=False)
    assert END.strip() not in check_offer(HEAD + PUBLIC + MDNS + END, "offer", relay_only=False)
    # Nothing removed: the browser's end-of-candidates stands (a failure is reported at once).
    assert END.strip() in check_offer(HEAD + PUBLIC + END, "offer", relay_only=False)


def mdns_only(sdp: str) -> str:
    """``sdp`` with every candidate replaced by one mDNS name, and end-of-candidates kept, as
    Firefox offers once gathering is complete."""
    lines: list[str] = []
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            fields = line.split()
            fields[4] = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9.local"
            line = " ".join(fields)
        lines.append(line)
    return "\r\n".join(lines)


async def test_a_browser_offering_only_mdns_names_connects(start_server: StartServer) -> None:
    # The production filter (no loopback candidates let through): the browser's address is learnt
    # from its checks, never from its offer.
    server = await start_server(check_allow_loopback=False)
    room = await server.create_room()
    browser = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    browser.addTrack(GradientTrack())
    try:
        await browser.setLocalDescription(await browser.createOffer())
        sdp = mdns_only(browser.localDescription.sdp)
        assert ".local" in sdp and "a=end-of-candidates" in sdp
        async with server.http() as http:
            response = await http.post("/api/check", json={"token": room.member, "sdp": sdp, "type": "offer"})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert "a=candidate:" in answer["sdp"], "the echo peer gathered nothing to be reached at"
        await browser.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        [check] = checks(server)._checks.values()
        await eventually(
            lambda: check.pc.connectionState == "connected", "the echo peer to connect", timeout=15
        )
        await eventually(lambda: browser.connectionState == "connected", "the browser to connect", timeout=15)
        transport = check.pc.getTransceivers()[0].receiver.transport.transport
        learnt = transport.iceGatherer._connection._remote_candidates
        assert [c.type for c in learnt] == ["prflx"] and learnt[0].host == "127.0.0.1"
    finally:
        await browser.close()

"""The connection check (``POST /api/check``): a Python aiortc peer plays the browser against a real
in-process server, sends a synthetic camera and microphone and gets them echoed back.

Both peers use only 127.0.0.1 host candidates (``loopback_ice``) and no STUN server.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from pathlib import Path

import pytest

from rooms.model import Role
from server import tokens
from server.echo import EchoChecks
from tests.polling import eventually
from tests.server.conftest import SECRET, Running, StartServer, make_settings
from tests.server.echo_helpers import (
    HEIGHT,
    WIDTH,
    Turn,
    checks_open,
    coturn,
    loopback_ice,
    offer_check,
)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("loopback_ice")]
__all__ = ["coturn", "loopback_ice"]  # fixtures used here by name

BUSY = "The connection check is busy. Please try again in a moment."


def checks(server: Running) -> EchoChecks:
    echo: EchoChecks = server.app.state.checks
    return echo


async def test_the_check_echoes_camera_and_microphone_back(server: Running) -> None:
    room = await server.create_room()
    async with server.http() as http:
        config = (await http.post("/api/check/config", json={"token": room.member})).json()
        assert config == {"ice_servers": [], "ice_transport_policy": "all", "check_seconds": 30.0}
        checker, response = await offer_check(http, room.member)
    try:
        assert response.status_code == 200, response.text
        answer = response.json()
        assert set(answer) == {"sdp", "type", "id", "expires_in"}
        assert answer["type"] == "answer" and answer["expires_in"] == 30.0
        assert "a=candidate:" in answer["sdp"] and " 127.0.0.1 " in answer["sdp"]  # not trickled
        assert response.headers["cache-control"] == "no-store"
        await eventually(
            lambda: checker.frames["video"] >= 30 and checker.frames["audio"] >= 50,
            "echoed video and audio frames",
        )
        assert checker.sizes == {(WIDTH, HEIGHT)}  # our own frames, at our own size
        assert checker.pc.connectionState == "connected"
        assert checks(server).active == 1
    finally:
        await checker.close()
    # The browser closing its side ends the check on the server (DTLS close).
    await eventually(lambda: checks(server).active == 0, "the server to end the closed check")


async def test_the_server_peer_uses_no_stun_server_without_turn(server: Running) -> None:
    """aiortc adds stun.l.google.com when it gets no iceServers: the echo peer must not."""
    assert checks(server).rtc_configuration().iceServers == []
    room = await server.create_room()
    async with server.http() as http:
        checker, response = await offer_check(http, room.member, audio=False)
    try:
        assert response.status_code == 200, response.text
        pc = checks(server)._checks[checker.check_id].pc
        gatherer = pc.getTransceivers()[0].receiver.transport.transport.iceGatherer
        assert gatherer._connection.stun_server is None
        assert gatherer._connection.turn_server is None
        host_only = [ln for ln in response.json()["sdp"].splitlines() if ln.startswith("a=candidate:")]
        assert host_only and all(" typ host" in ln and " 127.0.0.1 " in ln for ln in host_only)
    finally:
        await checker.close()


async def test_the_server_peer_uses_the_rooms_turn_server_and_policy(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, turn_urls="turn:127.0.0.1:3478", turn_secret="s3cret", ice_policy="relay", check_turn_ttl=90
    )
    echo = EchoChecks(settings, clock=lambda: 1_000_000.0)
    configuration = echo.rtc_configuration("c0123")
    assert configuration.iceTransportPolicy.value == "relay"
    [ice] = configuration.iceServers or []
    assert ice.urls == ["turn:127.0.0.1:3478"]
    assert ice.username == "1000090:check-c0123-echo"  # names the check; lives check_turn_ttl
    browser = echo.ice_config("ROOM", "f00d")
    assert browser["ice_transport_policy"] == "relay"
    [browser_side] = browser["ice_servers"]
    assert browser_side["urls"] == ["turn:127.0.0.1:3478"]
    assert browser_side["username"] == "1000090:check-ROOM-f00d"  # names the room and the link
    assert browser_side["username"] != ice.username  # each side its own credentials


async def test_a_check_needs_a_valid_invite_token(server: Running) -> None:
    room = await server.create_room()
    other_secret = "another-secret-" + "z" * 30
    forged = tokens.mint_invite(other_secret, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=600)
    expired = tokens.mint_invite(
        SECRET, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=60, now=time.time() - 3600
    )
    nowhere = tokens.mint_invite(
        SECRET, room="no-such-room", role=Role.FACILITATOR, version=1, ttl_seconds=600
    )
    offer = {"sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", "type": "offer"}
    async with server.http() as http:
        old_member = room.member
        rotated = await http.post(
            f"/api/rooms/{room.id}/invite", headers={"Authorization": f"Bearer {room.facilitator}"}
        )
        assert rotated.status_code == 200
        for token in ("", "not-a-token", forged, expired, nowhere, old_member):
            for path, body in (
                ("/api/check/config", {"token": token}),
                ("/api/check", {"token": token, **offer}),
            ):
                response = await http.post(path, json=body)
                assert response.status_code == 401, (path, response.text)
                error = response.json()["error"]
                assert error["code"] == "unauthorized" and error["message"]
        missing = await http.post("/api/check", json=offer)
        assert missing.status_code == 401
        # A facilitator link stays valid across rotations, like for joining.
        facilitator = await http.post("/api/check/config", json={"token": room.facilitator})
        assert facilitator.status_code == 200
        bearer = await http.post(
            "/api/check/config", json={}, headers={"Authorization": f"Bearer {room.facilitator}"}
        )
        assert bearer.status_code == 200
    assert checks(server).active == 0


async def test_a_fifth_concurrent_check_is_refused_until_one_ends(start_server: StartServer) -> None:
    server = await start_server(check_max_per_room=4)  # the node's limit, not the room's, is tested
    room = await server.create_room()
    async with server.http() as http:
        async with checks_open(http, room.member, server.settings.check_max) as running:
            assert server.settings.check_max == 4 and checks(server).active == 4
            await eventually(lambda: all(c.frames["video"] > 0 for c in running), "every check to echo")
            # The config step does not take a slot: it still answers.
            config = await http.post("/api/check/config", json={"token": room.member})
            assert config.status_code == 200
            _, refused = await offer_check(http, room.member)
            assert refused.status_code == 429
            assert refused.json() == {"error": {"code": "busy", "message": BUSY}}
            assert 1 <= int(refused.headers["retry-after"]) <= 30
            assert checks(server).active == 4
            # Ending one with someone else's room token does nothing; with this room's, it ends.
            other = await server.create_room()
            wrong = await http.request(
                "DELETE", f"/api/check/{running[0].check_id}", json={"token": other.member}
            )
            assert wrong.status_code == 404
            ended = await http.request(
                "DELETE",
                f"/api/check/{running[0].check_id}",
                headers={"Authorization": f"Bearer {room.member}"},
            )
            assert ended.status_code == 204
            again = await http.request(
                "DELETE", f"/api/check/{running[0].check_id}", json={"token": room.member}
            )
            assert again.status_code == 404
            assert checks(server).active == 3
            newcomer, accepted = await offer_check(http, room.member, audio=False)
            try:
                assert accepted.status_code == 200, accepted.text
                await eventually(lambda: newcomer.frames["video"] > 0, "the new check to echo")
            finally:
                await newcomer.close()


async def test_limits_come_from_settings_and_a_check_ends_after_check_seconds(
    start_server: StartServer,
) -> None:
    server = await start_server(check_max=1, check_seconds=1.5)
    room = await server.create_room()
    async with server.http() as http:
        first, response = await offer_check(http, room.member, audio=False)
        try:
            assert response.status_code == 200 and response.json()["expires_in"] == 1.5
            _, refused = await offer_check(http, room.member, audio=False)
            assert refused.status_code == 429
            assert refused.headers["retry-after"] in ("1", "2")
            await eventually(lambda: first.frames["video"] > 0, "the echo")
            started = time.monotonic()
            await eventually(lambda: checks(server).active == 0, "the check to time out", timeout=5)
            assert time.monotonic() - started < 2.5
            # The server closed its peer: the browser's side sees the connection end.
            closed = "the browser side to close"
            await eventually(lambda: first.pc.connectionState == "closed", closed, timeout=5)
        finally:
            await first.close()
        third, accepted = await offer_check(http, room.member, audio=False)
        try:
            assert accepted.status_code == 200, accepted.text
        finally:
            await third.close()


async def test_checks_can_be_turned_off(start_server: StartServer) -> None:
    server = await start_server(check_max=0)
    room = await server.create_room()
    async with server.http() as http:
        response = await http.post("/api/check/config", json={"token": room.member})
        assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"


async def test_bad_bodies_are_refused(start_server: StartServer) -> None:
    server = await start_server(max_message_bytes=4096)
    room = await server.create_room()
    video = "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
    candidates = "".join(f"a=candidate:{n} 1 udp 1 10.0.0.{n} 9 typ host\r\n" for n in range(33))

    def offer(sdp: object, kind: object = "offer") -> bytes:
        return json.dumps({"token": room.member, "sdp": sdp, "type": kind}).encode()

    cases = [
        b"not json",
        b"[]",
        json.dumps({"token": room.member}).encode(),  # no offer
        offer("v=0\r\n" + video, "answer"),
        offer("hello"),
        offer(42),
        offer("v=0\r\n" + video + video),  # two video sections
        offer("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
        offer("v=0\r\n" + video + candidates),  # 33 candidates
        offer("v=0\r\n" + video),  # no ICE credentials, no fingerprint: aiortc cannot use it
    ]
    async with server.http() as http:
        for body in cases:
            response = await http.post(
                "/api/check", content=body, headers={"content-type": "application/json"}
            )
            assert response.status_code == 400, (body[:80], response.text)
            assert response.json()["error"]["code"] == "bad_message"
        huge = await http.post(
            "/api/check", content=offer("v=0" + "x" * 5000), headers={"content-type": "application/json"}
        )
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    assert checks(server).active == 0


async def test_logs_never_carry_sdp_or_tokens(server: Running) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("hearth")
    handler.setFormatter(logger.handlers[0].formatter if logger.handlers else None)
    logger.addHandler(handler)
    try:
        room = await server.create_room()
        async with server.http() as http:
            checker, response = await offer_check(http, room.member, audio=False)
            assert response.status_code == 200
            await eventually(lambda: checker.frames["video"] > 0, "the echo")
            await checker.close()
        await eventually(lambda: checks(server).active == 0, "the check to end")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "check started" in text and "check ended" in text
    assert room.member not in text and "a=candidate" not in text and "v=0" not in text


@pytest.mark.turn
async def test_the_check_works_through_turn_in_relay_mode(start_server: StartServer, coturn: Turn) -> None:
    server = await start_server(turn_urls=coturn.url, turn_secret=coturn.secret, ice_policy="relay")
    room = await server.create_room()
    async with server.http() as http:
        config = (await http.post("/api/check/config", json={"token": room.member})).json()
        assert config["ice_transport_policy"] == "relay" and config["ice_servers"][0]["urls"] == [coturn.url]
        checker, response = await offer_check(http, room.member)
    try:
        assert response.status_code == 200, response.text
        candidates = [ln for ln in response.json()["sdp"].splitlines() if ln.startswith("a=candidate:")]
        assert candidates and all(" typ relay" in ln for ln in candidates)
        await eventually(
            lambda: checker.frames["video"] >= 10 and checker.frames["audio"] >= 10,
            "echoed frames through TURN",
            timeout=20,
        )
    finally:
        await checker.close()
    await eventually(lambda: checks(server).active == 0, "the server to end the closed check")


async def test_shutdown_closes_running_checks(start_server: StartServer) -> None:
    server = await start_server()
    room = await server.create_room()
    async with server.http() as http:
        checker, response = await offer_check(http, room.member, audio=False)
    assert response.status_code == 200
    echo = checks(server)
    pc = echo._checks[checker.check_id].pc
    try:
        await server.stop()
        assert echo.active == 0 and pc.connectionState == "closed"
    finally:
        await checker.close()
    await asyncio.sleep(0)

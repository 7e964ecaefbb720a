"""Signals cannot be used as a weapon: only the documented shapes are relayed, SDPs and
candidates have a size cap, and one sender's bytes are budgeted, so a flood cuts off the sender
(rate_limited, then 4008) and never the participant it aims at (docs/protocol.md, `signal`)."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.server.conftest import TIMEOUT, Running, StartServer

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}
CANDIDATE = "candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host"


def sdp_of(chars: int) -> str:
    """An SDP-looking text of exactly ``chars`` characters (CRLF lines, as browsers write)."""
    lines = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    sdp = "\r\n".join(lines) + "\r\n"
    n = 0
    while len(sdp) < chars:
        sdp += f"a=ssrc:{1000 + n} msid:stream-{n} track-{n} padding-for-a-long-description\r\n"
        n += 1
    return sdp[:chars]


VALID = [
    {"description": OFFER},
    {"description": {"type": "answer", "sdp": OFFER["sdp"]}, "pc": "1-2", "peer_pc": "3-4"},
    {"description": {"type": "pranswer", "sdp": ""}},
    {"description": {"type": "rollback", "sdp": ""}, "pc": "a", "peer_pc": None},
    {"candidate": {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": "uf"}},
    {"candidate": {"candidate": CANDIDATE, "sdpMid": None, "sdpMLineIndex": None}},
    {"candidate": {"candidate": ""}},  # end of candidates
    {"candidate": None},  # end of candidates
    {"hello": True, "pc": "1234-5678", "peer_pc": None},
]

MALFORMED = [
    {},
    {"pc": "1-2"},  # tags but nothing to signal
    {"description": OFFER, "extra": [1, {"nested": True}]},
    {"description": OFFER, "candidate": None},  # two things at once
    {"description": OFFER, "hello": True},
    {"description": {"type": "bogus", "sdp": ""}},
    {"description": {"type": "offer"}},
    {"description": {"type": "offer", "sdp": 5}},
    {"description": {"type": "offer", "sdp": "", "junk": "x" * 1000}},
    {"description": "v=0"},
    {"candidate": CANDIDATE},  # a bare string is not an RTCIceCandidateInit
    {"candidate": {"candidate": 5}},
    {"candidate": {"sdpMid": "0"}},
    {"candidate": {"candidate": CANDIDATE, "junk": {"a": [1, 2, 3]}}},
    {"candidate": {"candidate": CANDIDATE, "sdpMLineIndex": -1}},
    {"candidate": {"candidate": CANDIDATE, "sdpMid": "x" * 65}},
    {"hello": False},
    {"hello": "yes"},
    {"hello": True, "pc": 5},
    {"hello": True, "pc": "x" * 65},
    {"hello": True, "peer_pc": ""},
]


async def test_only_the_documented_signal_shapes_are_relayed(start_server: StartServer) -> None:
    server = await start_server(rate_strikes=100)  # every bad_message is a strike
    _room, _fac, (ann, bob) = await server.live_room("Ann", "Bob")
    for data in MALFORMED:
        reply = await ann.refused({"type": "signal", "to": bob.id, "data": data}, "bad_message")
        assert "invalid signal" in reply["message"], (data, reply)
    assert [m for m in await bob.drain() if m["type"] == "signal"] == []
    for data in VALID:
        await ann.ok({"type": "signal", "to": bob.id, "data": data})
        assert await bob.recv() == {"type": "signal", "from": ann.id, "data": data}  # unchanged


async def test_sdp_and_candidates_over_their_configured_size_are_too_large(start_server: StartServer) -> None:
    server = await start_server(max_sdp_chars=2048, max_candidate_chars=200)
    _room, _fac, (ann, bob) = await server.live_room("Ann", "Bob")
    long_offer = {"description": {"type": "offer", "sdp": sdp_of(2049)}}
    long_candidate = {"candidate": {"candidate": CANDIDATE + " x" * 100, "sdpMid": "0"}}
    await ann.refused({"type": "signal", "to": bob.id, "data": long_offer}, "too_large")
    await ann.refused({"type": "signal", "to": bob.id, "data": long_candidate}, "too_large")
    assert [m for m in await bob.drain() if m["type"] == "signal"] == []
    fitting = {"description": {"type": "offer", "sdp": sdp_of(2048)}}
    await ann.ok({"type": "signal", "to": bob.id, "data": fitting})
    assert (await bob.recv())["data"] == fitting


async def flood(sender: Any, to: str, data: dict[str, Any], count: int) -> None:
    """Write ``count`` signals with ids 0.. as fast as the socket takes them (until it closes)."""
    for n in range(count):
        try:
            await asyncio.wait_for(sender.send({"type": "signal", "to": to, "data": data, "id": n}), TIMEOUT)
        except ConnectionClosed:
            return


async def test_a_signal_flood_cuts_off_the_sender_never_the_facilitator(server: Running) -> None:
    """Ann floods the facilitator with the largest signals the server accepts, as fast as her
    socket goes, while the facilitator's page is busy and reads nothing. Ann is refused and
    closed (4008); the facilitator stays connected and gets what happens next."""
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob")
    settings = server.settings
    data = {"description": {"type": "offer", "sdp": sdp_of(settings.max_sdp_chars)}, "pc": "1-2"}
    await flood(ann, fac.id, data, 2 * settings.signal_burst)
    assert await ann.expect_close(timeout=30) == 4008
    answers = [m for m in ann.seen if m["type"] in ("ack", "error")]
    limited = [m["ref"] for m in answers if m["type"] == "error" and m["code"] == "rate_limited"]
    acked = [m["ref"] for m in answers if m["type"] == "ack"]
    # The facilitator, reading again: still connected, everything Ann got acked, then room life.
    await bob.ok({"type": "chat", "text": "are you there?"})
    received = await fac.collect_until("chat", timeout=30)
    assert received[-1]["message"]["text"] == "are you there?"
    assert len([m for m in received if m["type"] == "signal"]) == len(acked)
    await fac.ok({"type": "ping"})
    gone = [m for m in fac.seen if m["type"] == "participant_updated" and m["participant"]["id"] == ann.id]
    if not gone:
        gone = [await fac.recv_until("participant_updated", lambda m: m["participant"]["id"] == ann.id)]
    assert gone[-1]["participant"]["connected"] is False  # Ann lost her socket, not the facilitator
    # Ann was refused once about a budget's worth of bytes had gone out (1 MiB in ~33 kB
    # signals), long before the 600-message burst: that is all the facilitator had queued.
    assert limited, "the flood was never refused"
    assert limited[0] <= 2 * settings.signal_bytes_burst // settings.max_sdp_chars, limited[0]


async def test_reconnecting_does_not_refill_the_signal_budget(start_server: StartServer) -> None:
    server = await start_server(signal_bytes_burst=65536, signal_bytes_per_second=1024)
    room, _fac, (ann, bob) = await server.live_room("Ann", "Bob")
    assert ann.welcome is not None
    data = {"description": {"type": "offer", "sdp": sdp_of(30000)}}  # two fit in the burst
    replies = [await ann.request({"type": "signal", "to": bob.id, "data": data}, n) for n in range(3)]
    assert [r["type"] for r in replies] == ["ack", "ack", "error"]
    assert replies[2]["code"] == "rate_limited"
    ann.abort()
    again = await server.connect()
    welcome = await again.join(room.member, "Ann", resume=ann.welcome["resume"])
    assert welcome["type"] == "welcome" and welcome["you"]["id"] == ann.id
    await again.refused({"type": "signal", "to": bob.id, "data": data}, "rate_limited")
    await again.ok({"type": "signal", "to": bob.id, "data": {"candidate": None}})  # small ones still fit

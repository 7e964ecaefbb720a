"""The signal rules of server/signals.py on their own, no sockets: the relay-only filter (a
privacy rule: with ``ice_transport_policy: relay`` no member may learn another's address), the
size checks, and the per-sender byte budget. The same rules end to end over real sockets are
tests/server/test_signals.py and tests/server/test_privacy.py."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from rooms.codes import ErrorCode
from server import protocol
from server.config import Settings
from server.protocol import IceCandidate, SessionDescription, SignalData
from server.signals import SignalBudgets, check_sizes, filter_signal, frame_bytes, strip_sdp
from tests.fake_clock import Clock

SECRET = "s" * 32

HOST = "candidate:1 1 udp 2122260223 192.168.1.20 54321 typ host generation 0"
HOST6 = "candidate:2 1 udp 2122262783 2001:db8::5 54322 typ host generation 0"
MDNS = "candidate:3 1 udp 2122260223 4f1a2b3c-1234.local 54323 typ host"
SRFLX = "candidate:4 1 udp 1686052607 203.0.113.7 61000 typ srflx raddr 192.168.1.20 rport 54321"
PRFLX = "candidate:5 1 udp 1845501695 203.0.113.7 61001 typ prflx raddr 192.168.1.20 rport 54321"
TCP_HOST = "candidate:6 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active"
RELAY = "candidate:7 1 udp 41885439 198.51.100.9 50000 typ relay raddr 203.0.113.7 rport 61000"
RELAY6 = "candidate:8 1 udp 41885439 2001:db8::9 50002 typ relay raddr 2001:db8::5 rport 54322"
RELAY_TCP = (
    "candidate:9 1 tcp 25108223 198.51.100.9 50004 typ relay raddr 203.0.113.7 rport 61002 tcptype passive"
)
RELAY_BARE = "candidate:10 1 udp 41885439 198.51.100.9 50006 typ relay"
TYP_LAST = "candidate:11 1 udp 1 10.0.0.1 5000 typ"  # malformed: no type after "typ"
RELAY_WORD = "candidate:12 1 udp 1 10.0.0.1 5000 typ host relay 1"  # "relay" not as the type

SENDER_ADDRESSES = ["192.168.1.20", "203.0.113.7", "2001:db8::5", "4f1a2b3c-1234.local", "10.0.0.1"]


def _candidate(text: str | None) -> SignalData:
    return SignalData(
        candidate=None if text is None else IceCandidate(candidate=text, sdpMid="0", sdpMLineIndex=0)
    )


@pytest.mark.parametrize(
    ("given", "relayed"),
    [
        (HOST, None),
        (HOST6, None),
        (MDNS, None),
        (SRFLX, None),
        (PRFLX, None),
        (TCP_HOST, None),
        (TYP_LAST, None),
        (RELAY_WORD, None),
        (RELAY, "candidate:7 1 udp 41885439 198.51.100.9 50000 typ relay raddr 0.0.0.0 rport 0"),
        (RELAY6, "candidate:8 1 udp 41885439 2001:db8::9 50002 typ relay raddr :: rport 0"),
        (
            RELAY_TCP,
            "candidate:9 1 tcp 25108223 198.51.100.9 50004 typ relay raddr 0.0.0.0 rport 0 tcptype passive",
        ),
        (RELAY_BARE, RELAY_BARE),
        ("", ""),  # end of candidates (empty)
    ],
)
def test_relay_only_keeps_relay_candidates_and_names_no_sender_address(
    given: str, relayed: str | None
) -> None:
    out = filter_signal(_candidate(given), relay_only=True)
    if relayed is None:
        assert out is None
        return
    assert out is not None and isinstance(out.candidate, IceCandidate)
    assert out.candidate.candidate == relayed
    assert (out.candidate.sdpMid, out.candidate.sdpMLineIndex) == ("0", 0)  # the rest is kept
    for address in SENDER_ADDRESSES:
        assert f" {address} " not in f" {out.candidate.candidate} "


def test_relay_only_passes_a_null_end_of_candidates_and_hello() -> None:
    assert filter_signal(_candidate(None), relay_only=True) == _candidate(None)
    hello = SignalData(hello=True, pc="1-2")
    assert filter_signal(hello, relay_only=True) == hello


@pytest.mark.parametrize("given", [HOST, HOST6, SRFLX, PRFLX, RELAY, ""])
def test_without_relay_only_every_signal_passes_unchanged(given: str) -> None:
    data = _candidate(given)
    assert filter_signal(data, relay_only=False) is data


def _sdp(newline: str) -> str:
    lines = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 54321 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 192.168.1.20",
        "a=rtcp:9 IN IP4 192.168.1.20",
        "a=" + HOST,
        "a=" + SRFLX,
        "a=" + RELAY,
        "a=end-of-candidates",
        "m=video 54322 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP6 2001:db8::5",
        "a=rtcp:54322 IN IP6 2001:db8::5",
        "a=" + HOST6,
        "a=" + PRFLX,
        "a=" + RELAY6,
        "a=" + MDNS,
        "a=mid:1",
        "",
    ]
    return newline.join(lines)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_relay_only_strips_a_description_to_relay_candidates_and_blank_addresses(newline: str) -> None:
    description = SessionDescription(type="offer", sdp=_sdp(newline))
    out = filter_signal(SignalData(description=description, pc="a"), relay_only=True)
    assert out is not None and isinstance(out.description, SessionDescription)
    assert out.pc == "a" and out.description.type == "offer"
    lines = out.description.sdp.split(newline)
    assert lines == [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",  # left as is (browsers write 127.0.0.1)
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 54321 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:7 1 udp 41885439 198.51.100.9 50000 typ relay raddr 0.0.0.0 rport 0",
        "a=end-of-candidates",
        "m=video 54322 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP6 ::",
        "a=rtcp:54322 IN IP6 ::",
        "a=candidate:8 1 udp 41885439 2001:db8::9 50002 typ relay raddr :: rport 0",
        "a=mid:1",
        "",
    ]
    for address in SENDER_ADDRESSES[:4]:
        assert address not in out.description.sdp


def test_a_description_without_candidates_keeps_its_lines() -> None:
    sdp = "v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n"
    assert strip_sdp(sdp) == sdp
    assert strip_sdp("") == ""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret=SECRET, max_sdp_chars=100, max_candidate_chars=50)


def test_sizes_at_the_limit_pass_and_one_over_is_too_large(settings: Settings) -> None:
    check_sizes(SignalData(description=SessionDescription(type="offer", sdp="x" * 100)), settings)
    check_sizes(SignalData(candidate=IceCandidate(candidate="c" * 50)), settings)
    check_sizes(SignalData(candidate=None), settings)
    check_sizes(SignalData(hello=True), settings)
    with pytest.raises(protocol.ProtocolError) as sdp:
        check_sizes(SignalData(description=SessionDescription(type="offer", sdp="x" * 101)), settings)
    assert sdp.value.code == ErrorCode.TOO_LARGE and sdp.value.message == "an SDP is at most 100 characters"
    with pytest.raises(protocol.ProtocolError) as candidate:
        check_sizes(SignalData(candidate=IceCandidate(candidate="c" * 51)), settings)
    assert candidate.value.code == ErrorCode.TOO_LARGE
    assert candidate.value.message == "an ICE candidate is at most 50 characters"


def test_the_shape_of_signal_data_is_exact() -> None:
    """Exactly one of description/candidate/hello; nothing else travels (decoding refuses)."""
    with pytest.raises(ValueError, match="exactly one of"):
        SignalData()
    with pytest.raises(ValueError, match="exactly one of"):
        SignalData(hello=True, candidate=None)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"hello": True, "other": 1}, SignalData)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"candidate": {"candidate": "", "address": "10.0.0.1"}}, SignalData)


def test_frame_bytes_counts_utf8_bytes() -> None:
    assert frame_bytes("abc") == 3
    assert frame_bytes("é") == 2
    assert frame_bytes("💜") == 4


def test_a_senders_budget_is_its_own_and_kept_per_participant(clock: Clock) -> None:
    budgets = SignalBudgets(rate=100, burst=1000)
    assert budgets.take("r", "ann", 1000)
    assert not budgets.take("r", "ann", 1)  # spent: refused, and nothing charged
    assert budgets.take("r", "bob", 1000)  # another sender has its own
    assert budgets.take("other-room", "ann", 1000)  # and so has the same id in another room
    clock.now += 1.0
    assert budgets.take("r", "ann", 100) and not budgets.take("r", "ann", 1)  # 100 bytes a second
    assert len(budgets) == 3


def test_the_table_forgets_only_budgets_that_refilled_completely(clock: Clock) -> None:
    budgets = SignalBudgets(rate=1, burst=10)
    for n in range(1024):
        assert budgets.take("r", f"p{n}", 1 if n else 10)  # p0 spent all, the others 1
    clock.now += 5  # p0 has refilled 5 of 10; the others are full again
    assert budgets.take("r", "newcomer", 1)  # the 1025th sweeps first
    assert len(budgets) == 2
    assert not budgets.take("r", "p0", 6)  # p0's debt was kept: only 5 back

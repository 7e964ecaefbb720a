"""Relay only, through a real coturn on loopback: ``HEARTH_TURN_URLS`` + ``HEARTH_TURN_SECRET`` +
``HEARTH_ICE_POLICY=relay``.

- Two Python peers, and a Python peer with a Chromium member, see each other; the selected ICE
  pair is relay on both sides; no peer receives a host, srflx or prflx candidate, neither trickled
  nor inside a description, nor any address in a relay candidate's ``raddr`` or a description's
  ``c=``/``a=rtcp:`` lines (checked on the frames that arrived at each websocket).
- A peer that ignores the policy and offers its host address gets it stripped by the server.
- coturn refuses expired, forged and tampered TURN REST credentials, and takes good ones.
- ``hearth probe`` says ``path relay`` and exits 0; with the TURN server stopped it exits 1.
- The TURN credentials of a ``welcome`` are fresh at each join and resume (now + ``turn_ttl``).

All traffic stays on 127.0.0.1 (coturn runs with ``--allow-loopback-peers``, for tests only);
every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint
from aiortc.sdp import candidate_from_sdp
from playwright.async_api import Page

import server.welcome as welcome_module
from server.peers import HearthPeer
from server.tokens import turn_credentials
from tests.e2e.conftest import People, join_through_screens, room_url, wait_in_room
from tests.e2e.conftest import frames_rising as browser_frames_rising
from tests.peers.conftest import frames_rising, invite
from tests.polling import eventually
from tests.server.conftest import Running, StartServer
from tests.turn import TurnServer, rest_credential, turn_server

__all__ = ["turn_server"]  # the fixture, used here by name
pytestmark = [pytest.mark.slow, pytest.mark.turn]

ROOT = Path(__file__).resolve().parents[2]
NO_ADDRESS = (None, "0.0.0.0", "::")  # what a raddr, c= or a=rtcp: address may say on arrival
TTL = 3600  # the default lifetime of TURN credentials


# Peers that keep what went through their websocket


class RecordingPeer(HearthPeer):
    """A ``HearthPeer`` that keeps every frame it read from its websocket and every signal it
    sent (test-side hooks on the two places all frames pass)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.received: list[dict[str, Any]] = []
        self.sent_signals: list[dict[str, Any]] = []
        super().__init__(*args, **kwargs)

    def _receive(self, frame: dict[str, Any]) -> None:
        self.received.append(frame)
        super()._receive(frame)

    async def _send_signal(self, to: str, data: dict[str, Any]) -> None:
        self.sent_signals.append(data)
        await super()._send_signal(to, data)

    def signals_from(self, sender: str) -> list[dict[str, Any]]:
        return [f["data"] for f in self.received if f.get("type") == "signal" and f.get("from") == sender]


class LeakyPeer(RecordingPeer):
    """Ignores ``ice_transport_policy: relay``: offers its host address (127.0.0.1) too, as a
    misconfigured or hostile client could."""

    def _on_welcome(self, frame: dict[str, Any]) -> None:
        super()._on_welcome({**frame, "ice_transport_policy": "all"})


MakePeer = Callable[..., RecordingPeer]


@pytest.fixture
def make_peer(peers: Callable[..., HearthPeer]) -> MakePeer:
    """``peers`` (closed after the test), making ``RecordingPeer``s."""

    def make(link: str, name: str, kind: type[RecordingPeer] = RecordingPeer) -> RecordingPeer:
        return cast(RecordingPeer, peers(link, name, kind=kind))

    return make


async def relay_server(start_server: StartServer, turn: TurnServer) -> Running:
    return await start_server(turn_urls=(turn.udp_url,), turn_secret=turn.secret, ice_policy="relay")


# Candidates as they arrived


def candidates_in(data: dict[str, Any]) -> list[str]:
    """The candidate lines of one signal: trickled, or ``a=candidate`` lines of a description
    (end-of-candidates markers carry none)."""
    found: list[str] = []
    description = data.get("description")
    if isinstance(description, dict) and isinstance(description.get("sdp"), str):
        lines = description["sdp"].splitlines()
        found += [line.strip()[2:] for line in lines if line.startswith("a=candidate:")]
    candidate = data.get("candidate")
    text = candidate.get("candidate") if isinstance(candidate, dict) else candidate
    if isinstance(text, str) and text.strip():
        found.append(text.strip().removeprefix("a="))
    return found


def candidate_type(text: str) -> str:
    return str(candidate_from_sdp(text.split(":", 1)[1]).type)


def connection_addresses(data: dict[str, Any]) -> list[str]:
    """The addresses of the ``c=`` and ``a=rtcp:`` lines of a signal's description."""
    description = data.get("description")
    if not isinstance(description, dict) or not isinstance(description.get("sdp"), str):
        return []
    lines = description["sdp"].splitlines()
    return [line.split()[-1] for line in lines if line.startswith(("c=", "a=rtcp:"))]


def assert_relay_only(signals: list[dict[str, Any]], turn: TurnServer, who: str) -> int:
    """Every candidate in ``signals`` is a relay candidate on ``turn``'s relay ports that names
    no other address (``raddr``), and no description names an address in its ``c=`` or
    ``a=rtcp:`` lines; the number of candidates."""
    count = 0
    for data in signals:
        for address in connection_addresses(data):
            assert address in NO_ADDRESS, f"{who} learned an address from a description: {address}"
        for text in candidates_in(data):
            candidate = candidate_from_sdp(text.split(":", 1)[1])
            assert candidate.type == "relay", f"{who} received a {candidate.type} candidate: {text}"
            assert candidate.ip == "127.0.0.1", text
            assert turn.min_port <= candidate.port <= turn.max_port, f"not a port of this coturn: {text}"
            assert candidate.relatedAddress in NO_ADDRESS, f"{who} learned an address: {text}"
            count += 1
    return count


def first_frame_after(peer: HearthPeer, remote_id: str, start: float) -> float:
    first = peer.stats()[remote_id].first_frame_at
    assert first is not None
    return first - start


# Python <-> Python


async def test_two_python_peers_meet_through_turn_only(
    start_server: StartServer, turn_server: TurnServer, make_peer: MakePeer
) -> None:
    server = await relay_server(start_server, turn_server)
    room = await server.create_room(lobby=False)
    fran = make_peer(invite(server, room.id, room.facilitator), "Fran")
    ana = make_peer(invite(server, room.id, room.member), "Ana")
    for peer in (fran, ana):
        welcome = await peer.join()
        assert welcome["ice_transport_policy"] == "relay"
        assert welcome["ice_servers"][0]["urls"] == [turn_server.udp_url]
    start = asyncio.get_running_loop().time()

    await frames_rising(fran, [ana.id])
    await frames_rising(ana, [fran.id])
    await eventually(
        lambda: fran.stats()[ana.id].audio_frames > 10 and ana.stats()[fran.id].audio_frames > 10,
        "audio both ways",
        timeout=10,
    )

    assert fran.selected_pair_types()[ana.id] == ("relay", "relay")
    assert ana.selected_pair_types()[fran.id] == ("relay", "relay")
    assert assert_relay_only(fran.signals_from(ana.id), turn_server, "Fran") > 0
    assert assert_relay_only(ana.signals_from(fran.id), turn_server, "Ana") > 0
    print(
        "\nfirst relayed frame after "
        f"{first_frame_after(fran, ana.id, start):.2f} s (Ana -> Fran), "
        f"{first_frame_after(ana, fran.id, start):.2f} s (Fran -> Ana)"
    )


async def test_a_host_candidate_offered_anyway_never_arrives(
    start_server: StartServer, turn_server: TurnServer, make_peer: MakePeer
) -> None:
    server = await relay_server(start_server, turn_server)
    room = await server.create_room(lobby=False)
    fran = make_peer(invite(server, room.id, room.facilitator), "Fran")
    lee = make_peer(invite(server, room.id, room.member), "Lee", LeakyPeer)
    for peer in (fran, lee):
        await peer.join()

    await frames_rising(fran, [lee.id])
    await frames_rising(lee, [fran.id])

    sent = [candidate_type(text) for data in lee.sent_signals for text in candidates_in(data)]
    assert "host" in sent and "relay" in sent, sent  # Lee did offer its address...
    assert assert_relay_only(fran.signals_from(lee.id), turn_server, "Fran") > 0  # ...Fran never got it
    # Fran sends through TURN only. (Her remote side may be prflx here: Lee's checks from its host
    # address reach her relay because a TURN permission is per IP and everything is 127.0.0.1.
    # Elsewhere coturn drops them: the permission names Lee's relay address only.)
    pair = fran.selected_pair_types()[lee.id]
    assert pair is not None and pair[0] == "relay", pair


# Python <-> Chromium

RECORD_WEBSOCKET = """
(() => {
  const received = [];
  window.__hearthReceived = received;
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        if (typeof event.data === "string") received.push(event.data);
      });
    }
  };
})();
"""

SELECTED_PAIR = """
async (remoteId) => {
  const link = window.hearth.mesh.peers.get(remoteId);
  if (!link) return null;
  const stats = new Map();
  (await link.pc.getStats()).forEach((s) => stats.set(s.id, s));
  let pair = null;
  for (const s of stats.values()) {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  }
  if (!pair) {
    for (const s of stats.values()) {
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
    }
  }
  const types = (kind) => [...stats.values()].filter((s) => s.type === kind).map((s) => s.candidateType);
  return {
    local: pair ? stats.get(pair.localCandidateId)?.candidateType ?? null : null,
    remote: pair ? stats.get(pair.remoteCandidateId)?.candidateType ?? null : null,
    locals: types("local-candidate"),
    remotes: types("remote-candidate"),
  };
}
"""


async def open_recording(people: People, url: str) -> Page:
    """Like ``People.open``, with every websocket message the page receives kept in
    ``window.__hearthReceived`` (an init script wraps ``WebSocket`` before the page's own code)."""
    context = await people.browser.new_context(
        viewport={"width": 1280, "height": 800}, permissions=["camera", "microphone"]
    )
    people.contexts.append(context)
    await context.add_init_script(RECORD_WEBSOCKET)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: people.errors.append(f"{url}: {exc}"))
    await page.goto(url)
    return page


async def browser_signals_from(page: Page, sender: str) -> list[dict[str, Any]]:
    raw: list[str] = await page.evaluate("() => window.__hearthReceived")
    frames = [json.loads(text) for text in raw]
    return [f["data"] for f in frames if f.get("type") == "signal" and f.get("from") == sender]


@pytest.mark.e2e
async def test_a_python_peer_and_a_browser_meet_through_turn_only(
    start_server: StartServer, turn_server: TurnServer, make_peer: MakePeer, people: People
) -> None:
    server = await relay_server(start_server, turn_server)
    room = await server.create_room(lobby=False)
    pat = make_peer(invite(server, room.id, room.facilitator), "Pat")
    await pat.join()
    page = await open_recording(people, room_url(server.base_url, room.id, room.member))
    await join_through_screens(page, "Bea")
    bea = await wait_in_room(page)
    start = asyncio.get_running_loop().time()

    await browser_frames_rising(page, [pat.id])
    await frames_rising(pat, [bea])
    assert pat.stats()[bea].frame_width == 640  # the fake camera

    pair = await page.evaluate(SELECTED_PAIR, pat.id)
    assert pair is not None and (pair["local"], pair["remote"]) == ("relay", "relay"), pair
    assert set(pair["locals"]) == {"relay"} and set(pair["remotes"]) == {"relay"}, pair
    assert pat.selected_pair_types()[bea] == ("relay", "relay")
    assert assert_relay_only(await browser_signals_from(page, pat.id), turn_server, "the browser") > 0
    assert assert_relay_only(pat.signals_from(bea), turn_server, "Pat") > 0
    print(f"\nfirst relayed frame from the browser after {first_frame_after(pat, bea, start):.2f} s")


# coturn and the credentials


async def allocate(turn: TurnServer, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation on ``turn`` (UDP): the relayed address; ``stun.TransactionFailed`` when
    refused."""
    transport, _ = await asyncio.wait_for(
        create_turn_endpoint(asyncio.DatagramProtocol, turn.address, username, password), 10
    )
    try:
        relayed: tuple[str, int] = transport.get_extra_info("sockname")
        return relayed
    finally:
        transport.close()


async def refused_with(turn: TurnServer, username: str, password: str) -> int:
    with pytest.raises(stun.TransactionFailed) as refused:
        await allocate(turn, username, password)
    code: int = refused.value.response.attributes["ERROR-CODE"][0]
    return code


async def test_coturn_refuses_expired_forged_and_tampered_credentials(turn_server: TurnServer) -> None:
    urls = [turn_server.udp_url]
    now = time.time()
    [good] = turn_credentials(turn_server.secret, urls, "p-good", TTL, now)
    [expired] = turn_credentials(turn_server.secret, urls, "p-late", -60, now)  # right HMAC, past expiry
    [forged] = turn_credentials("not-the-turn-secret", urls, "p-forged", TTL, now)
    expiry, pid = str(good["username"]).split(":", 1)
    stretched = f"{int(expiry) + 7 * 24 * 3600}:{pid}"  # a later expiry with the old credential

    relayed = await allocate(turn_server, str(good["username"]), str(good["credential"]))
    assert relayed[0] == "127.0.0.1" and turn_server.min_port <= relayed[1] <= turn_server.max_port
    assert await refused_with(turn_server, str(expired["username"]), str(expired["credential"])) == 401
    assert await refused_with(turn_server, str(forged["username"]), str(forged["credential"])) == 401
    assert await refused_with(turn_server, stretched, str(good["credential"])) == 401


async def test_turn_credentials_are_fresh_at_each_join_and_resume(
    start_server: StartServer, turn_server: TurnServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await relay_server(start_server, turn_server)
    before = time.time()
    room, _fac, (ann,) = await server.live_room("Ann")
    after = time.time()
    assert ann.welcome is not None
    joined = credentials_of(ann.welcome, turn_server, ann.id)
    assert int(before + TTL) <= joined[0] <= int(after + TTL)

    # The resume comes 90 s later by the server's clock (a dropped socket, back after a while).
    shift = 90.0
    monkeypatch.setattr(welcome_module, "time", SimpleNamespace(time=lambda: time.time() + shift))
    ann.abort()
    again = await server.connect()
    before = time.time()
    welcome = await again.join(room.member, "Ann", resume=ann.welcome["resume"])
    after = time.time()
    assert welcome["type"] == "welcome" and welcome["you"]["id"] == ann.id, welcome
    resumed = credentials_of(welcome, turn_server, ann.id)
    assert int(before + shift + TTL) <= resumed[0] <= int(after + shift + TTL)
    assert resumed[1:] != joined[1:]  # another username and credential

    for _expiry, username, credential in (joined, resumed):
        await allocate(turn_server, username, credential)  # both work on the real TURN server


def credentials_of(welcome: dict[str, Any], turn: TurnServer, pid: str) -> tuple[int, str, str]:
    """(expiry, username, credential) of a welcome's only ICE server, checked: ``<expiry>:<id>``
    with base64(HMAC-SHA1(secret, username)) as the credential."""
    assert welcome["ice_transport_policy"] == "relay"
    [entry] = welcome["ice_servers"]
    assert entry["urls"] == [turn.udp_url]
    username, credential = entry["username"], entry["credential"]
    expiry, named = username.split(":", 1)
    assert named == pid
    assert credential == rest_credential(turn.secret, username)
    return int(expiry), username, credential


# hearth probe


async def probe(link: str, timeout: float) -> tuple[int, str]:
    """``hearth probe LINK --timeout S`` as a subprocess: (exit status, stdout + stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server.cli", "probe", link, "--timeout", f"{timeout:g}",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout + 30)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_probe_passes_through_turn_and_fails_without_it(
    start_server: StartServer, turn_server: TurnServer
) -> None:
    server = await relay_server(start_server, turn_server)
    room = await server.create_room(lobby=False)
    link = invite(server, room.id, room.facilitator)

    status, out = await probe(link, 15)
    assert status == 0, out
    assert "media flowed both ways" in out and out.count("path relay (relay -> relay)") == 2, out
    print(f"\n{out}")

    turn_server.stop()
    began = time.monotonic()
    status, out = await probe(link, 5)
    assert status == 1, out
    assert "FAILED" in out and "media flowed" not in out, out
    print(f"\nprobe without TURN: exit 1 after {time.monotonic() - began:.1f} s\n{out}")

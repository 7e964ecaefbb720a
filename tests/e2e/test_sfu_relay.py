"""SFU mode under relay-only ICE, in real browsers: a real Janus (tests/janus.py), a real coturn
(tests/turn.py) and a Hearth server with ``HEARTH_ICE_POLICY=relay``.

Janus offers its own host candidates (127.0.0.1, through the harness's loopback shim): that is
the media server's address, which members may know. What must hold: each browser gathers and
uses relay candidates only on both its connections, gets no ``signal`` from anyone, and no
``sfu`` frame it receives names another member's address (their relay candidates) or anything
but Janus's ports. Every wait is bounded.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiortc.sdp import candidate_from_sdp
from playwright.async_api import Page

from tests.e2e.conftest import People, frames_rising, join_through_screens, room_url, wait_in_room
from tests.e2e.test_sfu import MEDIA_TIMEOUT, sfu_server
from tests.janus import JanusProcess
from tests.peers.test_relay import RECORD_WEBSOCKET, candidates_in
from tests.server.conftest import StartServer
from tests.turn import TurnServer, turn_server

__all__ = ["turn_server"]  # the fixture, used here by name
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.turn]

RECORD_SENT = """
(() => {
  const sent = [];
  window.__hearthSent = sent;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === "string") sent.push(data);
    return send.call(this, data);
  };
})();
"""

CANDIDATE_TYPES = """
async () => {
  const media = window.hearth.mesh;
  const result = [];
  for (const link of [media.pub, media.sub]) {
    if (!link) { result.push(null); continue; }
    const stats = new Map();
    (await link.pc.getStats()).forEach((s) => stats.set(s.id, s));
    let pair = null;
    for (const s of stats.values()) {
      if (s.type === "transport" && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    }
    result.push({
      selected: pair ? stats.get(pair.localCandidateId)?.candidateType ?? null : null,
      locals: [...stats.values()].filter((s) => s.type === "local-candidate").map((s) => s.candidateType),
    });
  }
  return result;
}
"""


async def open_recording(people: People, url: str) -> Page:
    """A person's page that keeps every websocket message it receives and sends."""
    context = await people.browser.new_context(
        viewport={"width": 1280, "height": 800}, permissions=["camera", "microphone"]
    )
    people.contexts.append(context)
    await context.add_init_script(RECORD_WEBSOCKET)
    await context.add_init_script(RECORD_SENT)
    page = await context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: people.errors.append(f"{url}: {exc}"))
    await page.goto(url)
    return page


async def frames_of(page: Page, name: str) -> list[dict[str, Any]]:
    raw: list[str] = await page.evaluate(f"() => window.{name}")
    return [json.loads(text) for text in raw]


def janus_ports(janus: JanusProcess) -> tuple[int, int]:
    config = (janus.config_dir / "janus.jcfg").read_text()
    found = re.search(r'rtp_port_range\s*=\s*"(\d+)-(\d+)"', config)
    assert found, "no rtp_port_range in the generated janus.jcfg"
    return int(found.group(1)), int(found.group(2))


def addresses(frames: list[dict[str, Any]]) -> set[tuple[str, int]]:
    """Every candidate address (and related address) in these frames' candidates/descriptions."""
    found: set[tuple[str, int]] = set()
    for frame in frames:
        for text in candidates_in(frame):
            candidate = candidate_from_sdp(text.split(":", 1)[1])
            found.add((candidate.ip, candidate.port))
            if candidate.relatedAddress not in (None, "0.0.0.0", "::"):
                found.add((str(candidate.relatedAddress), int(candidate.relatedPort or 0)))
    return found


async def test_relay_only_in_sfu_mode_and_no_member_learns_another_members_address(
    start_server: StartServer, janus: JanusProcess, turn_server: TurnServer, people: People
) -> None:
    server = await sfu_server(
        start_server,
        janus,
        turn_urls=(turn_server.udp_url,),
        turn_secret=turn_server.secret,
        ice_policy="relay",
    )
    room = await server.create_room(title="Thursday group", media="sfu", lobby=False)
    pages: dict[str, Page] = {}
    ids: dict[str, str] = {}
    for name, token in (("Fran", room.facilitator), ("Ann", room.member)):
        page = await open_recording(people, room_url(server.base_url, room.id, token))
        await join_through_screens(page, name)
        ids[name] = await wait_in_room(page)
        pages[name] = page
    await frames_rising(pages["Fran"], [ids["Ann"]], timeout=MEDIA_TIMEOUT)
    await frames_rising(pages["Ann"], [ids["Fran"]], timeout=MEDIA_TIMEOUT)

    low, high = janus_ports(janus)
    sent = {name: await frames_of(page, "__hearthSent") for name, page in pages.items()}
    for name, page in pages.items():
        links = await page.evaluate(CANDIDATE_TYPES)
        for link in links:
            assert link is not None and link["selected"] == "relay", (name, links)
            assert set(link["locals"]) == {"relay"}, (name, links)
        received = await frames_of(page, "__hearthReceived")
        assert not [f for f in received if f.get("type") == "signal"], f"{name} got a member's signal"
        from_sfu = [f for f in received if f.get("type") == "sfu"]
        assert any("description" in f for f in from_sfu)
        learned = addresses(from_sfu)
        assert learned, f"{name} learned no candidate of the media server"
        for ip, port in learned:
            assert ip == "127.0.0.1" and low <= port <= high, f"{name} learned {ip}:{port}, not Janus's"
        for other, frames in sent.items():
            if other == name:
                continue
            theirs = addresses([f for f in frames if f.get("type") == "sfu"])
            assert theirs, f"{other} sent no candidate"
            assert not theirs & learned, f"{name} learned {other}'s address"
            assert all(turn_server.min_port <= port <= turn_server.max_port for _, port in theirs)
            text = json.dumps(received)
            assert not [port for _, port in theirs if f" {port} typ " in text], f"{name} saw {other}'s port"

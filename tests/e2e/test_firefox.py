"""Firefox in a room with Chromium, and Firefox's connection check (issue 13, item 16).

A Firefox member (Debian's firefox-esr through tests/firefox/driver.mjs) and a Chromium
facilitator (Playwright) share a room: video and audio both ways, and a facilitator mute is heard
as silence. Firefox's connection check shows a round trip and the path, also with Firefox's
default mDNS setting.

Every test runs relay-only (`ice_policy="relay"`) through a coturn on 127.0.0.1: Firefox gathers
no loopback host candidates here, only this machine's other addresses, so a direct path would
leave loopback. Each test checks that every candidate pair (both browsers, the echo peer) joins
two relay candidates on 127.0.0.1 (tests/e2e/relay_paths.py).

Firefox notes (../shared/TESTING.md): `getVideoPlaybackQuality()` stays 0 for live streams, so
presented frames are counted with `requestVideoFrameCallback`; ESR 140's candidate pairs carry no
`currentRoundTripTime` (emulated below; 153, which these tests ran with, has it).
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.async_api import expect

from server.echo import EchoChecks
from tests.e2e.conftest import People, frames_rising, join_through_screens, room_url, stats, wait_in_room
from tests.e2e.firefox import Firefoxes, FirefoxPerson, firefox
from tests.e2e.relay_paths import PAIRS_JS, echo_pairs, relayed_on_loopback
from tests.polling import eventually
from tests.server.conftest import Running, StartServer
from tests.server.echo_helpers import Turn, coturn, loopback_ice

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.turn, pytest.mark.usefixtures("loopback_ice")]
__all__ = ["coturn", "firefox", "loopback_ice"]  # fixtures used here by name


@pytest.fixture
async def server(start_server: StartServer, coturn: Turn) -> Running:
    """A server in relay mode through a coturn on 127.0.0.1 (tests/e2e/relay_paths.py says why)."""
    return await start_server(turn_urls=coturn.url, turn_secret=coturn.secret, ice_policy="relay")


# Presented frames of a participant's video on a Firefox page, counted by a frame callback the
# first call installs.
PRESENTED = """(() => {
  const pid = %s;
  const video = document.querySelector(`article.tile[data-participant-id="${pid}"] video`);
  if (!video) return -1;
  if (!video.hearthFrames) {
    video.hearthFrames = { presented: 0 };
    const tick = (_now, meta) => {
      video.hearthFrames.presented = meta.presentedFrames;
      video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
  }
  return video.hearthFrames.presented;
})()"""


async def firefox_stats(person: FirefoxPerson, pid: str) -> dict[str, float]:
    everyone = await person.evaluate("window.hearth.mesh.stats()")
    entry: dict[str, float] = (everyone or {}).get(pid) or {}
    return entry


async def presented(person: FirefoxPerson, pid: str) -> int:
    return int(await person.evaluate(PRESENTED % json.dumps(pid)))


async def level_at_chromium(page: object, pid: str) -> float:
    return float((await stats(page)).get(pid, {}).get("audioLevel") or 0.0)  # type: ignore[arg-type]


async def test_a_firefox_member_and_a_chromium_facilitator_see_and_hear_each_other(
    server: Running, people: People, firefox: Firefoxes
) -> None:
    room = await server.create_room(title="Tuesday group", lobby=False)
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    fran_id = await wait_in_room(fac)
    ann = await firefox.open(room_url(server.base_url, room.id, room.member))
    ann_id = await ann.join("Ann")

    # Video both ways: Chromium decodes Ann's frames; Firefox decodes and presents Fran's.
    await frames_rising(fac, [ann_id])
    await expect(fac.locator(f'article.tile[data-participant-id="{ann_id}"] video')).to_have_js_property(
        "readyState", 4
    )

    async def fran_decoded_at_ann() -> float:
        return (await firefox_stats(ann, fran_id)).get("framesDecoded", 0)

    decoded = await eventually(fran_decoded_at_ann, "Fran's video to decode in Firefox")
    await eventually(lambda: presented(ann, fran_id), "Fran's video to be presented in Firefox")
    shown = await presented(ann, fran_id)

    async def more_presented() -> bool:
        return await presented(ann, fran_id) > shown + 10

    await eventually(more_presented, "Firefox to keep presenting Fran's frames")
    assert await fran_decoded_at_ann() > decoded
    assert (
        await ann.evaluate(
            f"document.querySelector('article.tile[data-participant-id=\"{fran_id}\"] video').videoWidth"
        )
        == 640
    )

    # Audio both ways: microphones on, each side hears the other's beeps.
    await fac.locator("#toggle-mic").click()
    await eventually(
        lambda: fac.evaluate("() => window.hearth.client.state.you.audio"), "Fran's microphone on"
    )
    await ann.click("#toggle-mic")
    await eventually(lambda: ann.evaluate("window.hearth.client.state.you.audio"), "Ann's mic on")

    async def ann_heard_at_fran() -> float:
        level = await level_at_chromium(fac, ann_id)
        return level if level > 0.01 else 0

    async def fran_heard_at_ann() -> float:
        level = (await firefox_stats(ann, fran_id)).get("audioLevel", 0)
        return level if level > 0.01 else 0

    await eventually(ann_heard_at_fran, "Ann (Firefox) to be heard in Chromium")
    await eventually(fran_heard_at_ann, "Fran (Chromium) to be heard in Firefox")

    # A facilitator mute: Fran hears silence from Ann, and Ann's own page says she was muted.
    await fac.locator(f'#people-list li[data-participant-id="{ann_id}"] .mute').click()
    await eventually(
        lambda: ann.evaluate("window.hearth.client.state.you.muted_by_facilitator"),
        "Ann to learn she was muted",
    )
    assert await ann.evaluate("window.hearth.mesh.localAudioTrack().enabled") is False

    async def ann_silent_at_fran() -> bool:
        return await level_at_chromium(fac, ann_id) < 0.005

    await eventually(ann_silent_at_fran, "Ann's audio level at Fran to fall to about 0")
    await ann.click("#toggle-mic")  # she tries to unmute: it stays off, and her page says why
    await eventually(
        lambda: ann.evaluate("!document.getElementById('mic-reason').hidden"), "the reason shown to Ann"
    )
    assert await ann.evaluate("window.hearth.client.state.you.audio") is False
    assert await ann_silent_at_fran()
    assert await fran_heard_at_ann()  # Fran is still heard in Firefox

    # All of it relayed on loopback: each browser's candidate pairs join TURN relay candidates on
    # 127.0.0.1 (coturn's), and no other pair was formed.
    pairs = "(%s)(window.hearth.mesh.peers.get(%s).pc)"
    ann_pairs = await ann.evaluate(pairs % (PAIRS_JS, json.dumps(fran_id)))
    fran_pairs = await fac.evaluate(pairs % (PAIRS_JS, json.dumps(ann_id)))
    assert relayed_on_loopback(ann_pairs), ann_pairs
    assert relayed_on_loopback(fran_pairs), fran_pairs


# Stats as Firefox ESR 140 reports them (../shared/TESTING.md): candidate pairs without
# `currentRoundTripTime`, and no `transport` entry. Newer Firefox has both.
ESR140_STATS = """(() => {
  const original = RTCPeerConnection.prototype.getStats;
  RTCPeerConnection.prototype.getStats = async function (...args) {
    const report = await original.apply(this, args);
    const shown = new Map();
    report.forEach((stat, id) => {
      if (stat.type === "transport") return;
      if (stat.type === "candidate-pair") {
        stat = { ...stat };
        delete stat.currentRoundTripTime;
        delete stat.totalRoundTripTime;
      }
      shown.set(id, stat);
    });
    return shown;
  };
})()"""


async def firefox_check(
    server: Running, firefox: Firefoxes, *, obfuscate: bool, esr140_stats: bool = False
) -> tuple[FirefoxPerson, dict[str, object]]:
    """Open the join page in Firefox and press "Test my connection"; the page and, once the echo
    works, what the page shows while the check still runs."""
    room = await server.create_room()
    person = await firefox.open(room_url(server.base_url, room.id, room.member), obfuscate=obfuscate)
    if esr140_stats:
        await person.evaluate(ESR140_STATS)
    await person.click("#check-button")

    async def works() -> bool:
        return await person.text("#check-status") == "Your connection works"

    await eventually(works, "the check to say the connection works", timeout=30)

    # The round trip and the path are shown while the check runs (it runs 15 s), not only at its end.
    async def shown() -> dict[str, object]:
        values: dict[str, object] = await person.evaluate(
            """(() => ({
              rtt: document.getElementById('check-rtt').textContent,
              path: document.getElementById('check-path').textContent,
              running: document.getElementById('check-button').textContent === 'Stop the test',
            }))()"""
        )
        return values if values["rtt"] and values["path"] else {}

    during = await eventually(shown, "the round trip and the path during the check", timeout=12)
    assert during["running"], "shown only once the check had ended"
    return person, during


async def check_on_loopback(server: Running, person: FirefoxPerson) -> None:
    """The running check's media: relayed by coturn on 127.0.0.1 at both ends, nothing else."""
    firefox_pairs = await person.evaluate(f"({PAIRS_JS})(window.hearth.check.pc)")
    assert relayed_on_loopback(firefox_pairs), firefox_pairs
    echo: EchoChecks = server.app.state.checks
    [check] = echo._checks.values()
    assert relayed_on_loopback(echo_pairs(check.pc)), echo_pairs(check.pc)


async def test_the_connection_check_in_firefox_esr_140_shows_a_round_trip_and_the_path(
    server: Running, firefox: Firefoxes
) -> None:
    person, shown = await firefox_check(server, firefox, obfuscate=False, esr140_stats=True)
    assert re.fullmatch(r"\d+ ms", str(shown["rtt"])), shown
    assert shown["path"] == "relayed through the TURN server"
    check = await person.evaluate("window.hearth.check.stats()")
    assert check["localCandidateType"] == "relay" and check["rtt"] is not None
    await check_on_loopback(server, person)
    # The round trip came from RTCP: the page's stats had none on the candidate pair.
    rtcp = await person.evaluate(
        "window.hearth.check.pc.getStats().then((r) => [...r.values()].filter((s) =>"
        " s.type === 'remote-inbound-rtp' && s.roundTripTime > 0).map((s) => s.roundTripTime))"
    )
    assert rtcp, "no RTCP round trip in the report"
    assert check["framesDecoded"] > 0 and check["audioPackets"] > 0


async def test_the_connection_check_works_with_firefox_default_mdns_setting(
    server: Running, firefox: Firefoxes
) -> None:
    # Firefox's default: host candidates would be mDNS `.local` names. Relay-only, it offers none
    # at all: only its relay candidates on 127.0.0.1. (The echo peer's handling of offers whose
    # `.local` names it removed: tests/server/test_check_mdns.py.)
    person, shown = await firefox_check(server, firefox, obfuscate=True)
    offer = await person.evaluate("window.hearth.check.pc.localDescription.sdp")
    candidates = [line.split() for line in offer.splitlines() if line.startswith("a=candidate:")]
    assert candidates and all(c[4] == "127.0.0.1" and c[7] == "relay" for c in candidates), candidates
    assert re.fullmatch(r"\d+ ms", str(shown["rtt"])), shown
    assert shown["path"] == "relayed through the TURN server"
    check = await person.evaluate("window.hearth.check.stats()")
    assert check["framesDecoded"] > 0 and check["audioPackets"] > 0
    await check_on_loopback(server, person)

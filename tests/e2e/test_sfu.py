"""SFU mode in real browsers: Chromium participants through a real Janus (tests/janus.py), driven
by a real Hearth server given ``HEARTH_JANUS_URLS``/``HEARTH_JANUS_SECRET`` (``janus_urls``,
``janus_secret``), with an aiortc participant beside them.

- Video and audio both ways between a facilitator and a member, and with a Python peer.
- A facilitator mute stops the member's audio packets at the facilitator (inbound-rtp
  ``packetsReceived`` for that stream stops growing while video goes on), even when the member's
  page switches its track back on; allow and the microphone on: packets flow again.
- "See larger" asks the server for the high simulcast layer of that person (the fake camera's
  640x480 gets two of the three layers from Chromium: 640 and 320 wide); the active speaker's
  tile is marked (a ring and the word "speaking"), from Janus's talking events.
- The Janus a session is on is killed: both pages make new connections by themselves (``restart``)
  and media flows again through the other instance.
- Relay only: tests/e2e/test_sfu_relay.py.

Janus offers host candidates on 127.0.0.1 (the harness's loopback shim); every wait is bounded.
"""

from __future__ import annotations

import math
import os
import re
import wave
from array import array
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect

from server.sfu.subscription import HIGH, LOW
from tests.e2e.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    People,
    frames_rising,
    join_through_screens,
    room_url,
    stats,
    wait_in_room,
)
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer, invite, peers
from tests.peers.conftest import frames_rising as peer_frames_rising
from tests.polling import eventually
from tests.server.conftest import Room, Running, StartServer
from tests.server.echo_helpers import loopback_ice
from tests.sfu.conftest import asked_layers

__all__ = ["loopback_ice", "peers"]  # fixtures, used here by name
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("loopback_ice")]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
MEDIA_TIMEOUT = 45.0  # browsers, Janus and Python peers on 2 shared cores: generous, bounded


async def sfu_server(start_server: StartServer, janus: JanusProcess, **settings: Any) -> Running:
    return await start_server(janus_urls=(janus.url,), janus_secret=janus.secret, **settings)


async def two_browsers(server: Running, people: People) -> tuple[Room, Page, Page, str, str]:
    """A facilitator and a member in a room in SFU mode (no lobby)."""
    room = await server.create_room(title="Thursday group", media="sfu", lobby=False)
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    fac_id = await wait_in_room(fac)
    ann = await people.open(room_url(server.base_url, room.id, room.member))
    await join_through_screens(ann, "Ann")
    ann_id = await wait_in_room(ann)
    return room, fac, ann, fac_id, ann_id


async def media_path(page: Page) -> str:
    path: str = await page.evaluate(
        "() => `${window.hearth.client.state.media.path}/${window.hearth.mesh.path}`"
    )
    return path


async def level(page: Page, pid: str) -> float:
    return float((await stats(page)).get(pid, {}).get("audioLevel") or 0.0)


async def heard(page: Page, pid: str) -> bool:
    return await level(page, pid) > 0.01


async def packets(page: Page, pid: str) -> int:
    return int((await stats(page)).get(pid, {}).get("audioPacketsReceived") or 0)


async def frames(page: Page, pid: str) -> int:
    return int((await stats(page)).get(pid, {}).get("framesDecoded") or 0)


async def video_width(page: Page, pid: str) -> int:
    width: int = await page.evaluate(
        "(pid) => document.querySelector(`video[data-participant-id='${pid}']`)?.videoWidth ?? 0", pid
    )
    return width


async def mic_on(page: Page) -> None:
    async def on() -> bool:
        return bool(await page.evaluate("() => window.hearth.client.state.you.audio"))

    if not await on():
        await page.locator("#toggle-mic").click()
    await eventually(on, "the microphone to be on")


async def frames_grow(page: Page, pid: str, more: int) -> None:
    start = await frames(page, pid)

    async def grown() -> bool:
        return await frames(page, pid) >= start + more

    await eventually(grown, f"{more} more video frames", timeout=MEDIA_TIMEOUT)


async def audio_flows(page: Page, pid: str, more: int = 25) -> None:
    start = await packets(page, pid)

    async def grown() -> bool:
        return await packets(page, pid) >= start + more

    await eventually(grown, "audio packets to arrive", timeout=MEDIA_TIMEOUT)


async def audio_stopped(page: Page, pid: str, slack: int = 3) -> None:
    """``pid``'s audio packets stop arriving at ``page`` while their video goes on: first 15
    frames of their video (time for the change to act, in their frames, not in seconds), then 40
    more, during which at most ``slack`` audio packets (in flight) may arrive."""
    await frames_grow(page, pid, 15)
    before = await packets(page, pid)
    await frames_grow(page, pid, 40)
    grew = await packets(page, pid) - before
    assert grew <= slack, f"{grew} audio packets still arrived"


async def test_two_browsers_and_a_python_peer_see_and_hear_each_other_through_janus(
    start_server: StartServer, janus: JanusProcess, people: People, peers: MakePeer
) -> None:
    server = await sfu_server(start_server, janus)
    room, fac, ann, fac_id, ann_id = await two_browsers(server, people)
    assert await media_path(fac) == "sfu/sfu" and await media_path(ann) == "sfu/sfu"
    await mic_on(fac)
    await mic_on(ann)

    await frames_rising(fac, [ann_id], timeout=MEDIA_TIMEOUT)
    await frames_rising(ann, [fac_id], timeout=MEDIA_TIMEOUT)
    assert await video_width(fac, ann_id) > 0 and await video_width(ann, fac_id) > 0
    await eventually(lambda: heard(fac, ann_id), "Ann to be heard by Fran", timeout=MEDIA_TIMEOUT)
    await eventually(lambda: heard(ann, fac_id), "Fran to be heard by Ann", timeout=MEDIA_TIMEOUT)
    outbound = await fac.evaluate("async () => await window.hearth.mesh.outboundStats()")
    assert outbound["videoSenders"] == 1  # one upload, whoever is in the room

    pat = peers(invite(server, room.id, room.member), "Pat")
    welcome = await pat.join()
    assert welcome["media"]["path"] == "sfu"
    await frames_rising(fac, [pat.id], timeout=MEDIA_TIMEOUT)
    await frames_rising(ann, [pat.id], timeout=MEDIA_TIMEOUT)
    await peer_frames_rising(pat, [fac_id, ann_id])
    await expect(fac.locator("#tiles .tile")).to_have_count(3)


async def test_a_facilitator_mute_stops_the_members_audio_at_the_media_server(
    start_server: StartServer, janus: JanusProcess, people: People
) -> None:
    server = await sfu_server(start_server, janus)
    _room, fac, ann, _fac_id, ann_id = await two_browsers(server, people)
    await mic_on(ann)
    await frames_rising(fac, [ann_id], timeout=MEDIA_TIMEOUT)
    await audio_flows(fac, ann_id)

    await fac.locator(f'#people-list li[data-participant-id="{ann_id}"] .mute').click()
    await eventually(
        lambda: ann.evaluate("() => window.hearth.client.state.you.muted_by_facilitator"),
        "Ann to learn she was muted",
    )
    # A tampered page switches its microphone back on: it sends, but the media server does not
    # forward it (a disabled track would still send packets of silence: these are counted too).
    await ann.evaluate("() => { window.hearth.mesh.localAudioTrack().enabled = true; }")
    await audio_stopped(fac, ann_id)

    await fac.locator(f'#people-list li[data-participant-id="{ann_id}"] .allow-speak').click()
    await eventually(
        lambda: ann.evaluate("() => !window.hearth.client.state.you.muted_by_facilitator"),
        "Ann to be allowed to speak",
    )
    await mic_on(ann)
    await audio_flows(fac, ann_id)


LAYER_WIDTHS = """
async () => {
  const widths = {};
  (await window.hearth.mesh.pub.pc.getStats()).forEach((s) => {
    if (s.type === "outbound-rtp" && s.kind === "video" && s.frameWidth) widths[s.rid] = s.frameWidth;
  });
  return widths;
}
"""


async def test_see_larger_asks_the_media_server_for_the_high_layer(
    start_server: StartServer, janus: JanusProcess, people: People
) -> None:
    server = await sfu_server(start_server, janus)
    room, fac, ann, fac_id, ann_id = await two_browsers(server, people)
    await frames_rising(fac, [ann_id], timeout=MEDIA_TIMEOUT)

    def asked() -> int | None:
        """The layer of Ann's video that the server last asked Janus to send Fran."""
        return asked_layers(server, room.id, fac_id).get(ann_id)

    async def layer() -> str:
        """Which of Ann's layers Fran receives now (by its width as Ann sends it now: a busy
        machine makes Chromium scale every layer down), "" when none matches; "unsent" when Ann's
        browser sends no high layer at the moment (a busy machine may stop encoding it)."""
        width = int((await stats(fac)).get(ann_id, {}).get("frameWidth") or 0)
        sent: dict[str, int] = await ann.evaluate(LAYER_WIDTHS)
        if "h" not in sent:
            return "unsent"
        return "high" if width == sent["h"] else "low" if width == sent.get("l") else ""

    async def at(wanted: str) -> bool:
        return await layer() in (wanted, "unsent")

    await eventually(lambda: asked() == LOW, "the server asking Janus for Ann's low layer")
    await eventually(lambda: at("low"), "Ann at a low layer (nobody holds the floor)", timeout=MEDIA_TIMEOUT)
    tile = fac.locator(f'#tiles article.tile[data-participant-id="{ann_id}"]')
    pin = tile.get_by_role("button", name="See larger: Ann")
    await pin.focus()
    await fac.keyboard.press("Enter")  # keyboard reachable, named, a toggle
    await expect(pin).to_have_attribute("aria-pressed", "true")
    await expect(tile).to_have_class(re.compile(r"\bpinned\b"))
    await eventually(lambda: asked() == HIGH, "the server asking Janus for Ann's high layer")
    await eventually(lambda: at("high"), "Ann at the high layer once pinned", timeout=MEDIA_TIMEOUT)

    await frames_grow(fac, ann_id, 20)
    await pin.click()
    await expect(pin).to_have_attribute("aria-pressed", "false")
    await expect(tile).not_to_have_class(re.compile(r"\bpinned\b"))
    await eventually(lambda: asked() == LOW, "the server asking Janus for Ann's low layer again")
    await eventually(lambda: at("low"), "Ann back at a low layer once unpinned", timeout=MEDIA_TIMEOUT)


def voice_file(folder: Path) -> Path:
    """Two seconds of something like a voice, loud (peaks at half scale), 48 kHz mono: a pitch
    that glides between 120 and 240 Hz with its harmonics, in syllables of a quarter second.
    A steady tone would not do: the browser's noise suppression learns it and takes it away."""
    path = folder / "voice.wav"
    rate = 48_000
    samples = array("h")
    phase = 0.0
    for i in range(rate * 2):
        t = i / rate
        phase += 2 * math.pi * (180 + 60 * math.sin(2 * math.pi * 1.5 * t)) / rate
        syllable = 0.25 + 0.75 * abs(math.sin(2 * math.pi * 2 * t))
        wave_ = math.sin(phase) + 0.5 * math.sin(2 * phase) + 0.25 * math.sin(3 * phase)
        samples.append(int(16_000 * syllable * wave_ / 1.75))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


@pytest.fixture
async def speaker(tmp_path: Path) -> AsyncIterator[People]:
    """People whose fake microphone talks (Chromium's default one only beeps now and then,
    which Janus's talking detection, a level averaged over 2 s, never hears)."""
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={voice_file(tmp_path)}"]
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        crowd = People(launched)
        try:
            yield crowd
        finally:
            await crowd.close()
            await launched.close()
    assert crowd.errors == [], "pages threw uncaught errors"


async def test_the_active_speaker_is_marked_on_their_tile(
    start_server: StartServer, janus: JanusProcess, people: People, speaker: People, tmp_path: Path
) -> None:
    server = await sfu_server(start_server, janus)
    room = await server.create_room(title="Thursday group", media="sfu", lobby=False)
    fac = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await join_through_screens(fac, "Fran")
    await wait_in_room(fac)
    ann = await speaker.open(room_url(server.base_url, room.id, room.member))
    await join_through_screens(ann, "Ann")
    ann_id = await wait_in_room(ann)
    await mic_on(ann)

    tile = fac.locator(f'#tiles article.tile[data-participant-id="{ann_id}"]')
    speaking = re.compile(r"\bspeaking\b")
    await expect(tile).to_have_class(speaking, timeout=MEDIA_TIMEOUT * 1000)
    await expect(tile).to_have_attribute("aria-label", speaking)  # words, not colour alone
    await expect(tile.locator(".tile-speaking")).to_be_visible()
    await expect(fac.locator("#tiles article.tile.speaking")).to_have_count(1)
    await tile.get_by_role("button", name="See larger: Ann").click()
    await expect(tile).to_have_class(re.compile(r"\bpinned\b"))
    # The room in SFU mode, for the docs (HEARTH_UPDATE_SCREENSHOTS=1 writes docs/screenshots).
    target = SCREENSHOTS if os.environ.get("HEARTH_UPDATE_SCREENSHOTS") == "1" else tmp_path
    await fac.locator("#invite-hide").click()
    await fac.screenshot(path=str(target / "sfu-room.png"))

    await ann.locator("#toggle-mic").click()  # she stops: the mark goes
    await expect(tile).not_to_have_class(speaking, timeout=MEDIA_TIMEOUT * 1000)
    await expect(tile).not_to_have_attribute("aria-label", speaking)


async def test_browsers_renegotiate_by_themselves_when_their_janus_is_killed(
    start_server: StartServer, janus_pair: tuple[JanusProcess, JanusProcess], people: People
) -> None:
    first, second = janus_pair
    server = await start_server(janus_urls=(first.url, second.url), janus_secret=first.secret)
    room, fac, ann, fac_id, ann_id = await two_browsers(server, people)
    await mic_on(ann)
    await frames_rising(fac, [ann_id], timeout=MEDIA_TIMEOUT)
    await frames_rising(ann, [fac_id], timeout=MEDIA_TIMEOUT)
    await audio_flows(fac, ann_id)
    for page in (fac, ann):
        await page.evaluate("() => { window.__firstSub = window.hearth.mesh.sub.pc; }")
    state = await server.node.service.state(room.id, with_chat=False)
    assert state is not None and state.sfu is not None
    placed = first if state.sfu.instance == first.url else second
    placed.kill()

    async def renegotiated() -> bool:
        script = "() => Boolean(window.hearth.mesh.sub && window.hearth.mesh.sub.pc !== window.__firstSub)"
        return all([await page.evaluate(script) for page in (fac, ann)])

    await eventually(renegotiated, "new subscriber connections on both pages", timeout=MEDIA_TIMEOUT)
    await frames_rising(fac, [ann_id], timeout=MEDIA_TIMEOUT)
    await frames_rising(ann, [fac_id], timeout=MEDIA_TIMEOUT)
    await audio_flows(fac, ann_id)
    state = await server.node.service.state(room.id, with_chat=False)
    assert state is not None and state.sfu is not None and state.sfu.instance != placed.url

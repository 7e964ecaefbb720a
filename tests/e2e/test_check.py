"""The join screen's "Test my connection" in real Chromium against the server's echo peer.

The server's aiortc peer offers only 127.0.0.1 (``loopback_ice``); Chromium runs with
``--allow-loopback-in-peer-connection``, so the direct path is loopback and nothing leaves the
machine. The relayed case goes through a throwaway coturn on 127.0.0.1.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from rooms.model import Role
from server import tokens
from server.echo import EchoChecks
from tests.e2e.conftest import People, room_url
from tests.polling import eventually
from tests.server.conftest import Running, StartServer, server
from tests.server.echo_helpers import Turn, coturn, loopback_ice, offer_check

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("loopback_ice")]
__all__ = ["coturn", "loopback_ice", "server"]  # fixtures used here by name


def checks(server: Running) -> EchoChecks:
    echo: EchoChecks = server.app.state.checks
    return echo


async def check_stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("async () => await window.hearth.check.stats()")
    return result


async def echo_seen(page: Page) -> None:
    """The echoed video plays in #check-video and keeps decoding."""

    async def decoding() -> bool:
        return int((await check_stats(page))["framesDecoded"]) > 0

    await eventually(decoding, "the echoed video to decode")
    first = int((await check_stats(page))["framesDecoded"])

    async def rising() -> bool:
        return int((await check_stats(page))["framesDecoded"]) > first + 5

    await eventually(rising, "echoed frames to keep coming")
    width = await page.evaluate("() => document.getElementById('check-video').videoWidth")
    assert width > 0


async def test_the_browser_check_receives_its_own_camera_and_microphone(
    server: Running, people: People
) -> None:
    room = await server.create_room()
    page = await people.open(room_url(server.base_url, room.id, room.member))
    button = page.get_by_role("button", name="Test my connection")
    await expect(button).to_have_id("check-button")
    await expect(page.locator("#check-results")).to_have_attribute("aria-live", "polite")
    started = time.monotonic()
    await button.click()
    await expect(page.locator("#check-status")).to_have_text("Your connection works")
    await expect(page.locator("#check-panel")).to_be_visible()
    await expect(page.locator("#check-panel")).to_contain_text("You should see and hear yourself")
    await echo_seen(page)
    await expect(page.locator("#check-path")).to_have_text("direct")
    await expect(page.locator("#check-rtt")).to_have_text(re.compile(r"^\d+ ms$"))
    stats = await check_stats(page)
    assert stats["localCandidateType"] == "host" and stats["connectionState"] == "connected"
    assert stats["frameWidth"] == 320  # the page sends half the preview's 640 px
    assert checks(server).active == 1

    # The microphone comes back too: the fake microphone's beeps reach the echoed level meter.
    async def heard() -> bool:
        level = float(await page.evaluate("() => document.getElementById('check-level').value"))
        return level > 0.01 and int((await check_stats(page))["audioPackets"]) > 0

    await eventually(heard, "the echoed sound on the level meter")
    assert await page.evaluate("() => document.getElementById('check-video').muted")  # sound off by default
    await page.locator("#check-sound").click()
    await expect(page.locator("#check-sound")).to_have_attribute("aria-pressed", "true")
    assert not await page.evaluate("() => document.getElementById('check-video').muted")

    # The page ends its test after 15 s: the connection closes, the server frees the slot and
    # the outcome stays.
    await expect(page.locator("#check-button")).to_have_text("Test my connection", timeout=20_000)
    assert time.monotonic() - started >= 14
    await eventually(lambda: _true(checks(server).active == 0), "the server to end the check", timeout=5)
    await expect(page.locator("#check-status")).to_have_text("Your connection works")
    await expect(page.locator("#check-path")).to_have_text("direct")
    await expect(page.locator("#check-panel")).to_be_hidden()
    assert await page.evaluate("() => window.hearth.check.pc.connectionState") == "closed"


async def _true(value: bool) -> bool:
    return value


async def test_joining_ends_a_running_check(server: Running, people: People) -> None:
    room = await server.create_room(lobby=False)
    page = await people.open(room_url(server.base_url, room.id, room.facilitator))
    await page.locator("#check-button").click()
    await expect(page.locator("#check-status")).to_have_text("Your connection works")
    assert checks(server).active == 1
    await page.locator("#join-name").fill("Fran")
    await page.locator("#join-agree").check()
    await page.locator("#join-button").click()
    await page.locator("#screen-room").wait_for(state="visible")
    await eventually(lambda: _true(checks(server).active == 0), "the check to end when joining", timeout=5)
    assert await page.evaluate("() => window.hearth.check.pc.connectionState") == "closed"


async def test_a_check_beyond_the_limit_is_told_to_try_again(
    start_server: StartServer, people: People
) -> None:
    server = await start_server(check_max=1)
    room = await server.create_room()
    async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=5) as http:
        holder, response = await offer_check(http, room.member, audio=False)
    try:
        assert response.status_code == 200
        page = await people.open(room_url(server.base_url, room.id, room.member))
        await page.locator("#check-button").click()
        await expect(page.locator("#check-status")).to_have_text("The server is busy: try again in a moment")
        await expect(page.locator("#check-button")).to_have_text("Test my connection")
    finally:
        await holder.close()


async def test_a_check_with_an_invalid_link_is_refused(server: Running, people: People) -> None:
    room = await server.create_room()
    forged = tokens.mint_invite(
        "someone-else-" + "q" * 30, room=room.id, role=Role.MEMBER, version=1, ttl_seconds=600
    )
    page = await people.open(room_url(server.base_url, room.id, forged))
    # The page checks its link when it opens: no connection check (and no echo peer) can start
    # from a link that is not valid. The check API's own refusal: tests/server/test_check.py.
    await expect(page.locator("#screen-error")).to_be_visible()
    await expect(page.locator("#check-button")).to_be_hidden()
    assert checks(server).active == 0


@pytest.mark.turn
async def test_in_relay_mode_the_check_goes_through_turn(
    start_server: StartServer, people: People, coturn: Turn
) -> None:
    server = await start_server(turn_urls=coturn.url, turn_secret=coturn.secret, ice_policy="relay")
    room = await server.create_room()
    page = await people.open(room_url(server.base_url, room.id, room.member))
    await page.locator("#check-button").click()
    await expect(page.locator("#check-status")).to_have_text("Your connection works")
    await echo_seen(page)
    await expect(page.locator("#check-path")).to_have_text("relayed through the TURN server")
    assert (await check_stats(page))["localCandidateType"] == "relay"

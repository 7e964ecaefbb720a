"""Browser tests: Debian's Chromium driven by Playwright against a real in-process server.

Each person is a fresh browser context with a fake camera (640x480) and a beeping fake
microphone, as TESTING.md describes. A `Proxy` between pages and server can cut every
connection for real (Playwright's offline mode does not touch open sockets or media).
Every wait is bounded; all traffic stays on 127.0.0.1. Pages that throw uncaught errors fail
the test that opened them.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.polling import eventually
from tests.server.conftest import Room, Running, StartServer, start_server  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--allow-loopback-in-peer-connection",
    "--autoplay-policy=no-user-gesture-required",
]
WAIT_MS = 15_000  # the longest a single UI expectation may take on a busy 2-core machine


class Proxy:
    """A TCP proxy the test controls: ``cut(seconds)`` drops every connection through it and
    refuses new ones for that long, so a page's websocket really breaks."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.refusing_until = 0.0
        self.pipes: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if asyncio.get_running_loop().time() < self.refusing_until:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.pipes.update({writer, up_writer})
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.pipes.discard(writer)
            writer.transport.abort()

    def cut(self, seconds: float) -> None:
        self.refusing_until = asyncio.get_running_loop().time() + seconds
        for writer in list(self.pipes):
            writer.transport.abort()
        self.pipes.clear()

    async def close(self) -> None:
        self.cut(0)
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 5)


@dataclass
class People:
    """Opens one browser context per person and remembers page errors."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def open(self, url: str, *, width: int = 1280, height: int = 800) -> Page:
        context = await self.browser.new_context(
            viewport={"width": width, "height": height}, permissions=["camera", "microphone"]
        )
        self.contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda exc: self.errors.append(f"{url}: {exc}"))
        await page.goto(url)
        return page

    async def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                await context.close()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs it (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def people(browser: Browser) -> AsyncIterator[People]:
    crowd = People(browser)
    yield crowd
    await crowd.close()
    assert crowd.errors == [], "pages threw uncaught errors"


StartProxy = Callable[[Running], Awaitable[Proxy]]


@pytest.fixture
async def start_proxy() -> AsyncIterator[StartProxy]:
    proxies: list[Proxy] = []

    async def start(server: Running) -> Proxy:
        proxy = Proxy(server.port)
        await proxy.start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        await proxy.close()


def room_url(base_url: str, room_id: str, token: str) -> str:
    return f"{base_url}/r/{room_id}#k={token}"


async def join_through_screens(page: Page, name: str) -> None:
    """Fill the join screen as a person would and press Join."""
    await page.locator("#join-name").fill(name)
    await page.locator("#join-agree").check()
    await page.locator("#join-button").click()


async def wait_in_room(page: Page) -> str:
    """Wait for the room screen; the participant id this page has."""
    await page.locator("#screen-room").wait_for(state="visible")
    pid: str = await page.evaluate("() => window.hearth.client.state.you.id")
    return pid


async def in_room(people: People, server: Running, room_id: str, token: str, name: str) -> Page:
    """A person who opened ``token``'s link, joined through the screens and is in the room."""
    page = await people.open(room_url(server.base_url, room_id, token))
    await join_through_screens(page, name)
    await wait_in_room(page)
    return page


async def stats(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("async () => await window.hearth.mesh.stats()")
    return result


async def frames_rising(page: Page, remote_ids: list[str], timeout: float = 30.0) -> None:
    """Every remote participant's video decodes on ``page``: framesDecoded > 0 and rising."""
    first: dict[str, int] = {}

    async def decoded() -> bool:
        now = await stats(page)
        for pid in remote_ids:
            frames = int((now.get(pid) or {}).get("framesDecoded") or 0)
            if frames <= 0:
                return False
            first.setdefault(pid, frames)
        return True

    await eventually(decoded, "remote video to decode", timeout=timeout)

    async def rising() -> bool:
        now = await stats(page)
        return all(int((now.get(pid) or {}).get("framesDecoded") or 0) > first[pid] for pid in remote_ids)

    await eventually(rising, "remote video frames to keep coming", timeout=timeout)

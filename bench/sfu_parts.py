"""The pieces ``bench.sfu`` puts together: a Janus, a Hearth server in this process configured
with it, ``hearth bots`` as child processes, and a Chromium person with a small fake camera.

Bots run in their own processes (``python -m server.cli bots``) so that their encoding and
decoding spread over the machine's cores and their CPU can be read from ``/proc``; their text
report is parsed for the video frame rates they received. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import Browser, Page

from server.app import create_app
from server.cli_serve import uvicorn_config
from server.config import Settings
from server.peers import HearthPeer, LocalMedia
from tests.e2e.conftest import join_through_screens, wait_in_room
from tests.e2e.test_sfu_group import GROUP_CAMERA
from tests.janus import JanusProcess, start_janus

BOT_SIZE = "160x120"
FPS = 10.0
SETTINGS_ENV = {  # the limits a load test would hit first, raised; everything else as shipped
    "HEARTH_MAX_CONNECTIONS_PER_ADDRESS": "0",
    "HEARTH_RATE_PER_SECOND": "1000",
    "HEARTH_RATE_BURST": "1000",
    "HEARTH_LOG_LEVEL": "warning",
}


@dataclass
class Rig:
    base: str
    janus: JanusProcess
    http: httpx.AsyncClient

    async def room(self, media: str, seats: int) -> tuple[str, str, str]:
        """(room id, facilitator token, member token) of a new room without a lobby."""
        body = (
            await self.http.post(
                f"{self.base}/api/rooms",
                json={"title": "bench", "lobby": False, "media": media, "max_participants": seats},
            )
        ).json()
        tokens = (body[k].split("#k=")[1] for k in ("facilitator_link", "member_link"))
        fac, member = tokens
        return body["room"]["id"], fac, member

    def link(self, room: str, token: str) -> str:
        return f"{self.base}/r/{room}#k={token}"


@asynccontextmanager
async def rig() -> AsyncIterator[Rig]:
    """A Janus and a Hearth server configured with it, both on loopback; stopped afterwards."""
    with tempfile.TemporaryDirectory() as folder:
        janus_dir = Path(folder) / "janus"
        janus_dir.mkdir()
        janus = start_janus(janus_dir)
        env = {**SETTINGS_ENV, "HEARTH_JANUS_URLS": janus.url, "HEARTH_JANUS_SECRET": janus.secret}
        settings = Settings.from_env(env, data_dir=Path(folder), secret="b" * 40, port=0)
        server = uvicorn.Server(uvicorn_config(settings, create_app(settings)))
        task = asyncio.create_task(server.serve())
        try:
            for _ in range(1000):
                if server.started:
                    break
                await asyncio.sleep(0.01)
            base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
            async with httpx.AsyncClient(timeout=10) as http:
                yield Rig(base, janus, http)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 15)
            janus.stop()


def start_bots(link: str, count: int, duration: float) -> subprocess.Popen[str]:
    """``hearth bots`` in a child process: ``count`` bots at 160x120, 10 fps."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "server.cli", "bots", link, "--count", str(count)),
            *("--duration", str(duration), "--size", BOT_SIZE, "--fps", str(FPS), "--join-timeout", "60"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def bot_rates(report: str) -> list[float]:
    """Every video frame rate a bot report lists (one per bot and sender)."""
    return [float(x) for x in re.findall(r"([0-9.]+) fps video", report)]


async def finish_bots(bots: list[subprocess.Popen[str]], timeout: float) -> list[str]:
    """Wait (bounded) for the bot processes' reports; a process still running is killed."""
    reports = []
    for process in bots:
        try:
            out, _ = await asyncio.to_thread(process.communicate, None, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        reports.append(out or "")
    return reports


async def open_person(browser: Browser, url: str, name: str) -> tuple[Page, str]:
    """A Chromium person with the fake camera at 640x480 and 10 fps, in the room."""
    context = await browser.new_context(
        viewport={"width": 1024, "height": 700}, permissions=["camera", "microphone"]
    )
    await context.add_init_script(GROUP_CAMERA)
    page = await context.new_page()
    page.set_default_timeout(60_000)
    await page.goto(url)
    await join_through_screens(page, name)
    return page, await wait_in_room(page)


async def upload_rate(page: Page, seconds: float) -> dict[str, float]:
    """Bytes per second this page sends (video, audio; every connection), over ``seconds``."""
    script = "async () => await window.hearth.mesh.outboundStats()"
    start: dict[str, Any] = await page.evaluate(script)
    await asyncio.sleep(seconds)
    end: dict[str, Any] = await page.evaluate(script)
    return {
        kind: (float(end[f"{kind}BytesSent"]) - float(start[f"{kind}BytesSent"])) / seconds
        for kind in ("video", "audio")
    }


def small_peer(link: str, name: str, **media: Any) -> HearthPeer:
    return HearthPeer(link, name, media=LocalMedia(width=160, height=120, fps=FPS, **media))


async def connected(peer: HearthPeer, count: int, timeout: float) -> bool:
    """Wait (bounded) until ``peer`` sees ``count`` connected participants, itself included."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if sum(1 for p in peer.participants.values() if p.get("connected")) >= count:
            return True
        await asyncio.sleep(0.1)
    return False

"""What floor-aware quality saves: video bytes sent per second by one member, without and with
the floor, in a room of five (three Chromium pages with fake cameras, two websocket members).

    python -m bench.floor_quality [--seconds 8]

Runs a real server in this process on a loopback port and Debian's Chromium. Bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

import httpx
import uvicorn
from playwright.async_api import Page, async_playwright
from websockets.asyncio.client import connect

from server.app import create_app
from server.cli_serve import uvicorn_config
from server.config import Settings
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, join_through_screens, room_url, wait_in_room


async def video_rate(page: Page, seconds: float) -> float:
    """Video bytes this page sends per second (all peers), over ``seconds``."""
    script = "async () => (await window.hearth.mesh.outboundStats()).videoBytesSent"
    start = await page.evaluate(script)
    await asyncio.sleep(seconds)
    return float(await page.evaluate(script) - start) / seconds


async def run(seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data:
        settings = Settings.from_env({}, data_dir=Path(data), secret="b" * 40, port=0)
        server = uvicorn.Server(uvicorn_config(settings, create_app(settings)))
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        async with httpx.AsyncClient() as http:
            body = (await http.post(f"{base}/api/rooms", json={"title": "q", "lobby": False})).json()
        room = body["room"]["id"]
        fac, member = (body[k].split("#k=")[1] for k in ("facilitator_link", "member_link"))
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            pages: list[Page] = []
            for name, token in (("Fran", fac), ("Ann", member), ("Bob", member)):
                context = await browser.new_context(permissions=["camera", "microphone"])
                page = await context.new_page()
                await page.goto(room_url(base, room, token))
                await join_through_screens(page, name)
                await wait_in_room(page)
                pages.append(page)
            sockets = []
            for name in ("Cleo", "Dev"):
                ws = await connect(base.replace("http", "ws") + "/ws")
                await ws.send(json.dumps({"type": "join", "token": member, "name": name, "agree": True}))
                sockets.append(ws)
            fran, ann = pages[0], pages[1]
            await asyncio.sleep(seconds)  # let the connections ramp up
            without = await video_rate(ann, seconds)
            ann_id = await ann.evaluate("() => window.hearth.client.state.you.id")
            await fran.locator(f'#people-list li[data-participant-id="{ann_id}"] .give-floor').click()
            await asyncio.sleep(seconds)
            holding = await video_rate(ann, seconds)
            await browser.close()
            for ws in sockets:
                await ws.close()
        server.should_exit = True
        await task
    return {
        "video_bytes_per_s_without_floor": round(without),
        "video_bytes_per_s_with_floor": round(holding),
        "saved_share": round(1 - without / holding, 3) if holding else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8.0)
    print(json.dumps(asyncio.run(run(parser.parse_args().seconds)), indent=2))


if __name__ == "__main__":
    main()

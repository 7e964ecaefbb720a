"""SFU mode against the mesh, side by side in one run (issue 12).

    python -m bench.sfu [--quick] [--out sfu-results.json]

One Janus (Debian's ``janus``, started by ``tests/janus.py`` with its loopback shim) and one
Hearth server in this process configured with it; everything on 127.0.0.1. Bounded in time
(every wait has a limit; bots stay a fixed time).

1. **Upload** of the floor holder and of a listener, mesh vs SFU: two Chromium pages (a
   facilitator who listens, a member who gets the floor; fake camera 640x480 at 10 fps) and
   ``hearth bots`` (160x120, 10 fps) in child processes fill the room. The pages' own
   ``window.hearth.mesh.outboundStats()`` give the bytes sent. The mesh runs at ``--mesh-size``
   (a 10-person mesh does not run on 2 cores), the SFU at ``--sfu-size``; the mesh's figure per
   stream (holder's upload / (N-1)) scales it to any N.
2. **Join to first remote frame**, in both rooms: an aiortc person joins the running room and
   the time from sending ``join`` to its first decoded frame (from anyone, and from everyone).
3. **Mute to last packet** (SFU): the facilitator's page sends the Mute button's command for a
   speaking aiortc person; the member's page notes when audio packets from them last arrived
   (inbound-rtp ``packetsReceived``, read every 10 ms in the page): the time from the command
   to that.
4. **Janus CPU per forwarded stream and the largest room** (``bench.sfu_janus``): rooms of bots
   only, growing, until the lowest frame rate any bot receives falls under 90% of 10 fps.

Prints a table and writes JSON. The machine is shared: read the ratios within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Browser, Page, async_playwright

from bench.report import json_ready
from bench.sfu_janus import janus_capacity
from bench.sfu_parts import Rig, finish_bots, open_person, rig, small_peer, start_bots, upload_rate
from server.peers import HearthPeer
from server.peers.invite import include_loopback_candidates
from tests.e2e.conftest import CHROMIUM
from tests.e2e.test_sfu_group import group_args


@dataclass
class Plan:
    mesh_size: int = 6
    sfu_size: int = 10
    window: float = 8.0  # seconds each upload rate is measured over
    ramp: float = 10.0  # seconds for connections and encoders to settle
    janus_sizes: tuple[int, ...] = (4, 8, 12, 16)
    janus_window: float = 8.0


QUICK = Plan(mesh_size=3, sfu_size=3, window=3.0, ramp=4.0, janus_sizes=(3,), janus_window=3.0)


async def first_frames(peer: HearthPeer, others: int, timeout: float) -> tuple[float | None, float | None]:
    """Seconds from sending ``join`` to the first decoded frame from anyone / from ``others``."""
    loop = asyncio.get_running_loop()
    sent = loop.time()
    await peer.join(timeout)
    deadline = sent + timeout
    first: float | None = None
    while loop.time() < deadline:
        times = [s.first_frame_at for s in peer.stats().values() if s.first_frame_at is not None]
        if times and first is None:
            first = min(times) - sent
        if len(times) >= others:
            return first, max(times) - sent
        await asyncio.sleep(0.02)
    return first, None


WATCH_AUDIO = """(pid) => {
  const watch = { count: -1, last: Date.now() };
  window.__hearthBenchWatch = watch;
  const tick = async () => {
    const stats = await window.hearth.mesh.stats();
    const count = stats[pid]?.audioPacketsReceived ?? 0;
    if (count !== watch.count) { watch.count = count; watch.last = Date.now(); }
    if (!watch.stop) setTimeout(tick, 10);
  };
  tick();
}"""


MUTE = """(pid) => { const now = Date.now(); window.hearth.client.mute(pid); return now; }"""


async def mute_to_last_packet(fac: Page, receiver: Page, speaker: str, quiet: float) -> float | None:
    """Seconds from the facilitator's mute click to the last audio packet from ``speaker`` that
    reaches ``receiver`` (a page: its inbound-rtp ``packetsReceived``, read every 10 ms in the
    page itself, so this process's own load does not delay the reading); None when packets
    never stopped for ``quiet`` seconds within 20 s."""
    await receiver.evaluate(WATCH_AUDIO, speaker)
    await asyncio.sleep(1.0)
    # The command the Mute button sends, sent from the page itself: a Playwright click first
    # waits for the button to be visible and still, which is not the server's time.
    clicked = float(await fac.evaluate(MUTE, speaker))
    for _ in range(200):  # bounded: 20 s
        await asyncio.sleep(0.1)
        now, last = await receiver.evaluate("() => [Date.now(), window.__hearthBenchWatch.last]")
        if now - last > quiet * 1000:
            await receiver.evaluate("() => { window.__hearthBenchWatch.stop = true; }")
            return max(0.0, (float(last) - clicked) / 1000)
    await receiver.evaluate("() => { window.__hearthBenchWatch.stop = true; }")
    return None


async def one_room(rig_: Rig, browser: Browser, media: str, size: int, plan: Plan) -> dict[str, Any]:
    """``size`` people (two pages, the rest bots): upload rates, join time, and (SFU) the mute."""
    room, fac_token, member = await rig_.room(media, size + 3)
    fac, _fac_id = await open_person(browser, rig_.link(room, fac_token), "Fran")
    ann, ann_id = await open_person(browser, rig_.link(room, member), "Ann")
    bots_count = size - 2
    stay = plan.ramp + 2 * plan.window + 40
    procs = [start_bots(rig_.link(room, member), n, stay) for n in split(bots_count)]
    peers: list[HearthPeer] = []
    row: dict[str, Any] = {"media": media, "participants": size, "browsers": 2, "bots": bots_count}
    try:
        await fac.locator(f'#people-list li[data-participant-id="{ann_id}"]').wait_for(timeout=60_000)
        await fac.wait_for_function(
            "(n) => [...window.hearth.client.state.participants.values()]"
            ".filter(p => p.connected).length >= n",
            arg=size,
            timeout=90_000,
        )
        await fac.locator(f'#people-list li[data-participant-id="{ann_id}"] .give-floor').click()
        await asyncio.sleep(plan.ramp)
        holder, listener = await asyncio.gather(upload_rate(ann, plan.window), upload_rate(fac, plan.window))
        row["holder_bytes_per_s"] = holder
        row["listener_bytes_per_s"] = listener
        row["holder_video_per_stream"] = holder["video"] / (size - 1) if media == "mesh" else holder["video"]
        include_loopback_candidates()
        probe = small_peer(rig_.link(room, member), "Probe", audio=False)
        peers.append(probe)
        row["join_to_first_frame_s"], row["join_to_all_frames_s"] = await first_frames(probe, size, 60)
        if media == "sfu":
            speaker = small_peer(rig_.link(room, member), "Speaker", frequency=440)
            peers.append(speaker)
            await speaker.join(30)
            for _ in range(200):  # bounded: the speaker's audio reaches Ann's page
                got = await ann.evaluate(
                    "async (p) => (await window.hearth.mesh.stats())[p]?.audioPacketsReceived", speaker.id
                )
                if (got or 0) > 50:
                    break
                await asyncio.sleep(0.1)
            row["mute_to_last_packet_s"] = await mute_to_last_packet(fac, ann, speaker.id, 2.0)
    finally:
        for peer in peers:
            await asyncio.wait_for(peer.close(), 10)
        for page in (fac, ann):
            await page.context.close()
        for proc in procs:
            proc.terminate()
        await finish_bots(procs, 20)
    return row


def split(count: int) -> list[int]:
    """Bots over two processes (two cores)."""
    return [n for n in (count - count // 2, count // 2) if n > 0]


async def run(plan: Plan) -> dict[str, Any]:
    started = time.monotonic()
    result: dict[str, Any] = {"plan": plan.__dict__, "rooms": [], "janus": {}}
    async with rig() as rig_, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=group_args())
        try:
            for media, size in (("mesh", plan.mesh_size), ("sfu", plan.sfu_size)):
                result["rooms"].append(await one_room(rig_, browser, media, size, plan))
        finally:
            await browser.close()
        result["janus"] = await janus_capacity(rig_, plan.janus_sizes, plan.janus_window)
    mesh, sfu = result["rooms"]
    result["ratios"] = {
        "sfu_holder_video_over_mesh_holder": sfu["holder_bytes_per_s"]["video"]
        / mesh["holder_bytes_per_s"]["video"]
        if mesh["holder_bytes_per_s"]["video"]
        else None,
        "sfu_holder_video_over_mesh_at_sfu_size": sfu["holder_bytes_per_s"]["video"]
        / (mesh["holder_video_per_stream"] * (plan.sfu_size - 1))
        if mesh["holder_video_per_stream"]
        else None,
    }
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def table(result: dict[str, Any]) -> str:
    def kb(value: float | None) -> str:
        return "-" if value is None else f"{value / 1000:.1f}"

    def sec(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = ["| | " + " | ".join(f"{r['media']} ({r['participants']})" for r in result["rooms"]) + " |"]
    lines.append("|---" * (1 + len(result["rooms"])) + "|")
    fields: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("holder upload, video kB/s", lambda r: kb(r["holder_bytes_per_s"]["video"])),
        ("holder upload, audio kB/s", lambda r: kb(r["holder_bytes_per_s"]["audio"])),
        ("listener upload, video kB/s", lambda r: kb(r["listener_bytes_per_s"]["video"])),
        ("holder video per stream kB/s", lambda r: kb(r["holder_video_per_stream"])),
        ("join -> first remote frame, s", lambda r: sec(r.get("join_to_first_frame_s"))),
        ("join -> frames from everyone, s", lambda r: sec(r.get("join_to_all_frames_s"))),
        ("mute -> last audio at a receiver, s", lambda r: sec(r.get("mute_to_last_packet_s"))),
    ]
    for name, get in fields:
        lines.append(f"| {name} | " + " | ".join(get(r) for r in result["rooms"]) + " |")
    lines.append("")
    lines.append(
        "| publishers | forwarded (video) | Janus CPU (cores) | per forwarded stream (% core)"
        " | min fps received | bots CPU (cores) |"
    )
    lines.append("|---|---|---|---|---|---|")
    for step in result["janus"].get("steps", []):
        lines.append(
            f"| {step['publishers']} | {step['forwarded']} | {step['janus_cores']:.3f} | "
            f"{100 * step['per_stream_cores']:.3f} | {step['min_fps']:.1f} | {step['bots_cores']:.2f} |"
        )
    lines.append("")
    lines.append(
        json.dumps(result["ratios"])
        + f"  largest full-rate room: {result['janus'].get('largest')}"
        + f" (limit: {result['janus'].get('limit')})"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small rooms, short windows (a smoke run)")
    parser.add_argument("--out", default="sfu-results.json")
    parser.add_argument("--mesh-size", type=int)
    parser.add_argument("--sfu-size", type=int)
    args = parser.parse_args()
    plan = QUICK if args.quick else Plan()
    if args.mesh_size:
        plan.mesh_size = args.mesh_size
    if args.sfu_size:
        plan.sfu_size = args.sfu_size
    result = asyncio.run(run(plan))
    print(table(result))
    with open(args.out, "w") as out:
        json.dump(json_ready(result), out, indent=2, allow_nan=False)


if __name__ == "__main__":
    main()

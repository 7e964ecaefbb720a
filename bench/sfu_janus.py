"""Janus CPU per forwarded stream, and the largest room one Janus forwards at full frame rate.

Rooms of bots only (``hearth bots`` in two child processes, 160x120 at 10 fps, every bot
publishing audio and video and receiving everyone else), growing in size. Per size: Janus's
CPU from ``/proc`` over a window once everyone is connected, minus Janus's idle CPU measured
before; divided by the video streams it forwards (N x (N-1), each with its audio). The bots'
reports give the frame rate every bot received from every other (mean since the first frame);
a size passes when every stream arrived at 90% of 10 fps or more. The first size that fails
ends the search, and says which limit it hit: the bots' processes (more than 90% of a core
each: their own decoding), Janus (more than 90% of a core), or neither (the shared machine).

A facilitator without media (this process) keeps the session open; it subscribes to nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from bench.processes import cpu_seconds
from bench.sfu_parts import FPS, Rig, bot_rates, connected, finish_bots, start_bots
from server.peers import HearthPeer, LocalMedia
from server.peers.invite import include_loopback_candidates

SETTLE = 6.0  # seconds after everyone is connected before the window starts
FULL_RATE = 0.9


async def cores_over(pids: list[int], seconds: float) -> float:
    """Cores the processes ``pids`` used together over the next ``seconds``."""

    def total() -> float:
        used = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):  # a process that ended meanwhile
                used += cpu_seconds(pid)
        return used

    before = total()
    await asyncio.sleep(seconds)
    return (total() - before) / seconds


async def one_size(rig: Rig, publishers: int, window: float, idle: float) -> dict[str, Any]:
    room, fac_token, member = await rig.room("sfu", publishers + 2)
    include_loopback_candidates()
    host = HearthPeer(rig.link(room, fac_token), "Host", media=LocalMedia(audio=False, video=False))
    await host.join(30)
    host.sfu.stop()  # it neither publishes nor subscribes: Janus forwards only between bots
    stay = SETTLE + window + 15
    procs = [
        start_bots(rig.link(room, member), n, stay)
        for n in (publishers - publishers // 2, publishers // 2)
        if n
    ]
    step: dict[str, Any] = {"publishers": publishers, "forwarded": publishers * (publishers - 1)}
    try:
        step["all_connected"] = await connected(host, publishers + 1, 120)
        await asyncio.sleep(SETTLE)
        janus_cores, bots_cores = await asyncio.gather(
            cores_over([rig.janus.process.pid], window), cores_over([p.pid for p in procs], window)
        )
    finally:
        reports = await finish_bots(procs, stay + 90)
        await asyncio.wait_for(host.close(), 10)
    rates = [rate for report in reports for rate in bot_rates(report)]
    step["janus_cores"] = janus_cores
    step["janus_cores_over_idle"] = janus_cores - idle
    step["per_stream_cores"] = (janus_cores - idle) / step["forwarded"] if step["forwarded"] else 0.0
    step["bots_cores"] = bots_cores
    step["bot_processes"] = len(procs)
    step["streams_received"] = len(rates)
    step["min_fps"] = min(rates) if rates else 0.0
    step["mean_fps"] = sum(rates) / len(rates) if rates else 0.0
    step["full_rate"] = len(rates) >= step["forwarded"] and step["min_fps"] >= FULL_RATE * FPS
    if not rates:
        step["report_tail"] = [report[-400:] for report in reports]
    return step


def limit_of(step: dict[str, Any]) -> str:
    if step["bots_cores"] > 0.9 * step["bot_processes"]:
        return "the bots' own encoding and decoding (each bot process near a full core)"
    if step["janus_cores"] > 0.9:
        return "Janus (near a full core)"
    cores = os.cpu_count() or 1
    used = step["bots_cores"] + step["janus_cores"]
    if used > 0.75 * cores:
        return (
            f"this machine's {cores} cores: the bots' decoding {step['bots_cores']:.2f}"
            f" + Janus {step['janus_cores']:.2f} cores (the bots are the load, not Janus)"
        )
    return "no process near a full core: something else on the machine"


async def janus_capacity(rig: Rig, sizes: tuple[int, ...], window: float) -> dict[str, Any]:
    idle = await cores_over([rig.janus.process.pid], 2.0)
    result: dict[str, Any] = {"idle_cores": idle, "steps": [], "largest": None, "limit": None}
    for publishers in sizes:
        step = await one_size(rig, publishers, window, idle)
        result["steps"].append(step)
        if not step["full_rate"]:
            result["limit"] = limit_of(step)
            break
        result["largest"] = publishers
    else:
        result["limit"] = "not reached: the largest size tried passed"
    return result

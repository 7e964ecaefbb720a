"""Hearth against the raw-websockets floor, side by side in one run (issue 6, first step).

    python -m bench [--quick] [--out bench-results.json] [--deliveries-per-second 10000]

Starts two servers on free loopback ports: the floor (``python -m bench.baseline``, raw
``websockets`` with ``websockets.broadcast``) and one Hearth node (``python -m server.cli serve``
with its rate limits and outbox raised through their documented settings, everything else on).
For each scenario and target, a load generator runs in its own process (``python -m bench.load``)
at a fixed offered rate; server CPU comes from ``/proc/<pid>/stat`` around exactly the measured
phase. Prints a table and writes JSON. Timings on shared machines are noisy, so read the ratio
against the baseline of the same run, not the absolute figures.

Scenarios (this step): S1, 1 room x 50 clients with 10 senders; S2, 100 rooms x 10 clients with
1 sender per room; both at a fixed offered delivery rate (default 10k deliveries/s). ``--quick``
shrinks them (S1: 10 clients for ~1 s; S2: 5 rooms x 4 clients) for the smoke test.

Not done yet (later steps of issue 6): the rising-rate search for max delivered messages/s,
RSS per connection, S3 (join storm), S4 (idle capacity), S5 (two nodes on Redis),
``docs/performance.md`` and profiling.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bench.quick_room import cpu_seconds, free_port

SECRET = "bench-secret-" + "x" * 27  # 40 characters
HEARTH_ENV = {
    "HEARTH_SECRET": SECRET,
    "HEARTH_RATE_PER_SECOND": "1000000",
    "HEARTH_RATE_BURST": "1000000",
    "HEARTH_OUTBOX_SIZE": "100000",
    "HEARTH_LOG_LEVEL": "warning",
}
LOAD_SATURATED = 0.9  # load generator CPU share above which its figures are suspect


@dataclass(frozen=True)
class Scenario:
    name: str
    rooms: int
    clients: int
    senders: int
    duration: float


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [Scenario("S1", 1, 10, 3, 1.0), Scenario("S2", 5, 4, 1, 1.0)]
    return [Scenario("S1", 1, 50, 10, 5.0), Scenario("S2", 100, 10, 1, 5.0)]


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_port(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def wait_healthy(port: int, process: subprocess.Popen[bytes], deadline: float) -> None:
    with httpx.Client(trust_env=False, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"hearth exited with {process.returncode}")
            try:
                if client.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise SystemExit("hearth did not start")


@contextmanager
def servers(data_dir: str) -> Iterator[dict[str, tuple[int, int]]]:
    """Both servers, as {target: (port, pid)}; always stopped on the way out."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        base_port = free_port()
        baseline = subprocess.Popen(
            [sys.executable, "-m", "bench.baseline", "--port", str(base_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        processes.append(baseline)
        hearth_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")} | HEARTH_ENV
        hearth = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(hearth_port),
             "--data-dir", data_dir],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        processes.append(hearth)
        wait_port(base_port, baseline, time.monotonic() + 20)
        wait_healthy(hearth_port, hearth, time.monotonic() + 30)
        yield {"baseline": (base_port, baseline.pid), "hearth": (hearth_port, hearth.pid)}
    finally:
        for process in processes:
            stop(process)


async def run_load(target: str, port: int, pid: int, scenario: Scenario, rate: float) -> dict[str, object]:
    """One load process against one server; server CPU read around the measured phase."""
    command = [sys.executable, "-m", "bench.load", "--target", target, "--port", str(port),
               "--rooms", str(scenario.rooms), "--clients", str(scenario.clients),
               "--senders", str(scenario.senders), "--rate", f"{rate:.3f}",
               "--duration", str(scenario.duration), "--handshake"]
    process = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None

    async def expect(word: str, timeout: float) -> None:
        line = (await asyncio.wait_for(process.stdout.readline(), timeout)).decode().strip()  # type: ignore[union-attr]
        if line != word:
            raise SystemExit(f"load generator for {target} {scenario.name}: expected {word!r}, got {line!r}")

    try:
        await expect("ready", 90)
        cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
        process.stdin.write(b"go\n")
        await process.stdin.drain()
        await expect("measured", scenario.duration + 30)
        server_cpu, wall = cpu_seconds(pid) - cpu0, time.perf_counter() - wall0
        result: dict[str, object] = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        await asyncio.wait_for(process.wait(), 10)
        if process.returncode != 0:
            raise SystemExit(f"load generator for {target} {scenario.name} exited with {process.returncode}")
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
    delivered = int(result["delivered"])  # type: ignore[call-overload]
    result.update({
        "scenario": scenario.name,
        "server_cpu_share": server_cpu / wall,
        "server_cpu_us_per_delivery": server_cpu / delivered * 1e6 if delivered else float("nan"),
        "load_saturated": float(result["load_cpu_share"]) > LOAD_SATURATED,  # type: ignore[arg-type]
    })
    return result


def table(rows: list[dict[str, object]]) -> str:
    floor = {str(r["scenario"]): r for r in rows if r["target"] == "baseline"}
    header = (f"{'target':<9} {'scen':<4} {'deliv/s':>9} {'deliv%':>7} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'srv µs/dlv':>10} {'load CPU':>9} {'x floor':>8} {'x CPU':>6}")
    lines = [header, "-" * len(header)]
    for r in rows:
        base = floor.get(str(r["scenario"]))
        ratio = cpu_ratio = float("nan")
        if base:
            ratio = float(r["delivered_per_second"]) / float(base["delivered_per_second"])  # type: ignore[arg-type]
            cpu_ratio = float(r["server_cpu_us_per_delivery"]) / float(base["server_cpu_us_per_delivery"])  # type: ignore[arg-type]
        load = f"{float(r['load_cpu_share']):.0%}" + ("!" if r["load_saturated"] else "")  # type: ignore[arg-type]
        lines.append(
            f"{r['target']!s:<9} {r['scenario']!s:<4} {float(r['delivered_per_second']):>9.0f} "  # type: ignore[arg-type]
            f"{float(r['delivered_fraction']):>7.1%} {float(r['latency_ms_p50']):>8.2f} "  # type: ignore[arg-type]
            f"{float(r['latency_ms_p99']):>8.2f} {float(r['server_cpu_us_per_delivery']):>10.1f} "  # type: ignore[arg-type]
            f"{load:>9} {ratio:>8.2f} {cpu_ratio:>6.2f}")
    if any(r["load_saturated"] for r in rows):
        lines.append(f"! load generator above {LOAD_SATURATED:.0%} CPU: "
                     "it may be the bottleneck, not the server")
    lines.append("At a fixed offered rate, deliv/s near the offer means both keep up: compare latency and "
                 "server CPU per delivery.")
    return "\n".join(lines)


async def bench(quick: bool, deliveries_per_second: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as data, servers(data) as targets:
        for scenario in scenarios(quick):
            rate = deliveries_per_second / scenario.clients  # chat messages/s over all senders
            for target in ("baseline", "hearth"):
                port, pid = targets[target]
                rows.append(await run_load(target, port, pid, scenario, rate))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenarios, finishes in seconds")
    parser.add_argument("--out", default="bench-results.json", help="where to write the JSON results")
    parser.add_argument("--deliveries-per-second", type=float, default=None,
                        help="offered deliveries/s per scenario (default 10000, 2000 with --quick)")
    args = parser.parse_args()
    rate = args.deliveries_per_second or (2000.0 if args.quick else 10000.0)
    rows = asyncio.run(bench(args.quick, rate))
    print(table(rows))
    with open(args.out, "w") as out:
        json.dump({"quick": args.quick, "offered_deliveries_per_second": rate, "python": sys.version,
                   "results": rows}, out, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

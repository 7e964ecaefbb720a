"""Hearth against the raw-websockets floor, side by side in one run (issue 6).

    python -m bench [--quick] [--scenarios S1,S2,S3,S4,S5] [--load-procs N] [--out bench-results.json]
                    [--profile DIR]

Targets: the floor (``python -m bench.baseline``: raw ``websockets``, ``websockets.broadcast``,
serialize once) and Hearth (``python -m server.cli serve``, its rate limits and outbox raised
through their documented settings, everything else on), each started fresh for each scenario
on a free loopback port and stopped after it. Clients are lean protocol-level websocket clients
(``bench.wsclient``) in separate load processes (``bench.load``, default 2, 1 with ``--quick``),
which report their own CPU; server CPU is read from ``/proc/PID/stat`` around exactly each
measured step, RSS from ``/proc/PID/status``.

Scenarios (``bench.scenarios`` has the method):

- S1: 1 room x 50 clients, 10 senders; S2: 100 rooms x 10 clients, 1 sender per room. Rising
  offered rate (x1.4 per step from 10k deliveries/s) until p99 > 100 ms or < 99 % delivered:
  max delivered/s; p50/p99 and server CPU per delivery at 10k deliveries/s; RSS per connection.
- S3: join storm, 500 joins within 10 s over 50 rooms: join latency p50/p99.
- S4: idle capacity, 5,000 participants in 500 rooms: RSS per connection.
- S5: S2 traffic on two Hearth nodes sharing one redis-server vs one node on Redis.
- ABUSE: another room's chat latency without and with one room's abusive member (``bench.abuse``).

Prints one table per kind and every traffic step, writes JSON. Timings on shared machines are
noisy: read the ratios against the floor of the same run. ``--quick`` shrinks every scenario to
a smoke test (well under a minute); the full run takes several minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.processes import machine_cpu_seconds
from bench.profile import py_spy
from bench.report import json_ready, steps_table, tables
from bench.scenarios import Row, make_plan, run_scenario

SCENARIOS = ("S1", "S2", "S3", "S4", "S5", "ABUSE")


def other_cpu_now(seconds: float = 1.0) -> float:
    """Cores the machine keeps busy now, before the benchmark starts anything."""
    before = machine_cpu_seconds()
    time.sleep(seconds)
    return (machine_cpu_seconds() - before) / seconds


def raise_file_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit; servers and load processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def bench(
    names: list[str], quick: bool, load_procs: int | None, profile_dir: Path | None = None
) -> tuple[list[Row], list[str]]:
    plan = make_plan(quick, load_procs, profile_dir)
    rows: list[Row] = []
    errors: list[str] = []
    for name in names:
        started = time.perf_counter()
        try:
            rows += await asyncio.wait_for(run_scenario(name, plan), plan.scenario_timeout)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        print(f"{name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return rows, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small scenarios, a smoke test")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated, e.g. S1,S3")
    parser.add_argument(
        "--load-procs", type=int, default=None, help="load processes (default 2; 1 with --quick)"
    )
    parser.add_argument("--out", default="bench-results.json", help="where to write the JSON results")
    parser.add_argument(
        "--profile", type=Path, default=None, metavar="DIR",
        help="py-spy profiles of every server in S1, S2 and S5 (fixed step, and a step at the max) into DIR",
    )  # fmt: skip
    args = parser.parse_args()
    names = [name.strip().upper() for name in args.scenarios.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or not names:
        parser.error(f"unknown scenarios {unknown}; choose from {','.join(SCENARIOS)}")
    if args.load_procs is not None and not 1 <= args.load_procs <= 8:
        parser.error("--load-procs must be 1-8")
    raise_file_limit()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: children stopped too
    busy = other_cpu_now()
    if busy > 0.2:
        print(f"warning: {busy:.2f} cores already busy before the benchmark: figures will be noisy",
              file=sys.stderr, flush=True)  # fmt: skip
    started = time.perf_counter()
    try:
        if args.profile is not None:
            py_spy()  # fail now, not after minutes of benchmark
        rows, errors = asyncio.run(bench(names, args.quick, args.load_procs, args.profile))
    except KeyboardInterrupt:  # asyncio.run has cancelled the scenario: its processes are stopped
        raise SystemExit("interrupted") from None
    wall = time.perf_counter() - started
    print(tables(rows))
    if steps := steps_table(rows):
        print(f"\n{steps}")
    print(f"\nwall time {wall:.0f} s")
    with open(args.out, "w") as out:
        results = {
            "quick": args.quick,
            "scenarios": names,
            "load_procs": args.load_procs or (1 if args.quick else 2),
            "python": sys.version,
            "wall_seconds": wall,
            "errors": errors,
            "busy_cores_before": busy,
            "results": [asdict(row) for row in rows],
        }
        json.dump(json_ready(results), out, indent=2, allow_nan=False)
    print(f"wrote {args.out}")
    if errors:
        raise SystemExit("failed: " + "; ".join(errors))


if __name__ == "__main__":
    main()

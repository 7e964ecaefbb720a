"""The five scenarios of issue 6, each run against a fresh server so one cannot disturb the next.

- S1/S2 (``fanout``): rooms made, then server RSS, then every client joins (``driver.join``),
  the server settles, RSS again: (after - before) / connections. Then one step at the fixed
  rate (10k deliveries/s) for latency and server CPU per delivery, then the rising-rate
  search over the same connections: the offered rate grows by ``growth`` per step until a step
  fails (p99 > 100 ms, < 99 % delivered, or a connection closed) and fails again when retried
  (the machine is shared: one stall should not end a search), then ``refine`` steps bisect
  (geometrically) between the last pass and the first failure. The maximum is the highest
  delivered rate of a passing step; if no step failed (step count or time ran out), it is
  marked as a lower bound.
- S3 (``join_storm``): rooms made first; joins scheduled evenly over the storm, facilitators
  of all rooms first (client ``k`` of room ``r`` is join number ``k * rooms + r``).
- S4 (``idle``): every participant joins (bounded concurrency), the server settles, RSS
  (after - before) / connections.
- S5: the S2 shape and search on one Hearth node on Redis, then on two nodes
  on a fresh Redis with each room's clients dealt over both nodes (even indexes on the first,
  odd on the second). Redis CPU is reported apart.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.abuse import AbuseRow, run_abuse
from bench.driver import (
    JoinResult,
    LoadProc,
    Step,
    Target,
    create_rooms,
    floor_target,
    hearth_target,
    join,
    join_percentiles,
    load_procs,
    place,
    traffic_step,
    wait_idle,
)
from bench.nodes import redis_server
from bench.profile import profiled

MIB = 1024 * 1024


@dataclass(frozen=True)
class Shape:
    rooms: int
    size: int  # clients per room
    senders: int = 0  # per room


@dataclass(frozen=True)
class Plan:
    quick: bool
    load_procs: int
    step_seconds: float
    max_steps: int
    retries: int  # a failing rising step is run again this many times: noise must not end a search
    refine: int  # bisection steps after the first failing step
    growth: float
    search_start: float  # deliveries/s of the first search step (S1, S2)
    search_timeout: float  # bound on one search's wall time
    fixed_rate: float
    fixed_seconds: float
    s1: Shape
    s2: Shape
    s3: Shape
    s3_seconds: float
    s4: Shape
    s5: Shape
    s5_start: float
    s5_max_steps: int
    scenario_timeout: float
    abuse_messages: int = 200  # room A's chats per phase, 8 a second
    abuse_fill: float = 15.0  # seconds of abuse before room A is measured again
    profile_dir: Path | None = None  # py-spy profiles of the fixed step and of a step at the max


def make_plan(quick: bool, load_procs: int | None, profile_dir: Path | None = None) -> Plan:
    if quick:
        return Plan(
            profile_dir=profile_dir,
            quick=True,
            load_procs=load_procs or 1,
            step_seconds=0.6,
            max_steps=2,
            retries=0,
            refine=0,
            growth=1.4,
            search_start=2000,
            search_timeout=20,
            fixed_rate=2000,
            fixed_seconds=0.6,
            s1=Shape(1, 10, 3),
            s2=Shape(5, 4, 1),
            s3=Shape(4, 10),
            s3_seconds=2.0,
            s4=Shape(20, 10),
            s5=Shape(5, 4, 1),
            s5_start=1000,
            s5_max_steps=2,
            scenario_timeout=60,
            abuse_messages=16,
            abuse_fill=2.0,
        )
    return Plan(
        profile_dir=profile_dir,
        quick=False,
        load_procs=load_procs or 2,
        step_seconds=2.5,
        max_steps=12,
        retries=1,
        refine=2,
        growth=1.4,
        search_start=10_000,
        search_timeout=120,
        fixed_rate=10_000,
        fixed_seconds=3.0,
        s1=Shape(1, 50, 10),
        s2=Shape(100, 10, 1),
        s3=Shape(50, 10),
        s3_seconds=10.0,
        s4=Shape(500, 10),
        s5=Shape(100, 10, 1),
        s5_start=2000,
        s5_max_steps=14,
        scenario_timeout=300,
    )


@dataclass
class FanoutRow:
    scenario: str
    target: str
    rooms: int
    clients_per_room: int
    senders_per_room: int
    connections: int
    joined: int
    join_retries: list[str]  # joins that got no welcome at first and were tried again
    join_ms_p50: float | None
    join_ms_p99: float | None
    rss_before_mib: float
    rss_after_mib: float
    rss_per_connection_kib: float
    fixed: Step | None
    steps: list[Step] = field(default_factory=list)
    max_delivered_per_second: float | None = None  # highest delivered rate of a passing step
    max_is_lower_bound: bool = False  # no step failed: the limit lies higher
    delivered: int = 0  # over every step
    kind: str = "fanout"


@dataclass
class JoinRow:
    scenario: str
    target: str
    planned: int
    joined: int
    failed: int
    errors: list[str]
    storm_seconds: float
    connect_ms_p50: float | None  # TCP connect start -> welcome
    connect_ms_p99: float | None
    join_ms_p50: float | None  # join sent -> welcome
    join_ms_p99: float | None
    server_cpu_ms_per_join: float | None
    load_cpu_share_max: float
    kind: str = "joins"


@dataclass
class IdleRow:
    scenario: str
    target: str
    planned: int
    joined: int
    failed: int
    errors: list[str]
    rss_before_mib: float
    rss_after_mib: float
    rss_per_connection_kib: float | None
    join_seconds: float
    connect_ms_p50: float | None
    connect_ms_p99: float | None
    kind: str = "idle"


Row = FanoutRow | JoinRow | IdleRow | AbuseRow


def require_joined(result: JoinResult) -> None:
    if result.failed:
        raise RuntimeError(f"{result.failed} of {result.planned} joins failed: {result.errors}")


async def search(
    procs: list[LoadProc], target: Target, size: int, start: float, max_steps: int, plan: Plan
) -> tuple[list[Step], bool]:
    """Rising offered rate until a step fails, then ``plan.refine`` bisection steps. Also says
    whether a limit was found (False: the step count or time ran out first)."""
    steps: list[Step] = []
    deadline = time.monotonic() + plan.search_timeout
    rate, passed_rate, failed_rate = start, 0.0, 0.0
    for _ in range(max_steps):
        if time.monotonic() > deadline:
            break
        step = await traffic_step(procs, target, rate, size, plan.step_seconds)
        steps.append(step)
        for _ in range(plan.retries):
            if step.passed:
                break
            await wait_idle(target, 15)  # the failed step's backlog
            step = await traffic_step(procs, target, rate, size, plan.step_seconds)
            steps.append(step)
        if not step.passed:
            failed_rate = rate
            break
        passed_rate = rate
        rate *= plan.growth
    if failed_rate and passed_rate:
        for _ in range(plan.refine):
            if time.monotonic() > deadline:
                break
            await wait_idle(target, 15)  # the failed step's backlog
            rate = (passed_rate * failed_rate) ** 0.5
            step = await traffic_step(procs, target, rate, size, plan.step_seconds)
            steps.append(step)
            if step.passed:
                passed_rate = rate
            else:
                failed_rate = rate
    return steps, failed_rate > 0


async def fanout(
    scenario: str, target: Target, shape: Shape, plan: Plan, start: float, max_steps: int, fixed: bool
) -> FanoutRow:
    rooms = await create_rooms(target, shape.rooms, shape.size)
    await wait_idle(target, 5)
    async with load_procs(plan.load_procs) as procs:
        placed = place(shape.rooms, shape.size, shape.senders, len(procs), target.ports)
        rss_before = target.rss()
        # A join that gets no answer is tried once more: this scenario measures traffic, and the
        # failed tries are reported (S5 on two nodes: a first join on the second node can hang).
        joined = await join(procs, target, rooms, placed, concurrency=50, timeout=5, attempts=2)
        require_joined(joined)
        await wait_idle(target, 10)
        rss_after = target.rss()
        connections = shape.rooms * shape.size
        p50, p99 = join_percentiles(joined.connect_ms)
        row = FanoutRow(
            scenario=scenario,
            target=target.name,
            rooms=shape.rooms,
            clients_per_room=shape.size,
            senders_per_room=shape.senders,
            connections=connections,
            joined=joined.joined,
            join_retries=joined.retried,
            join_ms_p50=p50,
            join_ms_p99=p99,
            rss_before_mib=rss_before / MIB,
            rss_after_mib=rss_after / MIB,
            rss_per_connection_kib=(rss_after - rss_before) / connections / 1024,
            fixed=None,
        )
        label = f"{scenario}-{target.name}"
        if fixed:
            async with profiled(target.pids, plan.profile_dir, f"{label}-fixed", plan.fixed_seconds):
                row.fixed = await traffic_step(procs, target, plan.fixed_rate, shape.size, plan.fixed_seconds)
        row.steps, limit_found = await search(procs, target, shape.size, start, max_steps, plan)
        passing = [step for step in row.steps if step.passed]
        if plan.profile_dir is not None and passing:  # one more step at the best passing offer
            top = max(passing, key=lambda step: step.delivered_per_second)
            await wait_idle(target, 15)
            seconds = 2 * plan.step_seconds  # longer than a search step: more samples
            async with profiled(target.pids, plan.profile_dir, f"{label}-max", seconds):
                await traffic_step(procs, target, top.offered_deliveries_per_second, shape.size, seconds)
    passing_rates = [step.delivered_per_second for step in row.steps if step.passed]
    row.max_delivered_per_second = max(passing_rates, default=None)
    row.max_is_lower_bound = not limit_found
    row.delivered = sum(step.delivered for step in row.steps) + (row.fixed.delivered if row.fixed else 0)
    return row


async def join_storm(scenario: str, target: Target, shape: Shape, seconds: float, plan: Plan) -> JoinRow:
    rooms = await create_rooms(target, shape.rooms, shape.size)
    await wait_idle(target, 5)
    total = shape.rooms * shape.size
    async with load_procs(plan.load_procs) as procs:
        placed = place(shape.rooms, shape.size, 0, len(procs), target.ports)
        for clients in placed:
            for client in clients:
                client.at = (client.index * shape.rooms + client.room) * seconds / total
        cpu0 = target.cpu()
        result = await join(procs, target, rooms, placed, concurrency=total, start_delay=0.5)
        server_cpu = target.cpu() - cpu0
    connect = join_percentiles(result.connect_ms)
    sent = join_percentiles(result.join_ms)
    return JoinRow(
        scenario=scenario,
        target=target.name,
        planned=result.planned,
        joined=result.joined,
        failed=result.failed,
        errors=result.errors,
        storm_seconds=seconds,
        connect_ms_p50=connect[0],
        connect_ms_p99=connect[1],
        join_ms_p50=sent[0],
        join_ms_p99=sent[1],
        server_cpu_ms_per_join=server_cpu / result.joined * 1000 if result.joined else None,
        load_cpu_share_max=result.load_cpu_share_max,
    )


async def idle(scenario: str, target: Target, shape: Shape, plan: Plan) -> IdleRow:
    rooms = await create_rooms(target, shape.rooms, shape.size)
    await wait_idle(target, 10)
    async with load_procs(plan.load_procs) as procs:
        placed = place(shape.rooms, shape.size, 0, len(procs), target.ports)
        rss_before = target.rss()
        result = await join(procs, target, rooms, placed, concurrency=100)
        await wait_idle(target, 30)
        await asyncio.sleep(1.0)
        rss_after = target.rss()
    connect = join_percentiles(result.connect_ms)
    return IdleRow(
        scenario=scenario,
        target=target.name,
        planned=result.planned,
        joined=result.joined,
        failed=result.failed,
        errors=result.errors,
        rss_before_mib=rss_before / MIB,
        rss_after_mib=rss_after / MIB,
        rss_per_connection_kib=(rss_after - rss_before) / result.joined / 1024 if result.joined else None,
        join_seconds=result.seconds,
        connect_ms_p50=connect[0],
        connect_ms_p99=connect[1],
    )


async def run_scenario(name: str, plan: Plan) -> list[Row]:
    """Both targets of one scenario (S5: one node and two nodes on Redis)."""
    rows: list[Row] = []
    if name == "ABUSE":  # Hearth alone: the floor has no rooms to abuse
        return [await run_abuse(plan.abuse_messages, 0.125, plan.abuse_fill)]
    if name == "S5":
        for nodes in (1, 2):
            with tempfile.TemporaryDirectory(prefix="hearth-redis-") as directory:
                with redis_server(directory) as (url, redis_pid):
                    async with hearth_target(f"hearth-redis-{nodes}", nodes, url, redis_pid) as target:
                        rows.append(
                            await fanout(name, target, plan.s5, plan, plan.s5_start, plan.s5_max_steps, False)
                        )
        return rows
    for start_target in (floor_target, hearth_target):
        async with start_target() as target:
            if name in ("S1", "S2"):
                shape = plan.s1 if name == "S1" else plan.s2
                rows.append(await fanout(name, target, shape, plan, plan.search_start, plan.max_steps, True))
            elif name == "S3":
                rows.append(await join_storm(name, target, plan.s3, plan.s3_seconds, plan))
            elif name == "S4":
                rows.append(await idle(name, target, plan.s4, plan))
            else:
                raise ValueError(f"unknown scenario {name}")
    return rows

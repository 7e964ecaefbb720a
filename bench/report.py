"""Tables: one per kind of scenario, each figure next to its ratio against the floor of the same run."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from bench.abuse import AbuseRow, abuse_table
from bench.driver import LOAD_SATURATED, Step
from bench.scenarios import FanoutRow, IdleRow, JoinRow, Row

R = TypeVar("R", FanoutRow, JoinRow, IdleRow)


def json_ready(value: object) -> object:
    """``value`` with every NaN or infinity (a percentile of no samples, a ratio over zero) as None:
    ``json.dump`` would write them as ``NaN``, which is not JSON, and a reader expecting a number
    would parse a figure that is not one. None is written as ``null``: no figure."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value


def num(value: float | None, digits: int = 0, width: int = 8) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width},.{digits}f}"


def vs_floor(rows: Sequence[R], row: R, value: Callable[[R], float | None], width: int = 7) -> str:
    """``value`` of ``row`` over the same figure of the floor's row of that scenario."""
    floor = next((value(r) for r in rows if r.scenario == row.scenario and r.target == "baseline"), None)
    mine = value(row)
    if mine is None or not floor:
        return f"{'-':>{width}}"
    return f"{mine / floor:>{width}.2f}"


def load_cell(step: Step | None) -> str:
    """Load processes at a step: busiest one's share of a core / sum, '!' when one saturated."""
    if step is None:
        return "-"
    mark = "!" if step.load_saturated else ""
    return f"{max(step.load_cpu_shares):.0%}/{sum(step.load_cpu_shares):.0%}{mark}"


def all_steps(row: FanoutRow) -> list[Step]:
    return ([row.fixed] if row.fixed else []) + row.steps


def best_step(row: FanoutRow) -> Step | None:
    passing = [step for step in row.steps if step.passed]
    return max(passing, key=lambda step: step.delivered_per_second, default=None)


def max_delivered(row: FanoutRow) -> float | None:
    return row.max_delivered_per_second


def fixed_cpu(row: FanoutRow) -> float | None:
    return row.fixed.server_cpu_us_per_delivery if row.fixed else None


def rss_per_connection(row: FanoutRow | IdleRow) -> float | None:
    return row.rss_per_connection_kib


def bound(row: FanoutRow) -> str:
    """'≥' when no step failed: the search ran out of steps or time below the limit."""
    return "≥" if row.max_is_lower_bound and row.max_delivered_per_second else " "


def fanout_table(rows: list[FanoutRow]) -> str:
    head = (
        f"{'scen':<4} {'target':<9} {'max dlv/s':>10} {'x floor':>7} | {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv µs/dlv':>10} {'x floor':>7} | {'RSS KiB/conn':>12} {'x floor':>7} | "
        f"{'load@top':>10} {'mach':>5} {'other':>5} {'steps':>5}"
    )
    rate = next((row.fixed.offered_deliveries_per_second for row in rows if row.fixed), 0.0)
    lines = [
        "S1/S2: fan-out. max: best passing step of the rising-rate search; p50/p99 and server CPU at the "
        f"fixed rate ({rate:,.0f} deliveries/s); load@top: busiest load process / all, at the last step.",
        head,
        "-" * len(head),
    ]
    for row in rows:
        fixed, top = row.fixed, (row.steps[-1] if row.steps else None)
        other = max((step.other_cpu for step in all_steps(row)), default=None)
        lines.append(
            f"{row.scenario:<4} {row.target:<9} {bound(row)}{num(row.max_delivered_per_second, 0, 9)} "
            f"{vs_floor(rows, row, max_delivered)} | {num(fixed.latency_ms_p50 if fixed else None, 2, 7)} "
            f"{num(fixed.latency_ms_p99 if fixed else None, 2, 7)} {num(fixed_cpu(row), 2, 10)} "
            f"{vs_floor(rows, row, fixed_cpu)} | {num(row.rss_per_connection_kib, 1, 12)} "
            f"{vs_floor(rows, row, rss_per_connection)} | {load_cell(top):>10} "
            f"{num(top.machine_cpu_share * 100 if top else None, 0, 4)}% {num(other, 2, 5)} "
            f"{len(row.steps):>5}"
        )
    lines.append(
        f"'!' after load@top: a load process above {LOAD_SATURATED:.0%} of a core, it may be the limit; "
        "mach: server + load CPU over all cores at the last step;\nother: most cores used during a step "
        "by processes outside the benchmark (noise)."
    )
    return "\n".join(lines)


def connect_p99(row: JoinRow) -> float | None:
    return row.connect_ms_p99


def join_p99(row: JoinRow) -> float | None:
    return row.join_ms_p99


def join_table(rows: list[JoinRow]) -> str:
    head = (
        f"{'target':<9} {'joins':>9} {'conn p50':>9} {'conn p99':>9} {'x floor':>7} {'join p50':>9} "
        f"{'join p99':>9} {'x floor':>7} {'srv ms/join':>11} {'load':>6}"
    )
    seconds = rows[0].storm_seconds if rows else 0
    lines = [
        f"S3: join storm within {seconds:g} s (ms); conn: from starting the TCP connect to welcome (floor: "
        "joined); join: from sending join to it.",
        head,
        "-" * len(head),
    ]
    for row in rows:
        lines.append(
            f"{row.target:<9} {f'{row.joined}/{row.planned}':>9} {num(row.connect_ms_p50, 2, 9)} "
            f"{num(row.connect_ms_p99, 2, 9)} {vs_floor(rows, row, connect_p99)} "
            f"{num(row.join_ms_p50, 2, 9)} {num(row.join_ms_p99, 2, 9)} {vs_floor(rows, row, join_p99)} "
            f"{num(row.server_cpu_ms_per_join, 2, 11)} {row.load_cpu_share_max:>6.0%}"
        )
        if row.errors:
            lines.append(f"  errors: {row.errors}")
    return "\n".join(lines)


def idle_table(rows: list[IdleRow]) -> str:
    head = (
        f"{'target':<9} {'connected':>11} {'RSS before MiB':>14} {'after MiB':>10} {'KiB/conn':>9} "
        f"{'x floor':>7} {'join s':>7} {'conn p99 ms':>11}"
    )
    lines = [
        "S4: idle capacity; RSS per connection = (after all joined and settled - before) / joined.",
        head,
        "-" * len(head),
    ]
    for row in rows:
        lines.append(
            f"{row.target:<9} {f'{row.joined}/{row.planned}':>11} {num(row.rss_before_mib, 1, 14)} "
            f"{num(row.rss_after_mib, 1, 10)} {num(row.rss_per_connection_kib, 1, 9)} "
            f"{vs_floor(rows, row, rss_per_connection)} {num(row.join_seconds, 1, 7)} "
            f"{num(row.connect_ms_p99, 1, 11)}"
        )
        if row.errors:
            lines.append(f"  errors: {row.errors}")
    return "\n".join(lines)


def two_nodes_table(rows: list[FanoutRow]) -> str:
    head = (
        f"{'layout':<15} {'max dlv/s':>10} {'x 1 node':>8} {'p99 ms':>7} {'node µs/dlv':>11} "
        f"{'redis µs/dlv':>12} {'redis CPU':>9} {'load@top':>10} {'steps':>5}"
    )
    lines = [
        "S5: S2 traffic on Hearth with a Redis store; p99 and CPU at the best passing step.",
        head,
        "-" * len(head),
    ]
    one = next((r.max_delivered_per_second for r in rows if r.target == "hearth-redis-1"), None)
    for row in rows:
        best = best_step(row)
        times = (
            f"{row.max_delivered_per_second / one:>8.2f}"
            if one and row.max_delivered_per_second
            else "       -"
        )
        redis_share = best.redis_cpu_share if best else None
        lines.append(
            f"{row.target:<15} {bound(row)}{num(row.max_delivered_per_second, 0, 9)} {times} "
            f"{num(best.latency_ms_p99 if best else None, 2, 7)} "
            f"{num(best.server_cpu_us_per_delivery if best else None, 1, 11)} "
            f"{num(best.redis_cpu_us_per_delivery if best else None, 1, 12)} "
            f"{num(redis_share * 100 if redis_share is not None else None, 0, 8)}% "
            f"{load_cell(row.steps[-1] if row.steps else None):>10} {len(row.steps):>5}"
        )
    return "\n".join(lines)


def retries_note(rows: list[FanoutRow]) -> list[str]:
    return [
        f"{row.scenario} {row.target}: {len(row.join_retries)} joins got no welcome in time and were "
        f"retried, e.g. {row.join_retries[0]}"
        for row in rows
        if row.join_retries
    ]


def tables(rows: list[Row]) -> str:
    fan = [r for r in rows if isinstance(r, FanoutRow) and r.scenario != "S5"]
    joins = [r for r in rows if isinstance(r, JoinRow)]
    idle = [r for r in rows if isinstance(r, IdleRow)]
    two = [r for r in rows if isinstance(r, FanoutRow) and r.scenario == "S5"]
    abused = [r for r in rows if isinstance(r, AbuseRow)]
    parts = []
    if fan:
        parts.append("\n".join([fanout_table(fan), *retries_note(fan)]))
    if joins:
        parts.append(join_table(joins))
    if idle:
        parts.append(idle_table(idle))
    if two:
        parts.append("\n".join([two_nodes_table(two), *retries_note(two)]))
    if abused:
        parts.append(abuse_table(abused))
    return "\n\n".join(parts)


def steps_table(rows: list[Row]) -> str:
    """Every traffic step, for reading how each search went ("" when no scenario had traffic)."""
    traffic = [row for row in rows if isinstance(row, FanoutRow)]
    if not traffic:
        return ""
    head = (
        f"{'scen':<4} {'target':<15} {'offered':>9} {'deliv/s':>9} {'deliv%':>7} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'srv µs/dlv':>10} {'srv CPU':>7} {'load':>10} {'other':>5} {'err/cl':>6} {'pass':>4}"
    )
    lines = [
        "Every traffic step (the first of each row is the fixed-rate step, except in S5); err/cl: error "
        "frames received / connections closed by the server.",
        head,
    ]
    for row in traffic:
        for step in all_steps(row):
            lines.append(
                f"{row.scenario:<4} {row.target:<15} {step.offered_deliveries_per_second:>9,.0f} "
                f"{step.delivered_per_second:>9,.0f} {step.delivered_fraction:>7.1%} "
                f"{num(step.latency_ms_p50, 2)} {num(step.latency_ms_p99, 2)} "
                f"{num(step.server_cpu_us_per_delivery, 2, 10)} {step.server_cpu_share:>7.0%} "
                f"{load_cell(step):>10} {step.other_cpu:>5.2f} {f'{step.errors}/{step.closed}':>6} "
                f"{'yes' if step.passed else 'no':>4}"
            )
    for row in traffic:
        samples = sorted({step.error_sample for step in all_steps(row) if step.error_sample})
        lines += [f"{row.scenario} {row.target} got error frames such as {sample}" for sample in samples]
    return "\n".join(lines)

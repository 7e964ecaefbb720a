"""The parent's side of the benchmark: servers, rooms, load processes, and one traffic step.

- Servers: the floor (``python -m bench.baseline``) and Hearth nodes (started and stopped the way
  ``bench.nodes`` does, optionally on a Redis store), each as a ``Target``: ports to connect
  to, and the pids whose CPU (``/proc/PID/stat``) and RSS (``/proc/PID/status``) are read.
- Rooms are made before any client connects (Hearth: ``POST /api/rooms`` with the lobby off).
- Clients are placed over the load processes (``place``): whole rooms per process when there
  are at least as many rooms as processes, else each room split into contiguous chunks. The
  joins then go in two waves: first every process joins the rooms whose facilitator (index 0)
  it holds, then, once all said ``ready``, the members of rooms whose facilitator is elsewhere.
- ``traffic_step``: every process gets ``go`` with its share of the offered rate (its senders'
  share), and server CPU is read just before the first ``go`` and just after the last
  ``measured``. Latency histograms and counts are merged across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from bench.nodes import start_nodes, stop_nodes
from bench.processes import cpu_seconds, free_port, machine_cpu_seconds, percentile, rss_bytes
from bench.wsclient import BUCKET_SECONDS

LOAD_SATURATED = 0.9  # a load process above this share of one core may be the bottleneck
P99_LIMIT_MS = 100.0  # a step passes with p99 at most this ...
DELIVERED_MIN = 0.99  # ... and at least this share delivered
START_TIMEOUT = 30.0
REPLY_TIMEOUT = 120.0  # a load process's answer to join (5,000 joins) or to the end of a step


@dataclass
class Target:
    name: str  # "baseline", "hearth", ...
    kind: str  # what the load processes speak: "baseline" or "hearth"
    ports: list[int]  # one per node; clients are dealt over them
    pids: list[int]  # server processes, for CPU and RSS
    redis_pid: int | None = None

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


async def wait_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:  # a whole HTTP exchange: a bare TCP probe would hold up the server's shutdown
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
            writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(12), 1)
            writer.close()
            if answer.startswith(b"HTTP/1.1"):
                return
        except (OSError, TimeoutError):
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


@asynccontextmanager
async def floor_target() -> AsyncIterator[Target]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.baseline", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await wait_port(port, process, START_TIMEOUT)
        yield Target("baseline", "baseline", [port], [process.pid])
    finally:
        stop(process)


@asynccontextmanager
async def hearth_target(
    name: str = "hearth", nodes: int = 1, store: str | None = None, redis_pid: int | None = None
) -> AsyncIterator[Target]:
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as data:
        started = await start_nodes(nodes, store, data)
        try:
            ports = [node.port for node in started]
            yield Target(name, "hearth", ports, [node.process.pid for node in started], redis_pid)
        finally:
            stop_nodes(started)


async def wait_idle(target: Target, timeout: float, window: float = 0.5, share: float = 0.06) -> None:
    """Until the servers use less than ``share`` of a core over ``window`` (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = target.cpu()
        await asyncio.sleep(window)
        if target.cpu() - before < share * window:
            return


# rooms and placement


@dataclass(frozen=True)
class Room:
    name: str
    size: int
    facilitator: str | None = None  # Hearth tokens
    member: str | None = None


async def create_rooms(target: Target, count: int, size: int) -> list[Room]:
    if target.kind == "baseline":
        return [Room(f"r{index}", size) for index in range(count)]
    gate = asyncio.Semaphore(8)
    base = f"http://127.0.0.1:{target.ports[0]}"
    # two seats to spare (up to Hearth's 50) for the seat a retried join may leave behind
    body = {"title": "bench", "lobby": False, "max_participants": max(2, min(50, size + 2))}

    async def one(http: httpx.AsyncClient) -> Room:
        async with gate:
            response = await http.post(f"{base}/api/rooms", json=body)
        response.raise_for_status()
        answer = response.json()
        return Room(
            answer["room"]["id"],
            size,
            answer["facilitator_link"].split("#k=")[1],
            answer["member_link"].split("#k=")[1],
        )

    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        return list(await asyncio.gather(*(one(http) for _ in range(count))))


@dataclass
class Client:
    room: int
    index: int  # 0 is the facilitator
    port: int
    at: float = 0.0  # seconds after the join command's start
    sender: bool = False


def place(rooms: int, size: int, senders: int, procs: int, ports: list[int]) -> list[list[Client]]:
    """Clients per load process. Senders are spread over each room (every ``size // senders``-th
    client), client ``index`` of a room connects to ``ports[index % len(ports)]``."""
    spacing = max(1, size // senders) if senders else 0
    placed: list[list[Client]] = [[] for _ in range(procs)]
    for room in range(rooms):
        for index in range(size):
            proc = room % procs if rooms >= procs else index * procs // size
            sender = senders > 0 and index % spacing == 0 and index // spacing < senders
            placed[proc].append(Client(room, index, ports[index % len(ports)], sender=sender))
    return placed


# load processes


class LoadProc:
    """One ``python -m bench.load`` process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.senders = 0  # sender clients this process holds

    @classmethod
    async def start(cls) -> LoadProc:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.load",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        return cls(process)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await asyncio.wait_for(self.process.stdin.drain(), 10)

    async def read_line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            code = await asyncio.wait_for(self.process.wait(), 10)
            raise RuntimeError(f"load process {self.process.pid} ended (exit code {code})")
        return line.decode().strip()

    async def expect(self, word: str, timeout: float) -> None:
        line = await self.read_line(timeout)
        if line != word:
            raise RuntimeError(f"load process {self.process.pid}: expected {word!r}, got {line[:200]!r}")

    async def read_json(self, timeout: float) -> Any:
        return json.loads(await self.read_line(timeout))

    async def stop(self) -> None:
        if self.process.returncode is None:
            try:
                await self.send("quit")
                await asyncio.wait_for(self.process.wait(), 15)
            except (OSError, TimeoutError):
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await asyncio.wait_for(self.process.wait(), 10)


@asynccontextmanager
async def load_procs(count: int) -> AsyncIterator[list[LoadProc]]:
    procs: list[LoadProc] = []
    try:
        for _ in range(count):
            procs.append(await LoadProc.start())
        yield procs
    finally:
        await asyncio.gather(*(proc.stop() for proc in procs), return_exceptions=True)


@dataclass
class JoinResult:
    planned: int
    joined: int
    failed: int
    errors: list[str]
    retried: list[str]  # attempts that failed and were tried again
    connect_ms: list[float] = field(repr=False)
    join_ms: list[float] = field(repr=False)
    seconds: float
    load_cpu_share_max: float


async def join(
    procs: list[LoadProc],
    target: Target,
    rooms: list[Room],
    placed: list[list[Client]],
    concurrency: int,
    timeout: float = 15.0,
    attempts: int = 1,
    start_delay: float = 0.2,
) -> JoinResult:
    """Joins every placed client: first the rooms each process holds the facilitator of, then the
    members of rooms whose facilitator is in another process."""
    with_facilitator = [{c.room for c in clients if c.index == 0} for clients in placed]
    waves = [
        [
            [c for c in clients if c.room in own]
            for clients, own in zip(placed, with_facilitator, strict=True)
        ],
        [
            [c for c in clients if c.room not in own]
            for clients, own in zip(placed, with_facilitator, strict=True)
        ],
    ]
    replies: list[dict[str, Any]] = []
    wall0 = time.perf_counter()
    for wave in waves:
        busy = [(proc, clients) for proc, clients in zip(procs, wave, strict=True) if clients]
        start = time.time() + start_delay
        for proc, clients in busy:
            used = sorted({c.room for c in clients})
            spec = {
                "target": target.kind,
                "rooms": {str(r): asdict(rooms[r]) for r in used},
                "clients": [[c.room, c.index, c.port, c.at, c.sender] for c in clients],
                "start": start,
                "concurrency": concurrency,
                "timeout": timeout,
                "attempts": attempts,
            }
            await proc.send("join " + json.dumps(spec))
            proc.senders += sum(c.sender for c in clients)
        for proc, _ in busy:
            await proc.expect("ready", REPLY_TIMEOUT)
            replies.append(await proc.read_json(30))
    seconds = time.perf_counter() - wall0
    return JoinResult(
        planned=sum(len(clients) for clients in placed),
        joined=sum(int(r["joined"]) for r in replies),
        failed=sum(int(r["failed"]) for r in replies),
        errors=[e for r in replies for e in r["errors"]][:5],
        retried=[e for r in replies for e in r["retried"]],
        connect_ms=[v for r in replies for v in r["connect_ms"]],
        join_ms=[v for r in replies for v in r["join_ms"]],
        seconds=seconds,
        load_cpu_share_max=max((float(r["cpu"]) / max(1e-9, float(r["wall"])) for r in replies), default=0.0),
    )


@dataclass
class Step:
    """One traffic step, merged over the load processes."""

    offered_deliveries_per_second: float
    seconds: float
    sent: int
    expected: int
    delivered: int
    delivered_fraction: float
    delivered_per_second: float
    latency_ms_p50: float | None
    latency_ms_p99: float | None
    server_cpu_share: float
    server_cpu_us_per_delivery: float | None
    redis_cpu_us_per_delivery: float | None
    redis_cpu_share: float | None
    load_cpu_shares: list[float]
    load_saturated: bool
    machine_cpu_share: float  # server + redis + load processes, of all cores
    other_cpu: float  # cores used meanwhile by processes outside the benchmark (noise)
    errors: int  # error frames the clients got (a refused chat, say)
    error_sample: str  # the first of them
    closed: int  # connections the server closed during the step
    passed: bool


def histogram_percentile(histogram: dict[int, int], fraction: float) -> float | None:
    total = sum(histogram.values())
    if not total:
        return None
    rank, seen = fraction * total, 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return (bucket + 0.5) * BUCKET_SECONDS * 1000
    return None  # not reached


async def traffic_step(
    procs: list[LoadProc], target: Target, deliveries_per_second: float, room_size: int, duration: float
) -> Step:
    """``deliveries_per_second`` offered for ``duration`` s, shared by the processes' senders."""
    total_senders = sum(proc.senders for proc in procs)
    messages_per_second = deliveries_per_second / room_size
    since = time.time()
    cpu0, machine0, wall0 = target.cpu(), machine_cpu_seconds(), time.perf_counter()
    redis0 = cpu_seconds(target.redis_pid) if target.redis_pid else 0.0
    for proc in procs:
        await proc.send(f"go {messages_per_second * proc.senders / total_senders:.3f} {duration} {since:.6f}")
    for proc in procs:
        await proc.expect("measured", duration + REPLY_TIMEOUT)
    server_cpu, wall = target.cpu() - cpu0, time.perf_counter() - wall0
    machine_cpu = machine_cpu_seconds() - machine0
    redis_cpu = cpu_seconds(target.redis_pid) - redis0 if target.redis_pid else 0.0
    replies = [await proc.read_json(30) for proc in procs]

    histogram: dict[int, int] = {}
    for reply in replies:
        for bucket, count in reply["histogram"]:
            histogram[bucket] = histogram.get(bucket, 0) + count
    sent = sum(int(r["sent"]) for r in replies)
    expected = sum(int(r["expected"]) for r in replies)
    delivered = sum(int(r["delivered"]) for r in replies)
    closed = sum(int(r["closed"]) for r in replies)
    errors = sum(int(r["errors"]) for r in replies)
    span = max(float(r["last"]) for r in replies) - min(float(r["start"]) for r in replies)
    load_shares = [float(r["cpu"]) / max(1e-9, float(r["wall"])) for r in replies]
    load_cpu = sum(float(r["cpu"]) for r in replies)
    fraction = delivered / expected if expected else 0.0
    p99 = histogram_percentile(histogram, 0.99)
    return Step(
        offered_deliveries_per_second=deliveries_per_second,
        seconds=wall,
        sent=sent,
        expected=expected,
        delivered=delivered,
        delivered_fraction=fraction,
        delivered_per_second=delivered / span if delivered and span > 0 else 0.0,
        latency_ms_p50=histogram_percentile(histogram, 0.5),
        latency_ms_p99=p99,
        server_cpu_share=server_cpu / wall,
        server_cpu_us_per_delivery=server_cpu / delivered * 1e6 if delivered else None,
        redis_cpu_us_per_delivery=redis_cpu / delivered * 1e6 if delivered and target.redis_pid else None,
        redis_cpu_share=redis_cpu / wall if target.redis_pid else None,
        load_cpu_shares=load_shares,
        load_saturated=max(load_shares) > LOAD_SATURATED,
        machine_cpu_share=(server_cpu + redis_cpu + load_cpu) / wall / (os.cpu_count() or 1),
        other_cpu=max(0.0, machine_cpu - server_cpu - redis_cpu - load_cpu) / wall,
        errors=errors,
        error_sample=next((str(r["error_sample"]) for r in replies if r["error_sample"]), ""),
        closed=closed,
        passed=fraction >= DELIVERED_MIN and p99 is not None and p99 <= P99_LIMIT_MS and not closed,
    )


def join_percentiles(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    return percentile(values, 0.5), percentile(values, 0.99)

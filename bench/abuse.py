"""The "abuse" scenario (issue 10): does one member abusing the costly paths stall another room?

One Hearth node with its shipped per-connection limits (rate, outbox). Room A is measured: a
member posts a chat every ``interval`` seconds carrying its send time, another member of A
reads them, and the latency send -> receive is kept. First without any abuse, then while, in
room B, an abuser process (``python -m bench.abuse abuser ...``, its own process so its client
work does not slow the measuring client) does what issue 10 found stalls a node:

- ``chatters`` members post the longest chat messages as fast as the rate limit lets them
  (the session's chat grows to its cap, so every snapshot is as big as it gets);
- a flooder joins (resuming its seat each time), writes a burst of ``sync`` requests in one go
  and drops the connection at once, up to 20 times a second;
- a non-reader joins on a socket with a tiny receive buffer, asks for snapshots and never reads.

Reported: room A's p50/p99 latency without and with the abuser, side by side, and their ratio,
plus what the abuser managed (its cycles, syncs written, closes it got). Bounded in count and
time; loopback only; stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.nodes import start_nodes, stop_nodes
from bench.processes import cpu_seconds, percentile, rss_bytes

# The shipped limits, not the raised ones of the throughput scenarios: they are the defence.
SHIPPED_LIMITS = {
    "HEARTH_RATE_PER_SECOND": "10",
    "HEARTH_RATE_BURST": "40",
    "HEARTH_OUTBOX_SIZE": "256",
    "HEARTH_OUTBOX_BYTES": "2097152",
}
LONG_TEXT = "x" * 1_990


@dataclass
class AbuseRow:
    scenario: str
    target: str
    messages_per_phase: int
    latency_ms_p50_quiet: float
    latency_ms_p99_quiet: float
    latency_ms_p50_abused: float
    latency_ms_p99_abused: float
    p50_ratio: float
    p99_ratio: float
    received_quiet: int
    received_abused: int
    server_rss_mib_quiet: float
    server_rss_mib_abused: float
    server_cpu_share_quiet: float  # of one core, while room A was measured
    server_cpu_share_abused: float
    abuser: dict[str, Any] = field(default_factory=dict)
    kind: str = "abuse"


def options() -> dict[str, Any]:
    return {"proxy": None, "compression": None, "open_timeout": 10, "close_timeout": 1, "max_size": None}


async def join_socket(
    url: str, token: str, name: str, resume: str | None = None, **extra: Any
) -> tuple[ClientConnection, str]:
    """A joined socket and its fresh resume token; with ``resume``, the same seat again (so a
    member who keeps coming back does not fill the room)."""
    ws = await connect(url, **options(), **extra)
    join: dict[str, Any] = {"type": "join", "token": token, "name": name, "agree": True}
    if resume:
        join["resume"] = resume
    await ws.send(json.dumps(join))
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] == "welcome":
            return ws, str(frame["resume"])
        if frame["type"] == "error":
            await ws.close()
            raise RuntimeError(f"join refused: {frame['code']}")


# The abuser (its own process) --------------------------------------------------------------------


async def abuse(
    port: int, member: str, seconds: float, chatters: int, burst: int, cycle: float = 0.05
) -> dict[str, int]:
    url = f"ws://127.0.0.1:{port}/ws"
    pending: set[asyncio.Future[None]] = set()
    counts = {"chats": 0, "flood_cycles": 0, "syncs_written": 0, "non_reader_cycles": 0, "closed": 0}
    deadline = time.monotonic() + seconds

    async def chatter(n: int) -> None:
        ws, _ = await join_socket(url, member, f"Chatter {n}")
        reader = asyncio.ensure_future(drain(ws))
        try:
            while time.monotonic() < deadline:
                await ws.send(json.dumps({"type": "chat", "text": LONG_TEXT}))
                counts["chats"] += 1
                await asyncio.sleep(0.11)  # just within 10 messages/s
        finally:
            reader.cancel()
            await ws.close()

    async def flooder() -> None:
        resume: str | None = None
        while time.monotonic() < deadline:
            try:
                ws, resume = await join_socket(url, member, "Flooder", resume)
            except (OSError, RuntimeError, TimeoutError, ConnectionClosed):
                counts["closed"] += 1
                resume = None
                continue
            with contextlib.suppress(ConnectionClosed):
                await ws.send([json.dumps({"type": "sync", "id": n}) for n in range(burst)])
            counts["flood_cycles"] += 1
            counts["syncs_written"] += burst
            # Gone at once, without reading a thing: the close frame follows the requests (the
            # server reads them all first), and nobody waits for the server's answer.
            closing = asyncio.ensure_future(ws.close())
            pending.add(closing)
            closing.add_done_callback(pending.discard)
            await asyncio.sleep(cycle)  # the same abuse offered whatever the server does with it

    async def non_reader() -> None:
        resume: str | None = None
        while time.monotonic() < deadline:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # reads next to nothing
            sock.setblocking(False)
            try:
                await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 10)
                ws, resume = await join_socket(url, member, "Silent", resume, sock=sock, max_queue=1)
            except (OSError, RuntimeError, TimeoutError, ConnectionClosed):
                counts["closed"] += 1
                resume = None
                continue
            counts["non_reader_cycles"] += 1
            with contextlib.suppress(ConnectionClosed):
                for n in range(60):  # asks, never reads
                    await ws.send(json.dumps({"type": "sync", "id": n}))
                    counts["syncs_written"] += 1
                    await asyncio.sleep(0.03)
            if ws.transport is not None:
                ws.transport.abort()

    await asyncio.gather(*(chatter(n) for n in range(chatters)), flooder(), non_reader())
    return counts


async def drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


# The measured room -------------------------------------------------------------------------------


async def measure(url: str, member: str, messages: int, interval: float) -> list[float]:
    """Room A's chat latency (ms) for ``messages`` chats sent ``interval`` s apart."""
    sender, _ = await join_socket(url, member, "Sender")
    receiver, _ = await join_socket(url, member, "Receiver")
    echoes = asyncio.ensure_future(drain(sender))
    latencies: list[float] = []

    async def receive() -> None:
        while len(latencies) < messages:
            frame = json.loads(await receiver.recv())
            if frame["type"] == "chat" and frame["message"]["text"].startswith("t="):
                latencies.append((time.monotonic() - float(frame["message"]["text"][2:])) * 1000)

    reading = asyncio.ensure_future(receive())
    try:
        for _ in range(messages):
            await sender.send(json.dumps({"type": "chat", "text": f"t={time.monotonic()!r}"}))
            await asyncio.sleep(interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(reading), 10)
    finally:
        reading.cancel()
        echoes.cancel()
        await sender.close()
        await receiver.close()
    return latencies


async def create_room(base: str) -> tuple[str, str]:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        body = {"title": "bench", "lobby": False, "max_participants": 50}
        answer = (await client.post(f"{base}/api/rooms", json=body)).json()
    return answer["facilitator_link"].split("#k=")[1], answer["member_link"].split("#k=")[1]


async def run_abuse(
    messages: int, interval: float, fill: float, chatters: int = 6, burst: int = 200
) -> AbuseRow:
    """Room A measured quiet, then (after ``fill`` s of abuse: the chat grows) abused."""
    with tempfile.TemporaryDirectory(prefix="hearth-abuse-") as data:
        (node,) = await start_nodes(1, None, data, env=SHIPPED_LIMITS)
        try:
            url = f"ws://127.0.0.1:{node.port}/ws"
            fac_a, member_a = await create_room(node.base)
            fac_b, member_b = await create_room(node.base)
            facilitators = [(await join_socket(url, token, "Fran"))[0] for token in (fac_a, fac_b)]
            readers = [asyncio.ensure_future(drain(ws)) for ws in facilitators]
            pid = node.process.pid
            cpu, wall = cpu_seconds(pid), time.monotonic()
            quiet = await measure(url, member_a, messages, interval)
            cpu_quiet = (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
            rss_quiet = rss_bytes(pid)
            seconds = fill + messages * interval + 5
            command = [sys.executable, "-m", "bench.abuse", "abuser", "--port", str(node.port),
                       "--member", member_b, "--seconds", f"{seconds:.1f}", "--chatters", str(chatters),
                       "--burst", str(burst)]  # fmt: skip
            abuser = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                await asyncio.sleep(fill)
                cpu, wall = cpu_seconds(pid), time.monotonic()
                abused = await measure(url, member_a, messages, interval)
                cpu_abused = (cpu_seconds(pid) - cpu) / (time.monotonic() - wall)
                rss_abused = rss_bytes(pid)
                out, _ = await asyncio.to_thread(abuser.communicate, timeout=seconds + 30)
                counts = json.loads(out or b"{}")
            finally:
                if abuser.poll() is None:
                    abuser.kill()
                    abuser.wait(10)
            for task in readers:
                task.cancel()
            for ws in facilitators:
                await ws.close()
        finally:
            stop_nodes([node])
    q50, q99 = percentile(quiet, 0.5), percentile(quiet, 0.99)
    a50, a99 = percentile(abused, 0.5), percentile(abused, 0.99)
    return AbuseRow(
        scenario="ABUSE",
        target="hearth",
        messages_per_phase=messages,
        latency_ms_p50_quiet=q50,
        latency_ms_p99_quiet=q99,
        latency_ms_p50_abused=a50,
        latency_ms_p99_abused=a99,
        p50_ratio=a50 / q50 if q50 else float("nan"),
        p99_ratio=a99 / q99 if q99 else float("nan"),
        received_quiet=len(quiet),
        received_abused=len(abused),
        server_rss_mib_quiet=rss_quiet / 2**20,
        server_rss_mib_abused=rss_abused / 2**20,
        server_cpu_share_quiet=cpu_quiet,
        server_cpu_share_abused=cpu_abused,
        abuser=counts,
    )


def abuse_table(rows: list[AbuseRow]) -> str:
    lines = [
        "Abuse (issue 10): another room's chat latency without and with one room's abuser",
        f"{'':<10} {'p50 ms':>8} {'p99 ms':>8} {'received':>9}",
    ]
    for row in rows:
        lines += [
            f"{'quiet':<10} {row.latency_ms_p50_quiet:>8.2f} {row.latency_ms_p99_quiet:>8.2f} "
            f"{row.received_quiet:>5}/{row.messages_per_phase}",
            f"{'abused':<10} {row.latency_ms_p50_abused:>8.2f} {row.latency_ms_p99_abused:>8.2f} "
            f"{row.received_abused:>5}/{row.messages_per_phase}",
            f"{'ratio':<10} {row.p50_ratio:>8.2f} {row.p99_ratio:>8.2f}",
            f"server RSS {row.server_rss_mib_quiet:.0f} MiB quiet, "
            f"{row.server_rss_mib_abused:.0f} MiB abused; server CPU {row.server_cpu_share_quiet:.0%} "
            f"quiet, {row.server_cpu_share_abused:.0%} abused",
            f"abuser: {json.dumps(row.abuser)}",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the scenario, printed as a table")
    run.add_argument("--messages", type=int, default=200)
    run.add_argument("--interval", type=float, default=0.125)
    run.add_argument("--fill", type=float, default=15.0, help="seconds of abuse before measuring")
    abuser = sub.add_parser("abuser", help="(internal) the abusing member, run by the scenario")
    abuser.add_argument("--port", type=int, required=True)
    abuser.add_argument("--member", required=True)
    abuser.add_argument("--seconds", type=float, required=True)
    abuser.add_argument("--chatters", type=int, default=6)
    abuser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args()
    if args.command == "abuser":
        seconds = min(args.seconds, 600.0)
        counts = asyncio.run(abuse(args.port, args.member, seconds, args.chatters, args.burst))
        print(json.dumps(counts))
        return
    row = asyncio.run(run_abuse(min(args.messages, 5_000), max(args.interval, 0.1), min(args.fill, 300.0)))
    print(abuse_table([row]))


if __name__ == "__main__":
    main()

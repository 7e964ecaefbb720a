"""A quick measurement of one 12-person room: join latency and delivered chat messages per second.

    python -m bench.quick_room [--people 12] [--messages 300]

Starts ``hearth serve`` as a subprocess on a free loopback port (rate limits raised through
their documented settings so the limiter is not what is measured), joins the room with lean
websocket clients in this process, then has every participant send chat messages as fast as the
server takes them, and counts deliveries. Bounded in count and time; stops by itself.
The full, baseline-relative benchmark is a later piece of work (bench/ proper).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.nodes import recv_type, wait_ready
from bench.processes import cpu_seconds, free_port


async def run(people: int, messages: int) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "HEARTH_SECRET": "q" * 40,
        "HEARTH_RATE_PER_SECOND": "100000",
        "HEARTH_RATE_BURST": "100000",
        "HEARTH_OUTBOX_SIZE": "100000",
        "HEARTH_OUTBOX_BYTES": "1073741824",
        "HEARTH_LOG_LEVEL": "warning",
        "HEARTH_MAX_CONNECTIONS_PER_ADDRESS": "0",  # every client connects from 127.0.0.1
    }
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--data-dir", data],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await wait_ready(base, time.monotonic() + 20)
            async with httpx.AsyncClient() as client:
                body = {"title": "bench", "lobby": False, "max_participants": 50}
                answer = (await client.post(f"{base}/api/rooms", json=body)).json()
            facilitator = answer["facilitator_link"].split("#k=")[1]
            member = answer["member_link"].split("#k=")[1]
            tokens = [facilitator] + [member] * (people - 1)
            sockets: list[ClientConnection] = []
            join_ms: list[float] = []
            for index, token in enumerate(tokens):
                ws = await connect(f"ws://127.0.0.1:{port}/ws", compression=None, max_queue=None)
                start = time.perf_counter()
                join = {"type": "join", "token": token, "name": f"p{index}", "agree": True}
                await ws.send(json.dumps(join))
                await recv_type(ws, "welcome")
                join_ms.append((time.perf_counter() - start) * 1000)
                sockets.append(ws)
            await asyncio.sleep(0.5)
            for ws in sockets:  # drain join traffic
                while True:
                    try:
                        await asyncio.wait_for(ws.recv(), 0.05)
                    except TimeoutError:
                        break
            expected = people * messages  # every chat reaches every participant, sender included
            counts = [0] * people

            async def reader(i: int, ws: ClientConnection) -> None:
                while counts[i] < expected:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
                    if msg["type"] == "chat":
                        counts[i] += 1

            async def sender(ws: ClientConnection) -> None:
                for n in range(messages):
                    await ws.send(json.dumps({"type": "chat", "text": f"message {n}"}))

            start = time.perf_counter()
            server_cpu, client_cpu = cpu_seconds(proc.pid), time.process_time()
            await asyncio.gather(
                *(reader(i, ws) for i, ws in enumerate(sockets)), *(sender(ws) for ws in sockets)
            )
            elapsed = time.perf_counter() - start
            server_cpu = cpu_seconds(proc.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            for ws in sockets:
                await ws.close()
        finally:
            proc.terminate()
            proc.wait(10)
    return {
        "people": people,
        "join_ms_p50": statistics.median(join_ms),
        "join_ms_max": max(join_ms),
        "deliveries": float(sum(counts)),
        "seconds": elapsed,
        "delivered_per_second": sum(counts) / elapsed,
        "server_cpu_us_per_delivery": server_cpu / sum(counts) * 1e6,
        "server_cpu_share": server_cpu / elapsed,
        "client_cpu_share": client_cpu / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=12)
    parser.add_argument("--messages", type=int, default=300, help="chat messages per participant")
    args = parser.parse_args()
    result = asyncio.run(run(args.people, args.messages))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

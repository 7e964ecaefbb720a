"""What a second node costs: one 10-person room on one Redis-backed node, the same room spread
over two nodes (5 + 5), and the embedded single node (SQLite + memory) for reference.

    python -m bench.two_nodes [--people 10] [--messages 200] [--paced-rate 20]

Each layout runs twice: *flood* (every participant sends its chat messages as fast as the
server takes them: throughput) and *paced* (each participant sends ``--paced-rate`` messages a
second: latency below saturation). Every chat text carries its send time
(``time.perf_counter()`` of this process, where every client lives), so each receiver measures
the latency of every delivery; server CPU comes from ``/proc/<pid>/stat`` of the node processes
(and of redis-server, reported apart). Rate limits and outboxes are raised through their
settings so the limiter is not what is measured. Bounded in count and time; stops by itself.
All clients run in this one process: on a small machine they compete with the servers for CPU,
which the client CPU share shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.nodes import Node, recv_type, redis_server, start_nodes, stop_nodes
from bench.processes import cpu_seconds, percentile

SCENARIO_TIMEOUT = 120.0  # one layout and mode, joins included


async def drain(ws: ClientConnection, quiet: float = 0.2) -> None:
    while True:
        try:
            await asyncio.wait_for(ws.recv(), quiet)
        except TimeoutError:
            return


async def run_room(
    nodes: list[Node], people: int, messages: int, rate: float, cpu_pids: list[int], redis_pid: int | None
) -> dict[str, float]:
    """One room, participants dealt round-robin over ``nodes``; every participant sends
    ``messages`` chats (``rate`` per second each, or as fast as possible when 0)."""
    async with httpx.AsyncClient(trust_env=False) as client:
        body = {"title": "bench", "lobby": False, "max_participants": 50}
        answer = (await client.post(f"{nodes[0].base}/api/rooms", json=body)).json()
    facilitator = answer["facilitator_link"].split("#k=")[1]
    member = answer["member_link"].split("#k=")[1]
    sockets: list[ClientConnection] = []
    for index in range(people):
        node = nodes[index % len(nodes)]
        ws = await connect(f"ws://127.0.0.1:{node.port}/ws", compression=None, max_queue=None, max_size=None)
        token = facilitator if index == 0 else member
        await ws.send(json.dumps({"type": "join", "token": token, "name": f"p{index}", "agree": True}))
        await recv_type(ws, "welcome")
        sockets.append(ws)
    await asyncio.sleep(0.3)
    await asyncio.gather(*(drain(ws) for ws in sockets))

    expected = people * messages  # every chat reaches every participant, its sender included
    counts = [0] * people
    latencies: list[float] = []

    async def reader(i: int, ws: ClientConnection) -> None:
        while counts[i] < expected:
            raw = await asyncio.wait_for(ws.recv(), 20)
            now = time.perf_counter()
            msg = json.loads(raw)
            if msg["type"] == "chat":
                counts[i] += 1
                latencies.append(now - float(msg["message"]["text"].rsplit(" ", 1)[1]))

    async def sender(i: int, ws: ClientConnection) -> None:
        start = time.perf_counter()
        for n in range(messages):
            if rate:
                await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            await ws.send(json.dumps({"type": "chat", "text": f"p{i} m{n} {time.perf_counter():.9f}"}))

    server_cpu = sum(cpu_seconds(pid) for pid in cpu_pids)
    redis_cpu = cpu_seconds(redis_pid) if redis_pid else 0.0
    client_cpu = time.process_time()
    start = time.perf_counter()
    await asyncio.gather(
        *(reader(i, ws) for i, ws in enumerate(sockets)), *(sender(i, ws) for i, ws in enumerate(sockets))
    )
    elapsed = time.perf_counter() - start
    server_cpu = sum(cpu_seconds(pid) for pid in cpu_pids) - server_cpu
    redis_cpu = (cpu_seconds(redis_pid) - redis_cpu) if redis_pid else 0.0
    client_cpu = time.process_time() - client_cpu
    for ws in sockets:
        await ws.close()
    delivered = sum(counts)
    return {
        "deliveries": float(delivered),
        "seconds": elapsed,
        "delivered_per_second": delivered / elapsed,
        "latency_ms_p50": statistics.median(latencies) * 1000,
        "latency_ms_p99": percentile(latencies, 0.99) * 1000,
        "server_cpu_us_per_delivery": server_cpu / delivered * 1e6,
        "redis_cpu_us_per_delivery": redis_cpu / delivered * 1e6,
        "server_cpu_share": server_cpu / elapsed,
        "client_cpu_share": client_cpu / elapsed,
    }


async def layout(
    name: str,
    node_count: int,
    redis: tuple[str, int] | None,
    people: int,
    messages: int,
    paced_rate: float,
    paced_messages: int,
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as data:
        nodes = await start_nodes(node_count, redis[0] if redis else None, data)
        try:
            pids = [node.process.pid for node in nodes]
            redis_pid = redis[1] if redis else None
            for mode, count, rate in (("flood", messages, 0.0), ("paced", paced_messages, paced_rate)):
                result = await asyncio.wait_for(
                    run_room(nodes, people, count, rate, pids, redis_pid), SCENARIO_TIMEOUT
                )
                rows.append(
                    {
                        "layout": name,
                        "mode": mode,
                        "messages_each": count,
                        "rate_each": rate or None,
                        **result,
                    }
                )
        finally:
            stop_nodes(nodes)
    return rows


def table(rows: list[dict[str, object]]) -> str:
    head = (
        "| layout | mode | deliveries | delivered/s | latency p50 ms | latency p99 ms "
        "| node CPU µs/delivery | redis CPU µs/delivery | node CPU share | client CPU share |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r['layout']} | {r['mode']} | {r['deliveries']:.0f} | {r['delivered_per_second']:.0f} "
            f"| {r['latency_ms_p50']:.1f} | {r['latency_ms_p99']:.1f} "
            f"| {r['server_cpu_us_per_delivery']:.1f} | {r['redis_cpu_us_per_delivery']:.1f} "
            f"| {r['server_cpu_share']:.2f} | {r['client_cpu_share']:.2f} |"
        )
    return "\n".join(lines)


async def run(people: int, messages: int, paced_rate: float, paced_messages: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as redis_dir, redis_server(redis_dir) as redis:
        rows += await layout("redis, 1 node (10)", 1, redis, people, messages, paced_rate, paced_messages)
        rows += await layout("redis, 2 nodes (5+5)", 2, redis, people, messages, paced_rate, paced_messages)
    rows += await layout("embedded, 1 node", 1, None, people, messages, paced_rate, paced_messages)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--messages", type=int, default=200, help="chat messages per participant (flood)")
    parser.add_argument("--paced-rate", type=float, default=20.0, help="messages/s per participant (paced)")
    parser.add_argument("--paced-messages", type=int, default=60, help="chat messages each (paced)")
    args = parser.parse_args()
    rows = asyncio.run(run(args.people, args.messages, args.paced_rate, args.paced_messages))
    print(table(rows))
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

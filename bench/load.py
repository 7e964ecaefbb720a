"""A lean load generator, run in its own process so it competes with the server only for CPU.

    python -m bench.load --target baseline|hearth --port P --rooms R --clients N --senders S \
        --rate MSGS_PER_S --duration SECONDS

Opens ``R x N`` websocket clients (``N`` per room) on 127.0.0.1, joins them (baseline protocol,
or Hearth: rooms created through ``POST /api/rooms`` with the lobby off, joined with the
facilitator token for the first client and the member token for the rest), then ``S`` senders
per room send chat at ``--rate`` messages/s in total for ``--duration`` seconds. Every chat text
carries its send time (``time.time()``, comparable across processes on one machine); receivers
count deliveries and record latency.

Handshake with the parent on stdin/stdout, so the parent can read server CPU around exactly the
measured phase: prints ``ready`` once joined, waits for a line on stdin, runs, prints
``measured``, then closes and prints one JSON line with the results. Without ``--handshake`` it
starts at once. Bounded in count and time: every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time

import httpx
from websockets.asyncio.client import ClientConnection, connect

CONNECT_CONCURRENCY = 50
GRACE_SECONDS = 3.0  # after the last send, how long to wait for deliveries still in flight


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def drain(ws: ClientConnection, quiet: float = 0.2, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            await asyncio.wait_for(ws.recv(), quiet)
        except TimeoutError:
            return


async def open_baseline(port: int, rooms: int, clients: int) -> list[list[ClientConnection]]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(room: int) -> ClientConnection:
        async with gate:
            ws = await connect(f"ws://127.0.0.1:{port}/", compression=None, max_queue=None,
                               open_timeout=10)
            await ws.send(json.dumps({"type": "join", "room": f"r{room}"}))
            await asyncio.wait_for(ws.recv(), 10)  # "joined"
            return ws

    return [list(await asyncio.gather(*(one(r) for _ in range(clients)))) for r in range(rooms)]


async def open_hearth(port: int, rooms: int, clients: int) -> list[list[ClientConnection]]:
    base = f"http://127.0.0.1:{port}"
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    tokens: list[tuple[str, str]] = []
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        for _ in range(rooms):
            body = {"title": "bench", "lobby": False, "max_participants": max(2, min(50, clients))}
            response = await http.post(f"{base}/api/rooms", json=body)
            response.raise_for_status()
            answer = response.json()
            tokens.append((answer["facilitator_link"].split("#k=")[1],
                           answer["member_link"].split("#k=")[1]))

    async def one(room: int, index: int) -> ClientConnection:
        async with gate:
            ws = await connect(f"ws://127.0.0.1:{port}/ws", compression=None, max_queue=None,
                               max_size=None, open_timeout=10)
            token = tokens[room][0] if index == 0 else tokens[room][1]
            await ws.send(json.dumps({"type": "join", "token": token, "name": f"p{index}", "agree": True}))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if msg.get("type") == "welcome":
                    return ws
                if msg.get("type") == "error":
                    raise SystemExit(f"join refused: {msg}")
            raise SystemExit("no welcome")

    result = []
    for r in range(rooms):  # facilitator first, so members do not wait in a lobby
        first = await one(r, 0)
        rest = await asyncio.gather(*(one(r, i) for i in range(1, clients)))
        result.append([first, *rest])
    return result


def chat_text(msg: dict[str, object], target: str) -> str | None:
    if msg.get("type") != "chat":
        return None
    if target == "hearth":
        inner = msg.get("message")
        return str(inner.get("text")) if isinstance(inner, dict) else None
    return str(msg.get("text"))


async def run(args: argparse.Namespace) -> dict[str, object]:
    opener = open_hearth if args.target == "hearth" else open_baseline
    rooms = await asyncio.wait_for(opener(args.port, args.rooms, args.clients), args.timeout)
    sockets = [ws for room in rooms for ws in room]
    await asyncio.gather(*(drain(ws) for ws in sockets))  # join traffic

    if args.handshake:
        print("ready", flush=True)
        await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), args.timeout)

    senders = [ws for room in rooms for ws in room[: args.senders]]
    per_sender = args.rate / len(senders)
    sent = [0] * len(senders)
    sent_per_room = [0] * len(rooms)
    delivered = 0
    latencies: list[float] = []
    last_delivery = 0.0
    sending_done = asyncio.Event()

    async def sender(i: int, room: int, ws: ClientConnection) -> None:
        # senders start out of phase, so their sends spread over time instead of bursting together
        start = time.perf_counter() + (i / len(senders)) / per_sender
        end = start + args.duration
        await asyncio.sleep(start - time.perf_counter())
        while (now := time.perf_counter()) < end:
            due = int((now - start) * per_sender) + 1 - sent[i]
            for _ in range(max(0, due)):
                await ws.send(f'{{"type":"chat","text":"{time.time():.6f}"}}')
                sent[i] += 1
                sent_per_room[room] += 1
            await asyncio.sleep(min(0.005, max(0.0, start + (sent[i]) / per_sender - time.perf_counter())))

    async def reader(ws: ClientConnection) -> None:
        nonlocal delivered, last_delivery
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.5)
            except TimeoutError:
                if sending_done.is_set():
                    return
                continue
            now = time.time()
            text = chat_text(json.loads(raw), args.target)
            if text is None:
                continue
            delivered += 1
            last_delivery = now
            with contextlib.suppress(ValueError):
                latencies.append(now - float(text))

    cpu0, wall0, start_time = time.process_time(), time.perf_counter(), time.time()
    readers = [asyncio.create_task(reader(ws)) for ws in sockets]
    send_tasks = []
    for r, room in enumerate(rooms):
        for ws in room[: args.senders]:
            send_tasks.append(sender(len(send_tasks), r, ws))
    await asyncio.wait_for(asyncio.gather(*send_tasks), args.duration + 10)
    expected = sum(n * args.clients for n in sent_per_room)
    grace_end = time.perf_counter() + GRACE_SECONDS
    while delivered < expected and time.perf_counter() < grace_end:
        await asyncio.sleep(0.02)
    sending_done.set()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    if args.handshake:
        print("measured", flush=True)
    await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 5)
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

    active = max(1e-9, (last_delivery or time.time()) - start_time)
    return {
        "target": args.target,
        "rooms": args.rooms,
        "clients_per_room": args.clients,
        "senders_per_room": args.senders,
        "offered_msgs_per_second": args.rate,
        "offered_deliveries_per_second": args.rate * args.clients,
        "duration": args.duration,
        "sent": sum(sent),
        "expected": expected,
        "delivered": delivered,
        "delivered_fraction": delivered / expected if expected else 0.0,
        "delivered_per_second": delivered / active,
        "latency_ms_p50": percentile(latencies, 0.5) * 1000,
        "latency_ms_p99": percentile(latencies, 0.99) * 1000,
        "load_cpu_share": cpu / wall,
        "measured_seconds": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=["baseline", "hearth"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--clients", type=int, default=10, help="clients per room")
    parser.add_argument("--senders", type=int, default=1, help="senders per room")
    parser.add_argument("--rate", type=float, default=100.0, help="offered chat messages/s, all senders")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of sending")
    parser.add_argument("--timeout", type=float, default=60.0, help="limit for joins and handshakes")
    parser.add_argument("--handshake", action="store_true", help="ready/go/measured lines with the parent")
    args = parser.parse_args()
    if not (0 < args.senders <= args.clients and args.rooms > 0 and args.rate > 0 and args.duration > 0):
        raise SystemExit("need 0 < senders <= clients, rooms > 0, rate > 0, duration > 0")
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()

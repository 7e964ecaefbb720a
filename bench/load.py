"""A load process: lean websocket clients (``bench.wsclient``) driven by the parent over stdin/stdout.

    python -m bench.load        (the parent, ``bench.driver``, writes the commands)

Commands, one a line on stdin; each answer is a word line, then one JSON line, on stdout:

- ``join SPEC`` -> ``ready`` + join figures. ``SPEC`` (JSON) names the target (``baseline`` or
  ``hearth``), the rooms (floor room name, or Hearth facilitator and member tokens, and the
  room's size), and this process's clients, each ``[room, index, port, at, sender]``. Client
  ``at`` seconds after ``start`` (a wall time shared by every load process), it connects and
  joins: index 0 with the facilitator token, every other index with the member token, once the
  facilitator (if this process holds it) got its ``welcome``, so members never wait in a lobby.
  At most ``concurrency`` joins are under way at once, each given ``timeout`` seconds and
  ``attempts`` tries (failed tries are reported apart). Each join is timed from the start of the
  TCP connect to ``welcome`` (floor: ``joined``), and from sending ``join`` to it.
- ``go RATE DURATION SINCE`` -> ``measured`` + step figures. This process's senders send
  ``RATE`` chat messages/s in total, round robin, for ``DURATION`` seconds, each text being its
  send time; every client counts the deliveries sent at or after ``SINCE`` (wall time, set by the
  parent once for every process) until no delivery came for ``QUIET_SECONDS`` (at most
  ``GRACE_SECONDS`` after the last send). ``measured`` is printed at exactly that point, so the
  parent reads server CPU around the step; the JSON follows. Several steps may run over the same
  connections.
- ``quit`` (or end of input) closes every connection and exits.

Every wait has a timeout. CPU is this process's own (``time.process_time``), so the parent
can tell when the load generator, not the server, is the limit.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from bench.wsclient import Refused, Stats, WsClient, connect

HOST = "127.0.0.1"
COMMAND_TIMEOUT = 900.0  # the parent writes at least this often
QUIET_SECONDS = 0.3
GRACE_SECONDS = 2.0
SEND_TICK = 0.002


@dataclass
class Sender:
    client: WsClient
    room_size: int  # deliveries one message makes


class Load:
    def __init__(self) -> None:
        self.stats = Stats()
        self.clients: list[WsClient] = []
        self.senders: list[Sender] = []

    async def join(self, spec: dict[str, Any]) -> dict[str, Any]:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        hearth = spec["target"] == "hearth"
        path = "/ws" if hearth else "/"
        welcome = frozenset({"welcome"} if hearth else {"joined"})
        rooms: dict[str, dict[str, Any]] = spec["rooms"]
        start = float(spec["start"])
        gate = asyncio.Semaphore(int(spec["concurrency"]))
        local_facilitator = {room: asyncio.Event() for room, index, *_ in spec["clients"] if index == 0}
        timeout = float(spec["timeout"])  # for each attempt
        attempts = int(spec["attempts"])
        connect_ms: list[float] = []
        join_ms: list[float] = []
        errors: list[str] = []  # joins that failed for good
        retried: list[str] = []  # failed attempts that were tried again

        def join_message(room: dict[str, Any], index: int) -> bytes:
            if not hearth:
                return json.dumps({"type": "join", "room": room["name"]}).encode()
            token = room["facilitator"] if index == 0 else room["member"]
            return json.dumps({"type": "join", "token": token, "name": f"p{index}", "agree": True}).encode()

        async def attempt(room: dict[str, Any], index: int, port: int, sender: bool) -> None:
            client: WsClient | None = None
            try:
                async with gate:
                    t0 = time.time()
                    client = await connect(HOST, port, path, self.stats, timeout)
                    t1 = time.time()
                    client.send_text(join_message(room, index))
                    _, t2 = await client.expect(welcome, timeout)
            except TimeoutError as exc:
                seen = client.last_seen if client is not None else ""
                if client is not None:
                    client.close()
                raise TimeoutError(f"after {timeout:g} s, last message: {seen or 'none'}") from exc
            except BaseException:
                if client is not None:
                    client.close()
                raise
            connect_ms.append((t2 - t0) * 1000)
            join_ms.append((t2 - t1) * 1000)
            self.clients.append(client)
            if sender:
                self.senders.append(Sender(client, int(room["size"])))

        async def one(room_key: int, index: int, port: int, at: float, sender: bool) -> None:
            room = rooms[str(room_key)]
            facilitator = local_facilitator.get(room_key)
            await asyncio.sleep(max(0.0, start + at - time.time()))
            try:
                if index != 0 and facilitator is not None:
                    await asyncio.wait_for(facilitator.wait(), timeout * attempts)
                for left in range(attempts - 1, -1, -1):
                    try:
                        await attempt(room, index, port, sender)
                        return
                    except (OSError, TimeoutError, Refused) as exc:
                        failure = f"room {room_key} client {index} port {port}: {type(exc).__name__} {exc}"
                        if left:
                            retried.append(failure)
                        else:
                            errors.append(failure)
            except TimeoutError:
                errors.append(f"room {room_key} client {index}: its facilitator did not join")
            finally:
                if index == 0 and facilitator is not None:
                    facilitator.set()  # its members go on (and fail on their own if it failed)

        await asyncio.gather(*(one(*entry) for entry in spec["clients"]))
        return {
            "joined": len(connect_ms),
            "failed": len(errors),
            "errors": errors[:5],
            "retried": retried,
            "connect_ms": connect_ms,
            "join_ms": join_ms,
            "cpu": time.process_time() - cpu0,
            "wall": time.perf_counter() - wall0,
        }

    async def step(self, rate: float, duration: float, since: float) -> dict[str, Any]:
        stats = self.stats
        stats.reset(since)
        cpu0, wall0, start = time.process_time(), time.perf_counter(), time.time()
        closed_before = sum(client.closed for client in self.clients)
        sent = expected = 0
        if rate > 0 and self.senders:
            senders, turn = self.senders, 0
            begin = time.perf_counter()
            while (now := time.perf_counter()) < begin + duration:
                for _ in range(int((now - begin) * rate) - sent):
                    sender = senders[turn]
                    turn = (turn + 1) % len(senders)
                    sender.client.send_text(b'{"type":"chat","text":"%.6f"}' % time.time())
                    expected += sender.room_size
                    sent += 1
                await asyncio.sleep(SEND_TICK)
        else:
            await asyncio.sleep(duration)
        sent_end = time.time()
        while True:  # deliveries still in flight
            now = time.time()
            if now - sent_end >= GRACE_SECONDS or now - max(stats.last, sent_end) >= QUIET_SECONDS:
                break
            await asyncio.sleep(0.02)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print("measured", flush=True)
        return {
            "sent": sent,
            "expected": expected,
            "delivered": stats.delivered,
            "stale": stats.stale,
            "errors": stats.errors,
            "error_sample": stats.error_sample,
            "histogram": stats.sparse_histogram(),
            "start": start,
            "last": stats.last,
            "cpu": cpu,
            "wall": wall,
            "closed": sum(client.closed for client in self.clients) - closed_before,
        }

    async def close(self) -> None:
        for client in self.clients:
            client.close()
        await asyncio.sleep(0.2)  # let the close frames go out


async def serve() -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    load = Load()
    try:
        while True:
            line = (await asyncio.wait_for(commands.readline(), COMMAND_TIMEOUT)).decode().strip()
            word, _, rest = line.partition(" ")
            if word in ("", "quit"):
                return
            if word == "join":
                result = await load.join(json.loads(rest))
                print("ready", flush=True)
            elif word == "go":
                rate, duration, since = (float(value) for value in rest.split())
                result = await load.step(rate, duration, since)
            else:
                raise SystemExit(f"unknown command {word!r}")
            print(json.dumps(result), flush=True)
    finally:
        await load.close()


if __name__ == "__main__":
    asyncio.run(serve())

"""The floor: a minimal room broadcaster on the raw ``websockets`` library.

    python -m bench.baseline --port P

A client sends ``{"type": "join", "room": R}`` and then ``{"type": "chat", "text": ...}``
messages; every chat is serialized once (compact JSON, as Hearth's frames are) and sent to every
connection in that room (the sender included, as Hearth does) with ``websockets.broadcast``.
No auth, no validation beyond what the protocol needs: this is what Hearth's fan-out is
compared against. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

import websockets
from websockets.asyncio.server import ServerConnection, serve

rooms: dict[str, set[ServerConnection]] = {}


async def handler(ws: ServerConnection) -> None:
    try:
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
    except (TimeoutError, websockets.ConnectionClosed, ValueError):
        return
    if not isinstance(first, dict) or first.get("type") != "join":
        return
    room_id = str(first.get("room", ""))
    members = rooms.setdefault(room_id, set())
    members.add(ws)
    try:
        await ws.send('{"type":"joined"}')
        async for raw in ws:
            try:
                msg = json.loads(raw)
            except ValueError:
                continue
            if isinstance(msg, dict) and msg.get("type") == "chat":
                frame = json.dumps({"type": "chat", "text": str(msg.get("text", ""))}, separators=(",", ":"))
                websockets.broadcast(members, frame)
    except websockets.ConnectionClosed:
        pass
    finally:
        members.discard(ws)
        if not members:
            rooms.pop(room_id, None)


async def main(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(handler, host, port, compression=None, max_queue=None):
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(main(args.host, args.port))

"""Hearth nodes and redis-server as child processes of the benchmark: start them on free loopback
ports, wait until they answer, stop them; and the one call the small benchmarks make of a
joined socket (``recv_type``). Used by ``bench.driver`` (the full benchmark), ``bench.abuse``,
``bench.scenarios`` and the small benchmarks ``bench.quick_room`` and ``bench.two_nodes``."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from websockets.asyncio.client import ClientConnection

from bench.processes import free_port

SECRET = "b" * 40
NODE_ENV = {  # rate limits and outboxes raised so the limiter is not what is measured (also bench/)
    "HEARTH_SECRET": SECRET,
    "HEARTH_RATE_PER_SECOND": "1000000",
    "HEARTH_RATE_BURST": "1000000",
    "HEARTH_OUTBOX_SIZE": "100000",
    "HEARTH_OUTBOX_BYTES": "1073741824",
    "HEARTH_LOG_LEVEL": "warning",
    "HEARTH_MAX_CONNECTIONS_PER_ADDRESS": "0",  # every load client connects from 127.0.0.1
}


@dataclass
class Node:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def redis_server(directory: str) -> Iterator[tuple[str, int]]:
    executable = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(executable):
        raise SystemExit("redis-server is missing: apt-get install -y --no-install-recommends redis-server")
    port = free_port()
    process = subprocess.Popen(
        [
            executable,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            directory,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.01)
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.kill()
        process.wait(10)


async def start_nodes(
    count: int, store: str | None, data: str, env: dict[str, str] | None = None
) -> list[Node]:
    """``count`` nodes on ``store`` (None: each its own SQLite and memory), with ``NODE_ENV``
    and then ``env`` on top of this process's environment (without its ``HEARTH_`` variables)."""
    extra = env or {}
    nodes = []
    for index in range(count):
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            os.path.join(data, f"node{index}"),
        ]
        if store is not None:
            command += ["--store", store]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")} | NODE_ENV | extra
        with open(os.path.join(data, f"node{index}.log"), "wb") as log:  # the child keeps its own copy
            process = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=log)
        nodes.append(Node(process, port))
    try:
        for index, node in enumerate(nodes):
            try:
                await wait_ready(node.base, time.monotonic() + 30)
            except SystemExit:
                with open(os.path.join(data, f"node{index}.log"), "rb") as log:
                    tail = log.read()[-2000:].decode(errors="replace")
                raise RuntimeError(
                    f"node {index} did not start (exit code {node.process.poll()}):\n{tail}"
                ) from None
    except BaseException:
        stop_nodes(nodes)
        raise
    return nodes


def stop_nodes(nodes: list[Node]) -> None:
    for node in nodes:
        node.process.terminate()
    for node in nodes:
        try:
            node.process.wait(10)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(10)


async def wait_ready(base: str, deadline: float) -> None:
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("server did not start")


async def recv_type(ws: ClientConnection, kind: str) -> dict[str, object]:
    while True:
        msg: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] == kind:
            return msg

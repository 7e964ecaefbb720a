"""Several real Hearth nodes sharing rooms through one real redis-server.

``start_node(redis_url, **env)`` runs ``python -m server.cli serve`` as a subprocess on a free
loopback port, with the test secret (the same for every node) and ``env`` on top
(``HEARTH_UPKEEP_SECONDS="0.3"``...), waits (bounded) until ``/healthz`` answers, and returns a
``NodeProcess``: ``base_url``, ``ws_url``, ``kill()`` (SIGKILL), ``stop()`` (SIGTERM, then SIGKILL
on timeout), ``alive()``, and websocket clients (``tests.server.conftest.Client``) through
``connect()``/``joined()``. Each node's output goes to ``node-N.log`` in the test's directory.
Every node still running is stopped at teardown. Nothing reaches beyond 127.0.0.1.

``persistent_redis``: a redis-server of this test's own, with an append-only file fsynced on
every write, so ``kill()`` then ``start()`` brings it back with its data (a Redis crash that
loses nothing). A node refuses a live store that writes to disk: nodes started on it need
``HEARTH_LIVE_STORE_PERSISTENCE="warn"``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from websockets.asyncio.client import connect

from tests.conftest import RedisServer, free_port, started_redis
from tests.server.conftest import SECRET, TIMEOUT, Client, Room, token_of

REPO = Path(__file__).resolve().parents[2]
NODE_STARTUP_TIMEOUT = 20.0  # a cold Python start on a busy 2-core machine
STOP_TIMEOUT = 10.0


class NodeProcess:
    """One ``hearth serve`` subprocess."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path
        self.clients: list[Client] = []

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the node vanishes without closing anything, like a crashed machine."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL if that takes too long."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process.wait(timeout=STOP_TIMEOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, trust_env=False, timeout=TIMEOUT)

    async def connect(self) -> Client:
        ws = await connect(
            self.ws_url,
            proxy=None,
            compression=None,
            open_timeout=TIMEOUT,
            close_timeout=2,
            max_size=None,
            max_queue=None,  # read everything the server sends, as fast as it comes
        )
        client = Client(ws)
        self.clients.append(client)
        return client

    async def joined(self, token: str, name: str, **extra: Any) -> Client:
        """A new socket on this node that joined and got its ``welcome``."""
        client = await self.connect()
        reply = await client.join(token, name, **extra)
        assert reply["type"] == "welcome", reply
        return client

    async def create_room(self, **fields: Any) -> Room:
        async with self.http() as http:
            response = await http.post("/api/rooms", json={"title": "Tuesday group", **fields})
        assert response.status_code == 201, response.text
        body = response.json()
        return Room(body["room"]["id"], token_of(body["facilitator_link"]), token_of(body["member_link"]))

    async def ready(self) -> int:
        """The status code of ``/readyz``."""
        async with self.http() as http:
            return (await http.get("/readyz")).status_code


StartNode = Callable[..., Awaitable[NodeProcess]]


@pytest.fixture
async def start_node(tmp_path: Path) -> AsyncIterator[StartNode]:
    nodes: list[NodeProcess] = []

    async def start(redis_url: str, **env: Any) -> NodeProcess:
        index = len(nodes)
        port = free_port()
        data_dir = tmp_path / f"node-{index}"
        data_dir.mkdir()
        log_path = tmp_path / f"node-{index}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
        environment.update({"HEARTH_SECRET": SECRET, "PYTHONUNBUFFERED": "1"})
        environment.update({key: str(value) for key, value in env.items()})
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "server.cli",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--store",
                    redis_url,
                    "--data-dir",
                    str(data_dir),
                ],
                cwd=REPO,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        node = NodeProcess(process, port, log_path)
        nodes.append(node)
        deadline = time.monotonic() + NODE_STARTUP_TIMEOUT
        async with httpx.AsyncClient(trust_env=False, timeout=1.0) as http:
            while True:
                if not node.alive():
                    pytest.fail(f"node {index} exited with {process.returncode}:\n{node.log()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"node {index} gave no /healthz in {NODE_STARTUP_TIMEOUT}s:\n{node.log()}")
                try:
                    if (await http.get(f"{node.base_url}/healthz")).status_code == 200:
                        return node
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)

    try:
        yield start
    finally:
        for node in nodes:
            for client in node.clients:
                await client.close()
        for node in nodes:
            node.stop()


class PersistentRedis(RedisServer):
    """A redis-server that keeps everything in an append-only file, fsynced at every write."""

    PERSISTENCE = ("--save", "", "--appendonly", "yes", "--appendfsync", "always")


@pytest.fixture
def persistent_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PersistentRedis]:
    yield from started_redis(PersistentRedis, tmp_path_factory.mktemp("redis-aof"))


@pytest.fixture
def redis_keys(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client of the test's redis-server, to look at the keys the nodes leave."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=TIMEOUT)
    try:
        yield client
    finally:
        client.close()

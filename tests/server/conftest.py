"""Real servers for server tests: uvicorn on a loopback port, real websocket and HTTP clients.

``start_server(**overrides)`` runs ``create_app`` in this process under the same uvicorn
configuration as ``hearth serve`` (``server.cli_serve.uvicorn_config``) on 127.0.0.1, port 0, with a
fresh data directory and a test secret; ``overrides`` are ``Settings`` fields. Every wait here
is bounded; nothing reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from server.app import create_app
from server.cli_serve import uvicorn_config
from server.config import Settings
from server.hub import Connection as HubConnection
from server.node import Node

SECRET = "test-secret-" + "x" * 28  # 40 bytes: above the 32-byte minimum
TIMEOUT = 5.0  # the longest any single wait may take before a test fails

# Frames that carry no `seq` (PROTOCOL.md): addressed to some participants only.
UNNUMBERED = {"signal", "ack", "error", "pong", "lobby_changed", "speaking", "removed", "lobby"}


class Room(NamedTuple):
    id: str
    facilitator: str  # the token of the facilitator link
    member: str  # the token of the member link


def token_of(link: str) -> str:
    """The invite token of a link (``.../r/ROOM#k=TOKEN``)."""
    assert "#k=" in link, link
    return link.split("#k=", 1)[1]


class Client:
    """One websocket participant: JSON in and out, every wait bounded.

    Received messages wait in ``inbox`` until read; ``recv_until`` skips (drops) the ones before
    its match, while ``request`` takes its ack/error out of the inbox and leaves the rest there,
    so a command's own events are still there to read after its acknowledgement.
    """

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.id = ""  # set by `join` once welcomed
        self.welcome: dict[str, Any] | None = None
        self.inbox: list[dict[str, Any]] = []  # received, not read yet
        self.seen: list[dict[str, Any]] = []  # every message received, in order

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def _receive(self, timeout: float) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        message: dict[str, Any] = json.loads(raw)
        self.seen.append(message)
        return message

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        if self.inbox:
            return self.inbox.pop(0)
        return await self._receive(timeout)

    async def recv_until(
        self,
        kind: str | tuple[str, ...],
        where: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = TIMEOUT,
    ) -> dict[str, Any]:
        """The first message of type ``kind`` (and matching ``where``); earlier ones are dropped."""
        kinds = (kind,) if isinstance(kind, str) else kind
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {kinds} within {timeout}s")
            message = await self.recv(remaining)
            if message.get("type") in kinds and (where is None or where(message)):
                return message

    async def collect_until(
        self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None, timeout: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        """Every message read up to and including the first of type ``kind`` matching ``where``."""
        collected: list[dict[str, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {kind} within {timeout}s")
            message = await self.recv(remaining)
            collected.append(message)
            if message.get("type") == kind and (where is None or where(message)):
                return collected

    async def request(
        self, message: dict[str, Any], ref: str | int = "r", timeout: float = TIMEOUT
    ) -> dict[str, Any]:
        """Send ``message`` with ``id=ref``: its ``ack`` or ``error``, taken out of the inbox."""
        await self.send({**message, "id": ref})

        def answers(m: dict[str, Any]) -> bool:
            return m.get("type") in ("ack", "error") and m.get("ref") == ref

        for index, waiting in enumerate(self.inbox):
            if answers(waiting):
                return self.inbox.pop(index)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no answer to {message.get('type')} within {timeout}s")
            received = await self._receive(remaining)
            if answers(received):
                return received
            self.inbox.append(received)

    async def ok(self, message: dict[str, Any], ref: str | int = "ok") -> None:
        reply = await self.request(message, ref)
        assert reply == {"type": "ack", "ref": ref}, reply

    async def refused(self, message: dict[str, Any], code: str, ref: str | int = "no") -> dict[str, Any]:
        reply = await self.request(message, ref)
        assert reply["type"] == "error" and reply["code"] == code, reply
        assert isinstance(reply["message"], str) and reply["message"]
        return reply

    async def drain(self) -> list[dict[str, Any]]:
        """Everything queued for this client before now (read and returned): ping, read to the pong.

        After another client's command was acknowledged, every frame it caused is already
        queued, so this shows exactly what that command sent (or did not send) here.
        """
        await self.send({"type": "ping"})
        messages: list[dict[str, Any]] = []
        while True:
            message = await self.recv()
            if message == {"type": "pong"}:
                return messages
            messages.append(message)

    async def snapshot(self) -> dict[str, Any]:
        await self.send({"type": "sync"})
        return await self.recv_until("snapshot")

    async def join(self, token: str, name: str, agree: bool = True, **extra: Any) -> dict[str, Any]:
        """Send ``join``; the ``welcome`` (or ``lobby``, or ``error``) that answers it."""
        await self.send({"type": "join", "token": token, "name": name, "agree": agree, **extra})
        reply = await self.recv_until(("welcome", "lobby", "error"))
        if reply["type"] == "welcome":
            self.welcome = reply
            self.id = reply["you"]["id"]
        return reply

    async def wait_welcome(self) -> dict[str, Any]:
        reply = await self.recv_until("welcome")
        self.welcome = reply
        self.id = reply["you"]["id"]
        return reply

    async def expect_close(self, timeout: float = TIMEOUT) -> int | None:
        """Read everything still coming (kept in ``seen``) until the server closes: the close code
        it sent, or None when the connection ended without a close frame."""
        self.inbox.clear()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError(f"the server did not close within {timeout}s")
                await self._receive(remaining)
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd is not None else None

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), TIMEOUT)

    def abort(self) -> None:
        """Drop the connection like a lost network: no close frame, no leave."""
        transport = self.ws.transport
        assert transport is not None
        transport.abort()


@dataclass
class Running:
    """One in-process server."""

    app: Starlette
    server: uvicorn.Server
    task: asyncio.Task[None]
    settings: Settings
    port: int
    clients: list[Client] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def node(self) -> Node:
        node: Node = self.app.state.node
        return node

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, trust_env=False, timeout=TIMEOUT, **kwargs)

    async def connect(self, **kwargs: Any) -> Client:
        options: dict[str, Any] = {
            "proxy": None,
            "compression": None,
            "open_timeout": TIMEOUT,
            "close_timeout": 2,
            "max_size": None,
            **kwargs,
        }
        ws = await connect(self.ws_url, **options)
        client = Client(ws)
        self.clients.append(client)
        return client

    async def create_room(self, **fields: Any) -> Room:
        """POST /api/rooms with a title (and ``fields``): (room id, facilitator token, member token)."""
        headers = {}
        if self.settings.organizer_key:
            headers["Authorization"] = f"Bearer {self.settings.organizer_key}"
        async with self.http() as http:
            request = {"title": "Tuesday group", **fields}
            response = await http.post("/api/rooms", json=request, headers=headers)
        assert response.status_code == 201, response.text
        body = response.json()
        return Room(body["room"]["id"], token_of(body["facilitator_link"]), token_of(body["member_link"]))

    async def joined(self, token: str, name: str, **extra: Any) -> Client:
        """A new socket that joined and got its ``welcome``."""
        client = await self.connect()
        reply = await client.join(token, name, **extra)
        assert reply["type"] == "welcome", reply
        return client

    async def live_room(self, *members: str, **fields: Any) -> tuple[Room, Client, list[Client]]:
        """A room without a lobby (unless ``fields`` say otherwise), its facilitator "Fran"
        joined, then one joined member per name; everyone's earlier frames are read."""
        fields.setdefault("lobby", False)
        room = await self.create_room(**fields)
        facilitator = await self.joined(room.facilitator, "Fran")
        people = [await self.joined(room.member, name) for name in members]
        for client in [facilitator, *people]:
            await client.drain()
        return room, facilitator, people

    async def stop(self) -> None:
        for client in self.clients:
            await client.close()
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 15)
        except TimeoutError:
            self.server.force_exit = True
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


StartServer = Callable[..., Awaitable[Running]]


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "secret": SECRET, "host": "127.0.0.1", "port": 0}
    # Everything runs on loopback here: the connection check's echo peer must be allowed to reach
    # 127.0.0.1 candidates (test/dev only; tests of the candidate filter turn it off).
    values["check_allow_loopback"] = True
    values.update(overrides)
    return Settings.from_env({}, **values)


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[StartServer]:
    running: list[Running] = []

    async def start(**overrides: Any) -> Running:
        # ``data_dir=`` another server's: a restart of it, on the same files.
        data_dir = overrides.pop("data_dir", tmp_path / f"node{len(running)}")
        settings = make_settings(data_dir, **overrides)
        app = create_app(settings)
        config = uvicorn_config(settings, app)
        config.timeout_graceful_shutdown = 5
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("the server stopped before it started")
            if loop.time() > deadline:
                raise TimeoutError("the server did not start")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        node = Running(app=app, server=server, task=task, settings=settings, port=port)
        running.append(node)
        return node

    yield start
    for node in reversed(running):
        await node.stop()


@pytest.fixture
async def server(start_server: StartServer) -> Running:
    """A server with the default settings (and the test secret)."""
    return await start_server()


async def member_who_stops_reading(server: Running, room: Room, name: str) -> tuple[Client, HubConnection]:
    """A member joined on a socket with a small receive buffer that, after its welcome, reads
    nothing; and the server's side of it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", server.port)), 5)
    client = await server.connect(max_queue=1, sock=sock)
    assert (await client.join(room.member, name))["type"] == "welcome"
    await client.drain()
    server_side = server.node.hub.connection(room.id, client.id)
    assert server_side is not None
    return client, server_side

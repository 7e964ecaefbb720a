"""Connection-level limits on a real server (the uvicorn configuration of ``hearth serve``): a
deadline for request headers, and a cap on open connections (HTTP and websocket) per address."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import yaml
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from server.config import Settings
from tests.server.conftest import TIMEOUT, Client, Running, StartServer


async def open_raw(server: Running) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", server.port), TIMEOUT)


async def closed_by_server(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """What the server sent before closing (b"" for a plain close or a reset)."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionResetError:
        return b""


async def http_ok(server: Running) -> bool:
    """Whether a new connection gets an answer to GET /healthz (False: refused by the cap)."""
    try:
        reader, writer = await open_raw(server)
    except OSError:
        return False
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = await closed_by_server(reader, TIMEOUT)
    finally:
        writer.close()
    return answer.startswith(b"HTTP/1.1 200")


async def admitted_socket(server: Running) -> Client:
    """A new websocket, retried (bounded) while the server has not yet seen a place freed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while True:
        try:
            return await server.connect()
        except (InvalidStatus, OSError, EOFError):
            assert loop.time() < deadline, "no connection place came free"
            await asyncio.sleep(0.05)


async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> None:
    """Send ``data`` a byte every 50 ms until the server closes (or TIMEOUT passes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    with contextlib.suppress(ConnectionError):
        for byte in data:
            if reader.at_eof() or loop.time() > deadline:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.05)


async def test_half_a_request_line_is_closed_after_the_header_timeout(start_server: StartServer) -> None:
    server = await start_server(header_timeout=0.5)
    reader, writer = await open_raw(server)
    writer.write(b"GET /heal")  # and then nothing (slowloris)
    await writer.drain()
    answer = await closed_by_server(reader, TIMEOUT)  # closed long before TIMEOUT
    assert answer == b"", answer[:60]
    writer.close()
    # Trickling bytes does not reset the deadline (uvicorn's keep-alive timer would be).
    reader, writer = await open_raw(server)
    await trickle(reader, writer, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000)
    assert (await closed_by_server(reader, TIMEOUT)) == b""
    assert reader.at_eof()
    writer.close()
    # A connection that sends nothing at all is closed too; a prompt request is answered.
    reader, writer = await open_raw(server)
    assert (await closed_by_server(reader, TIMEOUT)) == b""
    writer.close()
    assert await http_ok(server)
    # Only headers have a deadline: a websocket lives on well past it.
    _room, fac, (ann,) = await server.live_room("Ann")
    await asyncio.sleep(1.0)  # twice the header timeout
    await ann.ok({"type": "chat", "text": "still here"})
    assert (await fac.recv_until("chat"))["message"]["text"] == "still here"


async def test_the_header_deadline_applies_to_each_request_on_a_kept_alive_connection(
    start_server: StartServer,
) -> None:
    server = await start_server(header_timeout=0.5)
    reader, writer = await open_raw(server)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
    assert head.startswith(b"HTTP/1.1 200")
    await asyncio.wait_for(reader.readexactly(2), TIMEOUT)  # "ok"
    # Keep the connection busy with a second request that never completes its headers.
    await trickle(reader, writer, b"GET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 1000)
    assert (await closed_by_server(reader, TIMEOUT)) == b""
    assert reader.at_eof()
    writer.close()


async def test_the_connection_cap_per_address(start_server: StartServer) -> None:
    cap = 3
    server = await start_server(max_connections_per_address=cap, header_timeout=60)
    room = await server.create_room(lobby=False)
    # Mixed: two websockets (joined) and one bare HTTP connection, all from 127.0.0.1. The first
    # waits for the server to have seen the end of create_room's HTTP connection.
    fac = await admitted_socket(server)
    assert (await fac.join(room.facilitator, "Fran"))["type"] == "welcome"
    ann = await server.joined(room.member, "Ann")
    _reader, writer = await open_raw(server)
    try:
        assert not await http_ok(server)  # the fourth: refused
        with pytest.raises((InvalidStatus, OSError, EOFError)):
            extra: ClientConnection = await connect(server.ws_url, proxy=None, open_timeout=TIMEOUT)
            await extra.close()
        # The three that are open still work.
        await ann.ok({"type": "chat", "text": "fine"})
        assert (await fac.recv_until("chat"))["message"]["text"] == "fine"
    finally:
        writer.close()
    # Once one closes, a new connection is accepted again (after the server has seen the close).
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TIMEOUT
    while not await http_ok(server):
        assert loop.time() < deadline, "a closed connection never gave its place back"
        await asyncio.sleep(0.05)
    await ann.close()
    bea = await admitted_socket(server)  # a websocket's place comes back too
    assert (await bea.join(room.member, "Bea"))["type"] == "welcome"


async def test_the_default_cap_and_zero_for_none(start_server: StartServer) -> None:
    capped = await start_server(header_timeout=60)
    uncapped = await start_server(max_connections_per_address=0, header_timeout=60)
    cap = capped.settings.max_connections_per_address
    assert cap > 0
    for server, refused in ((capped, True), (uncapped, False)):
        held = [await open_raw(server) for _ in range(cap)]
        try:
            assert (not await http_ok(server)) is refused
        finally:
            for _reader, writer in held:
                writer.close()


def test_compose_nodes_behind_the_proxy_have_no_per_address_cap() -> None:
    """Behind Caddy every client shares the proxy's address: a cap would lock everyone out."""
    from tests.test_compose import COMPOSE, OPERATOR_ENV, environment, interpolate, service

    spec = yaml.safe_load(COMPOSE.read_text())
    for name in ("hearth1", "hearth2"):
        env = {k: interpolate(v, OPERATOR_ENV) for k, v in environment(service(spec, name)).items()}
        settings = Settings.from_env(env, data_dir="/tmp/unused", secret="s" * 48)
        assert settings.max_connections_per_address == 0, name

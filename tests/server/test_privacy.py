"""What people say and who they are never reaches the logs, even at debug level.

``hearth serve`` runs as a real process with ``HEARTH_LOG_LEVEL=debug``; a whole session goes
through it; afterwards its stdout and stderr must hold none of the names, chat texts, SDP,
candidates or tokens that went by.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.server.conftest import SECRET, TIMEOUT, Client, token_of

REPO = Path(__file__).resolve().parents[2]

NAMES = ["Qorvathine", "Zyxwanda", "Plimbertson"]
CHAT = "MARMALADE-GALAXY-7731 my private story"
PRIVATE = "HUSHHUSH-4411 please call me later"
SDP_MARK = "UNIQUESDPMARK"
CANDIDATE_MARK = "UNIQUECANDMARK"
BAD_VALUE = "LEAKYVALUE-9182"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Process:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, out: Path, err: Path) -> None:
        self.proc, self.port, self.out, self.err = proc, port, out, err

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def output(self) -> tuple[str, str]:
        return self.out.read_text(errors="replace"), self.err.read_text(errors="replace")


@pytest.fixture
async def hearth_process(tmp_path: Path) -> AsyncIterator[Process]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env.update({"HEARTH_SECRET": SECRET, "HEARTH_LOG_LEVEL": "debug", "PYTHONUNBUFFERED": "1"})
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            cwd=REPO,
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    process = Process(proc, port, out, err)
    try:
        async with httpx.AsyncClient(base_url=process.base_url, trust_env=False, timeout=2) as http:
            for _ in range(300):
                if proc.poll() is not None:
                    raise RuntimeError(f"hearth serve exited: {process.output()}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError("hearth serve did not answer /healthz")
        yield process
    finally:
        process.stop()


async def client_for(process: Process) -> Client:
    ws = await connect(
        f"ws://127.0.0.1:{process.port}/ws",
        proxy=None,
        compression=None,
        open_timeout=TIMEOUT,
        close_timeout=2,
    )
    return Client(ws)


async def test_a_whole_session_leaves_no_personal_data_in_the_logs(hearth_process: Process) -> None:
    process = hearth_process
    secrets_seen: list[str] = []
    async with httpx.AsyncClient(base_url=process.base_url, trust_env=False, timeout=TIMEOUT) as http:
        created = await http.post("/api/rooms", json={"title": "Privacy check", "lobby": True})
        assert created.status_code == 201
        body = created.json()
        room_id = body["room"]["id"]
        facilitator, member = token_of(body["facilitator_link"]), token_of(body["member_link"])
        secrets_seen += [facilitator, member]
        # Tokens in a query string and in headers stay out of the logs too.
        assert (await http.get(f"/r/{room_id}", params={"k": member})).status_code == 200
        rotated = await http.post(
            f"/api/rooms/{room_id}/invite", headers={"Authorization": f"Bearer {facilitator}"}
        )
        assert rotated.status_code == 200
        new_member = token_of(rotated.json()["member_link"])
        secrets_seen.append(new_member)

    clients: list[Client] = []
    try:
        fac = await client_for(process)
        clients.append(fac)
        assert (await fac.join(facilitator, NAMES[0]))["type"] == "welcome"
        stale = await client_for(process)
        clients.append(stale)
        assert (await stale.join(member, "Stale Linkperson"))["code"] == "unauthorized"  # rotated away
        people = []
        for name in NAMES[1:]:
            client = await client_for(process)
            clients.append(client)
            bad = await client.join(new_member, "\x00" + name)  # a refused name is not logged either
            assert bad["code"] == "bad_message"
            assert (await client.join(new_member, name, device=f"device-{name}"))["type"] == "lobby"
            people.append(client)
        await fac.recv_until("lobby_changed", lambda m: len(m["waiting"]) == 2)
        await fac.ok({"type": "admit_all"})
        for client in people:
            await client.wait_welcome()
        wanda, plimbert = people
        for client in (fac, *people):
            assert client.welcome is not None
            secrets_seen.append(client.welcome["resume"])

        await wanda.ok({"type": "chat", "text": CHAT})
        await plimbert.ok({"type": "chat", "text": PRIVATE, "to": "facilitators"})
        sdp = "\r\n".join(
            [
                "v=0",
                "o=- 4611 2 IN IP4 127.0.0.1",
                f"s={SDP_MARK}",
                "a=candidate:1 1 udp 1 10.9.8.7 9 typ host",
                "",
            ]
        )
        offer = {"description": {"type": "offer", "sdp": sdp}}
        await wanda.ok({"type": "signal", "to": plimbert.id, "data": offer})
        candidate = f"candidate:{CANDIDATE_MARK} 1 udp 2122260223 10.9.8.7 50000 typ host"
        await plimbert.ok({"type": "signal", "to": wanda.id, "data": {"candidate": {"candidate": candidate}}})
        assert (await wanda.recv_until("signal"))["data"]["candidate"]["candidate"] == candidate
        await wanda.refused({"type": "hand", "raised": BAD_VALUE}, "bad_message")
        await wanda.send_raw(f"not json {BAD_VALUE}")
        await wanda.recv_until("error")
        await wanda.refused({"type": BAD_VALUE}, "unknown_type")
        await wanda.refused({"type": "chat", "text": BAD_VALUE * 300}, "too_large")
        assert plimbert.welcome is not None
        await plimbert.ok({"type": "react", "emoji": plimbert.welcome["reactions"][0]})
        message_id = (await fac.recv_until("chat", lambda m: m["message"]["text"] == CHAT))["message"]["id"]
        await fac.ok({"type": "delete_chat", "message_id": message_id})
        await fac.ok({"type": "remove", "target": plimbert.id, "ban": True})
        wanda.abort()  # a dropped connection, resumed
        back = await client_for(process)
        clients.append(back)
        assert wanda.welcome is not None
        assert (await back.join(new_member, NAMES[1], resume=wanda.welcome["resume"]))["type"] == "welcome"
        assert back.welcome is not None
        secrets_seen.append(back.welcome["resume"])
        await fac.send({"type": "end_session"})
        assert await fac.expect_close() == 4010
        assert await back.expect_close() == 4010
    finally:
        for client in clients:
            await client.close()
    process.stop()  # Ctrl-C: a graceful stop
    assert process.proc.returncode == 0

    stdout, stderr = process.output()
    everything = stdout + stderr
    assert "Traceback" not in stderr
    # The session was logged (ids, types, codes), so the checks below prove something.
    assert '"msg": "joined"' in stderr and '"msg": "connection closed"' in stderr
    forbidden = [
        *NAMES,
        "Stale Linkperson",
        CHAT,
        "MARMALADE",
        PRIVATE,
        "HUSHHUSH",
        SDP_MARK,
        CANDIDATE_MARK,
        "10.9.8.7",
        BAD_VALUE,
        *secrets_seen,
    ]
    leaks = [word for word in forbidden if word in everything]
    assert not leaks, f"found in the server output: {[w[:20] for w in leaks]}"
    # The only tokens ever printed (even cut short) are the first room's links, printed on purpose.
    for line in everything.splitlines():
        if "eyJ" in line:
            assert line.startswith(("Facilitator link", "Member link")), line[:60]
    # Logs are JSON lines, uvicorn's own included; none is a dump of a message.
    assert stderr.strip()
    for line in stderr.splitlines():
        entry = json.loads(line)
        assert set(entry) <= {
            "ts",
            "level",
            "logger",
            "msg",
            "room",
            "participant",
            "conn",
            "code",
            "type",
            "role",
            "reason",
            "count",
            "error",
        }, entry


async def raw_http(port: int, request: bytes) -> tuple[int, bytes]:
    """One HTTP exchange on a fresh connection: (the client's own port, the answer)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
    try:
        client_port: int = writer.get_extra_info("sockname")[1]
        writer.write(request)
        answer = await asyncio.wait_for(reader.read(), TIMEOUT)  # the server closes: Connection: close
    finally:
        writer.close()
    return client_port, answer


async def test_no_client_address_reaches_the_logs_and_every_line_is_json(hearth_process: Process) -> None:
    """uvicorn logged every websocket as 'IP:PORT - "WebSocket /ws?query" [accepted]', in plain
    text. Its lines now go through Hearth's JSON formatter, without the address or the query."""
    process = hearth_process
    ports: list[int] = []
    host = f"Host: 127.0.0.1:{process.port}\r\n".encode()
    async with httpx.AsyncClient(base_url=process.base_url, trust_env=False, timeout=TIMEOUT) as http:
        created = await http.post("/api/rooms", json={"title": "Addresses", "lobby": False})
    room_id, member = created.json()["room"]["id"], token_of(created.json()["member_link"])
    for request in (
        b"GET /healthz HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n",
        f"GET /r/{room_id}?k={member} HTTP/1.1\r\n".encode() + host + b"Connection: close\r\n\r\n",
        b"GET /nowhere HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        b"NONSENSE\x00\r\n\r\n",  # uvicorn: "Invalid HTTP request received."
    ):
        client_port, answer = await raw_http(process.port, request)
        ports.append(client_port)
        assert answer.startswith(b"HTTP/1.1 "), answer[:40]

    options = {"proxy": None, "compression": None, "open_timeout": TIMEOUT, "close_timeout": 2}
    sockets = []
    try:
        for query in ("", f"?k={member}"):  # uvicorn logs the path with its query
            ws = await connect(f"ws://127.0.0.1:{process.port}/ws{query}", **options)  # type: ignore[arg-type]
            sockets.append(ws)
            ports.append(ws.transport.get_extra_info("sockname")[1])
            client = Client(ws)
            assert (await client.join(member, f"Person{len(sockets)}"))["type"] in ("welcome", "lobby")
        # A refused handshake (foreign Origin) is logged by uvicorn as '... "WebSocket /ws" 403'.
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", process.port), TIMEOUT)
        ports.append(writer.get_extra_info("sockname")[1])
        writer.write(
            b"GET /ws HTTP/1.1\r\n" + host + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            b"Origin: https://evil.example\r\n\r\n"
        )
        refused = await asyncio.wait_for(reader.read(), TIMEOUT)
        writer.close()
        assert refused.startswith(b"HTTP/1.1 403"), refused[:40]
    finally:
        for ws in sockets:
            await ws.close()
    process.stop()
    assert process.proc.returncode == 0

    _stdout, stderr = process.output()
    lines = stderr.splitlines()
    entries = [json.loads(line) for line in lines]  # every line is JSON, uvicorn's too
    assert any(entry["logger"].startswith("uvicorn") for entry in entries)
    assert any("WebSocket" in entry["msg"] for entry in entries)  # the lines that used to carry addresses
    for port in ports:
        assert f"127.0.0.1:{port}" not in stderr
        pattern = re.compile(rf"(?<![0-9A-Za-z]){port}(?![0-9A-Za-z])")
        assert not [line for line in lines if pattern.search(line)], f"client port {port} in the logs"
    assert member not in stderr and "?k=" not in stderr

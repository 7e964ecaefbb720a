"""Confidential means nothing on disk: what a session says, and who was in it, never reaches a
Redis data file; room definitions stay durable. Redis is run as docker-compose.yml runs it: a
durable one with an append-only file (room definitions) and a live one that keeps nothing."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import RedisServer, started_redis, stop_process
from tests.nodes.conftest import REPO, StartNode
from tests.polling import eventually
from tests.server.conftest import SECRET, TIMEOUT

pytestmark = [pytest.mark.slow, pytest.mark.redis]


class DurableRedis(RedisServer):
    """docker-compose.yml's `redis`: an append-only file, fsynced every second."""

    PERSISTENCE = ("--appendonly", "yes", "--appendfsync", "everysec")


@pytest.fixture
def durable_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DurableRedis]:
    yield from started_redis(DurableRedis, tmp_path_factory.mktemp("redis-durable"))


def files_holding(directory: Path, markers: list[str]) -> dict[str, list[str]]:
    """Every file under ``directory`` (Redis's own log aside) that holds one of ``markers``."""
    found: dict[str, list[str]] = {}
    for path in directory.rglob("*"):
        if not path.is_file() or path.name == "redis.log":
            continue
        data = path.read_bytes()
        held = [marker for marker in markers if marker.encode() in data]
        if held:
            found[str(path)] = held
    return found


def bgrewriteaof_done(client: redis.Redis) -> bool:
    info = client.info("persistence")
    return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]


async def test_no_chat_nor_name_of_a_session_reaches_a_redis_data_file(
    durable_redis: DurableRedis, redis_server: RedisServer, start_node: StartNode
) -> None:
    env = {"HEARTH_LIVE_STORE": redis_server.url}
    a, b = await asyncio.gather(start_node(durable_redis.url, **env), start_node(durable_redis.url, **env))
    room = await a.create_room(lobby=False, title="Thursday circle")
    tag = secrets.token_hex(6)
    names = [f"Fran{tag}", f"Ann{tag}", f"Bob{tag}"]
    texts = [f"group-{tag}", f"private-{tag}", f"later-{tag}"]
    fran = await a.joined(room.facilitator, names[0])
    ann = await b.joined(room.member, names[1])
    bob = await a.joined(room.member, names[2])
    await ann.ok({"type": "chat", "text": texts[0]})
    await bob.ok({"type": "chat", "text": texts[1], "to": "facilitators"})
    await fran.ok({"type": "chat", "text": texts[2]})
    for text in (texts[0], texts[2]):
        await bob.recv_until("chat", lambda m, text=text: m["message"]["text"] == text)
    await fran.recv_until("chat", lambda m: m["message"]["text"] == texts[1])
    markers = names + texts

    durable = redis.Redis.from_url(durable_redis.url, socket_timeout=TIMEOUT)
    live = redis.Redis.from_url(redis_server.url, socket_timeout=TIMEOUT)
    try:
        # Mid-session: nothing of it in any file, even with an RDB snapshot of all the durable
        # Redis holds now; the live Redis holds it all, the durable one nothing of it.
        durable.save()
        assert files_holding(durable_redis.directory, markers) == {}
        assert files_holding(redis_server.directory, markers) == {}
        assert live.exists(f"hearth:live:{room.id}") and not durable.exists(f"hearth:live:{room.id}")

        await fran.ok({"type": "end_session"})
        await eventually(lambda: not live.exists(f"hearth:live:{room.id}"), what="the session's end")
        durable.bgrewriteaof()
        await eventually(lambda: bgrewriteaof_done(durable), timeout=10, what="the AOF rewrite")
        durable.save()
        # Both directories, every file: the AOF (base and increments), the RDB, anything else.
        assert files_holding(durable_redis.directory, markers) == {}
        assert files_holding(redis_server.directory, markers) == {}
        # The room itself is durable: still there, in the append-only file.
        assert durable.hexists("hearth:rooms", room.id)
        assert files_holding(durable_redis.directory, [room.id])
    finally:
        durable.close()
        live.close()


def serve_refused(store: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``hearth serve`` on ``store``, expected to stop before serving (bounded)."""
    environment = {"HEARTH_SECRET": SECRET, "PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", "0", "--store", store],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def test_a_live_store_that_writes_to_disk_is_refused(
    durable_redis: DurableRedis, redis_server: RedisServer
) -> None:
    # The same Redis for everything, with an append-only file: the live state would go to disk.
    result = serve_refused(durable_redis.url)
    assert result.returncode == 2, result.stderr
    assert "append-only file" in result.stderr and "HEARTH_LIVE_STORE" in result.stderr
    assert "Traceback" not in result.stderr
    # A live store with RDB snapshots configured is refused too.
    snapshots = redis.Redis.from_url(redis_server.url, socket_timeout=TIMEOUT)
    try:
        snapshots.config_set("save", "3600 1")
        result = serve_refused(durable_redis.url, HEARTH_LIVE_STORE=redis_server.url)
    finally:
        snapshots.config_set("save", "")
        snapshots.close()
    assert result.returncode == 2 and "RDB snapshots" in result.stderr, result.stderr


async def test_running_anyway_on_a_disk_live_store_warns_in_a_json_line(
    durable_redis: DurableRedis, tmp_path: Path
) -> None:
    """With HEARTH_LIVE_STORE_PERSISTENCE=warn the node serves, and its warning is a JSON log line
    like every other line on its stderr (log collectors parse them all)."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    environment = {"HEARTH_SECRET": SECRET, "PATH": "/usr/bin:/bin", "HEARTH_LIVE_STORE_PERSISTENCE": "warn"}
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", "0", "--store", durable_redis.url],
            cwd=REPO,
            env=environment,
            stdout=stdout,
            stderr=stderr,
        )
    try:
        await eventually(
            lambda: "Hearth is running" in out.read_text() or server.poll() is not None,
            "hearth serve to start",
            timeout=TIMEOUT * 3,
        )
        await eventually(
            lambda: "Uvicorn running" in err.read_text(), "uvicorn's start line", timeout=TIMEOUT * 3
        )
    finally:
        stop_process(server, 30)
    entries = [json.loads(line) for line in err.read_text().splitlines()]
    [warning] = [entry for entry in entries if entry.get("reason") == "live_store_on_disk"]
    assert warning["level"] == "warning" and "append-only file" in warning["msg"]

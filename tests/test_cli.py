"""The `hearth` command, run as a real process (not `serve` serving: that is tested with the app)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from rooms.backends.sqlite_directory import SqliteDirectory
from rooms.model import FloorMode, MediaMode, Role, RoomConfig
from server.cli_rooms import FIRST_ROOM_TITLE
from server.cli_rooms import ensure_first_room as _ensure_first_room
from server.cli_serve import uvicorn_config
from server.config import Settings
from server.links import new_room_id, room_links
from server.tokens import verify_invite
from tests.conftest import RedisServer, free_port, stop_process
from tests.polling import eventually

SECRET = "cli-test-secret-" + "s" * 24

LINK = re.compile(r"(?P<base>https?://\S+)/r/(?P<room>[\w-]+)#k=(?P<token>\S+)")
PUBLIC_URL = "https://hearth.example.org"


def hearth(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    clean.update({"HEARTH_DATA_DIR": str(data_dir), "HEARTH_PUBLIC_URL": PUBLIC_URL, **env})
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        env=clean,
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def secret_of(data_dir: Path) -> str:
    return (data_dir / "secret").read_text().strip()


def links(output: str) -> list[re.Match[str]]:
    return list(LINK.finditer(output))


def test_rooms_create_prints_two_working_links(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    args = ["Tuesday circle", "--floor-mode=circle", "--no-lobby", "--turn-seconds=90", "--topic=Pain"]
    result = hearth(data_dir, "rooms", "create", *args)
    assert result.returncode == 0, result.stderr
    facilitator, member = links(result.stdout)
    assert facilitator["base"] == member["base"] == PUBLIC_URL
    assert facilitator["room"] == member["room"]
    secret = secret_of(data_dir)
    f_claims = verify_invite(secret, facilitator["token"])
    m_claims = verify_invite(secret, member["token"])
    assert (f_claims.role, m_claims.role) == (Role.FACILITATOR, Role.MEMBER)
    assert f_claims.room == m_claims.room == facilitator["room"]
    assert f_claims.version == m_claims.version == 1
    assert (m_claims.sub, m_claims.name) == (None, None)

    listing = hearth(data_dir, "rooms", "list")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.split("\n")[0].split("\t") == [facilitator["room"], "Tuesday circle"]


async def test_rooms_create_stores_the_settings(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    args = ["Evenings", "--floor-mode=queue", "--no-lobby", "--max-participants=6", "--crisis-text=Call 112"]
    result = hearth(data_dir, "rooms", "create", *args, "--agreement", "Be kind", "--media", "sfu")
    assert result.returncode == 0, result.stderr
    [facilitator, _] = links(result.stdout)
    directory = SqliteDirectory(data_dir / "hearth.db")
    await directory.open()
    try:
        config = await directory.get(facilitator["room"])
    finally:
        await directory.close()
    assert config is not None
    assert (config.title, config.floor_mode, config.lobby) == ("Evenings", FloorMode.QUEUE, False)
    assert (config.max_participants, config.crisis_text, config.agreement) == (6, "Call 112", "Be kind")
    assert config.media is MediaMode.SFU
    assert config.created_at > 0


def test_token_prints_a_valid_token(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    created = hearth(data_dir, "rooms", "create", "Mornings")
    room_id = links(created.stdout)[0]["room"]
    args = ["token", f"--room={room_id}", "--role=member", "--sub=p-9", "--name=Ana", "--ttl=600"]
    result = hearth(data_dir, *args)
    assert result.returncode == 0, result.stderr
    claims = verify_invite(secret_of(data_dir), result.stdout.strip())
    assert (claims.room, claims.role, claims.sub, claims.name) == (room_id, Role.MEMBER, "p-9", "Ana")
    assert claims.version == 1


def test_token_flags_override_the_environment(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    secret = "a-secret-given-on-the-command-line-0123456789"
    store = f"sqlite:///{tmp_path}/elsewhere/rooms.db"
    created = hearth(data_dir, "rooms", "create", "Elsewhere", "--store", store, "--secret", secret)
    assert created.returncode == 0, created.stderr
    room_id = links(created.stdout)[0]["room"]
    assert (tmp_path / "elsewhere" / "rooms.db").exists()
    args = ["token", f"--room={room_id}", "--role=facilitator"]
    result = hearth(data_dir, *args, HEARTH_STORE=store, HEARTH_SECRET=secret)
    assert result.returncode == 0, result.stderr
    assert verify_invite(secret, result.stdout.strip()).role is Role.FACILITATOR


@pytest.mark.parametrize(
    ("flags", "base"),
    [
        (["--port", "8765"], "http://127.0.0.1:8765"),
        (["--host", "::1", "--port", "8766"], "http://[::1]:8766"),
        (["--public-url", "https://group.example.net/"], "https://group.example.net"),
    ],
)
def test_rooms_create_links_follow_port_and_public_url(tmp_path: Path, flags: list[str], base: str) -> None:
    """The links point where the server runs when `rooms create` is given what `serve` was given,
    and the output says which base it used and how to change it."""
    result = hearth(tmp_path / "data", "rooms", "create", "Evenings", *flags, HEARTH_PUBLIC_URL="")
    assert result.returncode == 0, result.stderr
    assert [link["base"] for link in links(result.stdout)] == [base, base]
    assert f"Links use {base} (from --" in result.stdout


def test_room_commands_use_the_base_serve_ran_with(tmp_path: Path) -> None:
    """After `hearth serve --port N`, `rooms create` without flags prints links on port N (not
    8080) and says so; a restarted server prints the command that shows the first room's links."""
    data_dir = tmp_path / "data"
    port = free_port()
    first = asyncio.run(_serve_until_running(tmp_path, data_dir, port, "first.out"))
    [first_facilitator, _] = links(first)
    assert first_facilitator["base"] == f"http://127.0.0.1:{port}"

    created = hearth(data_dir, "rooms", "create", "Evenings", HEARTH_PUBLIC_URL="")
    assert result_ok(created)
    base = f"http://127.0.0.1:{port}"
    assert [link["base"] for link in links(created.stdout)] == [base, base]
    assert f"Links use {base} (where `hearth serve` last ran" in created.stdout
    assert "--public-url" in created.stdout

    again = asyncio.run(_serve_until_running(tmp_path, data_dir, port, "again.out"))
    assert links(again) == []  # no links in a restarted server's output: the command that prints them
    assert f"hearth rooms links {first_facilitator['room']}" in again


def result_ok(result: subprocess.CompletedProcess[str]) -> bool:
    assert result.returncode == 0, result.stderr
    return True


async def _serve_until_running(tmp_path: Path, data_dir: Path, port: int, name: str) -> str:
    """Run `hearth serve --port PORT` until it says it is running; return what it printed on stdout."""
    out_path = tmp_path / name
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    env["HEARTH_DATA_DIR"] = str(data_dir)
    with out_path.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
    try:
        await eventually(
            lambda: "Hearth is running" in out_path.read_text() or server.poll() is not None,
            "hearth serve to start",
            timeout=60,
        )
    finally:
        stop_process(server, 30)
    return out_path.read_text()


def test_rooms_links_prints_the_current_links(tmp_path: Path) -> None:
    """`rooms links ID` prints links that work for the room's current versions (after rotations),
    on the base given like `serve`'s."""
    data_dir = tmp_path / "data"
    created = hearth(data_dir, "rooms", "create", "Evenings")
    room = links(created.stdout)[0]["room"]
    for kind in ("--member", "--member", "--facilitator"):
        assert result_ok(hearth(data_dir, "rooms", "rotate", room, kind))

    shown = hearth(data_dir, "rooms", "links", room, "--port", "8765", HEARTH_PUBLIC_URL="")
    assert result_ok(shown)
    facilitator, member = links(shown.stdout)
    assert facilitator["base"] == member["base"] == "http://127.0.0.1:8765"
    assert facilitator["room"] == member["room"] == room
    config = asyncio.run(_stored_room(data_dir, room))
    assert (config.invite_version, config.facilitator_version) == (3, 2)
    secret = secret_of(data_dir)
    f_claims = verify_invite(secret, facilitator["token"])
    m_claims = verify_invite(secret, member["token"])
    assert (f_claims.role, m_claims.role) == (Role.FACILITATOR, Role.MEMBER)
    assert f_claims.current_for(config) and m_claims.current_for(config)

    unknown = hearth(data_dir, "rooms", "links", "nope")
    assert unknown.returncode == 1
    assert "nope" in unknown.stderr


async def _stored_room(data_dir: Path, room: str) -> RoomConfig:
    directory = SqliteDirectory(data_dir / "hearth.db")
    await directory.open()
    try:
        config = await directory.get(room)
    finally:
        await directory.close()
    assert config is not None
    return config


def test_token_for_an_unknown_room_fails(tmp_path: Path) -> None:
    result = hearth(tmp_path / "data", "token", "--room", "nope", "--role", "member")
    assert result.returncode == 1
    assert "nope" in result.stderr
    assert result.stdout == ""


def test_serve_off_loopback_needs_an_organizer_key(tmp_path: Path) -> None:
    result = hearth(tmp_path / "data", "serve", "--host", "0.0.0.0", "--port", "0")
    assert result.returncode == 2
    assert "HEARTH_ORGANIZER_KEY" in result.stderr
    assert not (tmp_path / "data" / "hearth.db").exists()


def test_serve_with_janus_needs_its_secret(tmp_path: Path) -> None:
    janus = ["--janus-urls", "ws://127.0.0.1:8188"]
    result = hearth(tmp_path / "data", "serve", "--port", "0", *janus, HEARTH_PUBLIC_URL="")
    assert result.returncode == 2
    assert "HEARTH_JANUS_SECRET" in result.stderr
    result = hearth(tmp_path / "data", "serve", "--janus-urls", "ws://127.0.0.1", HEARTH_JANUS_SECRET="s")
    assert result.returncode == 2
    assert "--janus-urls" in result.stderr and "ws://HOST:PORT" in result.stderr


def test_bad_setting_exits_2_naming_it(tmp_path: Path) -> None:
    result = hearth(tmp_path / "data", "serve", "--port", "eighty")
    assert result.returncode == 2
    assert "HEARTH_PORT" in result.stderr
    result = hearth(tmp_path / "data", "rooms", "list", HEARTH_ICE_POLICY="maybe")
    assert result.returncode == 2
    assert "HEARTH_ICE_POLICY" in result.stderr


def test_room_commands_work_on_a_redis_store(tmp_path: Path, redis_server: RedisServer) -> None:
    created = hearth(
        tmp_path / "data", "rooms", "create", "Shared", "--store", redis_server.url, HEARTH_SECRET=SECRET
    )
    assert created.returncode == 0, created.stderr
    room_id = created.stdout.split()[1].rstrip(":")
    listed = hearth(tmp_path / "other", "rooms", "list", "--store", redis_server.url, HEARTH_SECRET=SECRET)
    assert f"{room_id}\tShared" in listed.stdout
    token = hearth(
        tmp_path / "other",
        "token",
        "--room",
        room_id,
        "--role",
        "member",
        "--store",
        redis_server.url,
        HEARTH_SECRET=SECRET,
    )
    assert verify_invite(SECRET, token.stdout.strip()).room == room_id


def test_an_unreachable_redis_store_is_a_clear_error(tmp_path: Path) -> None:
    result = hearth(tmp_path / "data", "rooms", "list", "--store", "redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "cannot reach the store" in result.stderr and "Traceback" not in result.stderr


def test_no_command_prints_help(tmp_path: Path) -> None:
    result = hearth(tmp_path / "data")
    assert result.returncode == 2
    assert "serve" in result.stderr


async def test_first_room_only_on_a_fresh_store(tmp_path: Path) -> None:
    settings = Settings.from_env({"HEARTH_DATA_DIR": str(tmp_path)})
    first = await _ensure_first_room(settings)
    assert first is not None and first.title == FIRST_ROOM_TITLE
    assert await _ensure_first_room(settings) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_uvicorn_config(tmp_path: Path, host: str) -> None:
    settings = Settings.from_env(
        {"HEARTH_DATA_DIR": str(tmp_path)}, host=host, port=8123, max_message_bytes=4096, log_level="warning"
    )
    config = uvicorn_config(settings, Starlette())
    assert (config.host, config.port) == (host, 8123)
    # uvicorn's websockets-sansio protocol, extended with the connection limits (server/transport.py).
    assert isinstance(config.ws, type) and issubclass(config.ws, WebSocketsSansIOProtocol)
    assert isinstance(config.http, type) and issubclass(config.http, H11Protocol)
    assert config.ws_per_message_deflate is False
    assert config.ws_max_size == 4096
    assert (config.ws_ping_interval, config.ws_ping_timeout) == (20.0, 20.0)
    assert config.lifespan == "on"
    assert config.access_log is False
    assert config.server_header is False
    assert config.log_level == "warning"


def test_room_links_and_ids(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"HEARTH_DATA_DIR": str(tmp_path)}, public_url="https://h.example/", link_ttl_days=2
    )
    config = RoomConfig(id=new_room_id(), title="T", invite_version=5)
    facilitator, member = (LINK.fullmatch(link) for link in room_links(settings, config))
    assert facilitator is not None and member is not None
    assert facilitator["base"] == member["base"] == "https://h.example"
    for match, role in ((facilitator, Role.FACILITATOR), (member, Role.MEMBER)):
        claims = verify_invite(settings.secret, match["token"])
        assert (claims.room, claims.role, claims.version) == (config.id, role, 5)
        assert 2 * 86_400 - 5 <= claims.exp - time.time() <= 2 * 86_400
    ids = {new_room_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 12 and not i.startswith("-") for i in ids)


def test_serve_refuses_a_retention_that_keeps_nothing(tmp_path: Path) -> None:
    for value in ("0", "-1"):
        result = hearth(tmp_path / "data", "serve", "--port", "0", "--retention-days", value)
        assert result.returncode == 2
        assert "HEARTH_RETENTION_DAYS (--retention-days) must be at least 1" in result.stderr
    result = hearth(tmp_path / "data", "serve", "--port", "0", HEARTH_RETENTION_DAYS="0")
    assert result.returncode == 2 and "HEARTH_RETENTION_DAYS" in result.stderr

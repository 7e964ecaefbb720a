"""Room rules in one place: the room API and `hearth rooms create` refuse the same values with
the same message (server/rooms_api.py), and `welcome.limits` carries this server's limits."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from rooms.limits import TEXT_MAX_CHARS, TITLE_MAX_CHARS, TOPIC_MAX_CHARS, Limits
from server.cli import main
from tests.server.conftest import StartServer

# (field, a value just inside its bounds, one just outside): the CLI and the API draw the line at
# the same place, and refuse with the same message.
CASES: list[tuple[str, Any, Any]] = [
    ("title", "  Tuesday group  ", ""),
    ("title", "t" * TITLE_MAX_CHARS, "   "),
    ("title", "t" * TITLE_MAX_CHARS, "t" * (TITLE_MAX_CHARS + 1)),
    ("topic", "t" * TOPIC_MAX_CHARS, "t" * (TOPIC_MAX_CHARS + 1)),
    ("agreement", "a" * TEXT_MAX_CHARS, "a" * (TEXT_MAX_CHARS + 1)),
    ("crisis_text", "c" * TEXT_MAX_CHARS, "c" * (TEXT_MAX_CHARS + 1)),
    ("turn_seconds", 10, 0),
    ("turn_seconds", 10, 9),
    ("turn_seconds", 3600, 3601),
    ("max_participants", 2, 1),
    ("max_participants", 50, 51),
    ("media", "sfu", "p2p"),
]


def _cli_args(field: str, value: Any, data_dir: Path) -> list[str]:
    title = value if field == "title" else "Tuesday group"
    args = ["rooms", "create", title, "--data-dir", str(data_dir)]
    if field != "title":
        args.append(f"--{field.replace('_', '-')}={value}")
    return args


async def _cli(field: str, value: Any, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`hearth rooms create` in this process (in a thread: it runs its own event loop)."""
    capsys.readouterr()  # the server's own log lines so far
    status = await asyncio.to_thread(main, _cli_args(field, value, data_dir))
    return status, capsys.readouterr().err


async def _api(start_server: StartServer, field: str, value: Any) -> tuple[int, dict[str, Any]]:
    server = await start_server()
    body = {"title": "Tuesday group", field: value}
    async with server.http() as http:
        response = await http.post("/api/rooms", json=body)
    return response.status_code, response.json()


@pytest.mark.parametrize(("field", "good", "bad"), CASES)
async def test_the_cli_and_the_api_accept_and_refuse_the_same_values(
    start_server: StartServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    field: str,
    good: Any,
    bad: Any,
) -> None:
    status, body = await _api(start_server, field, bad)
    assert status == 400 and body["error"]["code"] == "bad_message", body
    message = body["error"]["message"]
    cli_status, stderr = await _cli(field, bad, tmp_path / "cli", capsys)
    assert (cli_status, stderr.splitlines()[-1]) == (2, f"hearth: {message}")
    assert not (tmp_path / "cli" / "hearth.db").exists()  # refused before the store is opened

    status, body = await _api(start_server, field, good)
    assert status == 201, body
    cli_status, stderr = await _cli(field, good, tmp_path / "cli", capsys)
    assert cli_status == 0, stderr
    expected = good.strip() if isinstance(good, str) else good
    stored = body["room"]["settings"][field] if field in body["room"]["settings"] else body["room"][field]
    assert stored == expected


async def test_welcome_limits_carry_the_settings(start_server: StartServer) -> None:
    server = await start_server(max_chat_chars=321, max_name_chars=17, chat_page=12, grace_seconds=7)
    room, facilitator, _ = await server.live_room()
    await facilitator.close()
    client = await server.connect()
    welcome = await client.join(room.member, "Ana")
    assert welcome["type"] == "welcome", welcome
    limits = welcome["limits"]
    assert (limits["max_chat_chars"], limits["max_name_chars"]) == (321, 17)
    assert (limits["chat_page"], limits["grace_seconds"]) == (12, 7)
    assert (limits["turn_seconds_min"], limits["turn_seconds_max"]) == (10, 3600)
    assert (limits["max_participants_min"], limits["max_participants_max"]) == (2, 50)
    assert (limits["title_max_chars"], limits["topic_max_chars"], limits["text_max_chars"]) == (80, 200, 4000)


def test_protocol_md_lists_the_limits_welcome_sends() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    row = next(line for line in docs.splitlines() if line.startswith("| `limits` | welcome |"))
    listed = re.findall(r'"(\w+)"', row)
    assert listed == [f.name for f in msgspec.structs.fields(Limits)]

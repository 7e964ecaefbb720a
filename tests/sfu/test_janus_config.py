"""The generated Janus configuration, run by a real Janus (tests/janus.py).

Raw WebSocket requests here on purpose: these tests check the configuration (what Janus loads,
what it refuses), not Hearth's client (test_janus_client.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import websockets

from server.cli import main
from server.sfu.janus_config import JanusConfig, write_config
from tests.janus import JanusProcess


async def ask(janus: JanusProcess, request: dict[str, Any]) -> dict[str, Any]:
    """One request on a fresh socket; the first answer with its transaction."""
    async with websockets.connect(janus.url, subprotocols=[websockets.Subprotocol("janus-protocol")]) as ws:
        await ws.send(json.dumps({**request, "transaction": "t1"}))
        async with asyncio.timeout(10):
            while True:
                answer: dict[str, Any] = json.loads(await ws.recv())
                if answer.get("transaction") == "t1":
                    return answer


async def test_janus_runs_only_videoroom_and_websockets(janus: JanusProcess) -> None:
    info = await ask(janus, {"janus": "info"})
    assert info["janus"] == "server_info"
    assert info["api_secret"] is True
    assert set(info["plugins"]) == {"janus.plugin.videoroom"}
    assert set(info["transports"]) == {"janus.transport.websockets"}
    assert info["events"] == {}
    assert info["loggers"] == {}


async def test_janus_requires_the_secret(janus: JanusProcess) -> None:
    refused = await ask(janus, {"janus": "create", "apisecret": "not-the-secret"})
    assert refused["janus"] == "error"
    assert refused["error"]["code"] == 403  # JANUS_ERROR_UNAUTHORIZED
    missing = await ask(janus, {"janus": "create"})
    assert missing["janus"] == "error"
    created = await ask(janus, {"janus": "create", "apisecret": janus.secret})
    assert created["janus"] == "success"


def test_config_files_are_private_and_hold_the_settings(tmp_path: Path) -> None:
    folder = write_config(
        tmp_path / "cfg",
        JanusConfig(
            secret="a-secret-of-enough-length",
            ws_host="10.1.2.3",
            ws_port=8200,
            rtp_ports=(40000, 40100),
            interface="10.1.2.3",
            nat_1_1_mapping="203.0.113.7",
        ),
    )
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    core = (folder / "janus.jcfg").read_text()
    ws = (folder / "janus.transport.websockets.jcfg").read_text()
    room = (folder / "janus.plugin.videoroom.jcfg").read_text()
    for name in ("janus.jcfg", "janus.transport.websockets.jcfg", "janus.plugin.videoroom.jcfg"):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600
    assert 'api_secret = "a-secret-of-enough-length"' in core
    assert 'rtp_port_range = "40000-40100"' in core
    assert 'nat_1_1_mapping = "203.0.113.7"' in core
    assert 'interface = "10.1.2.3"' in core
    assert 'ws_ip = "10.1.2.3"' in ws and "ws_port = 8200" in ws
    assert "admin_ws = false" in ws
    assert 'admin_key = "a-secret-of-enough-length"' in room


@pytest.mark.parametrize(
    "change",
    [
        {"secret": 'quote"d'},
        {"secret": ""},
        {"ws_host": "not-an-ip"},
        {"ws_host": "0.0.0.0"},
        {"ws_host": "::"},
        {"rtp_ports": (30000, 20000)},
        {"ws_port": 0},
        {"nat_1_1_mapping": "example.org"},
    ],
)
def test_bad_config_values_are_refused(change: dict[str, Any]) -> None:
    values: dict[str, Any] = {"secret": "a-secret-of-enough-length", **change}
    with pytest.raises(ValueError):
        JanusConfig(**values)


def test_cli_writes_the_config_with_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEARTH_JANUS_SECRET", "secret-from-the-environment")
    status = main(
        ["janus-config", str(tmp_path / "j"), "--ws-host", "10.0.0.5", "--rtp-ports", "41000-41099"]
    )
    assert status == 0
    core = (tmp_path / "j" / "janus.jcfg").read_text()
    assert 'api_secret = "secret-from-the-environment"' in core
    assert 'rtp_port_range = "41000-41099"' in core
    assert 'interface = "10.0.0.5"' in core  # the SDP address defaults to the API's
    assert "secret-from-the-environment" not in capsys.readouterr().out
    # Every interface is refused, like any bad value: status 2, nothing written.
    assert main(["janus-config", str(tmp_path / "all"), "--ws-host", "0.0.0.0"]) == 2
    assert "every interface" in capsys.readouterr().err
    assert not (tmp_path / "all").exists()


def test_cli_refuses_a_short_or_missing_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HEARTH_JANUS_SECRET", raising=False)
    assert main(["janus-config", str(tmp_path / "j")]) == 2
    assert main(["janus-config", str(tmp_path / "j"), "--secret", "short"]) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    assert not (tmp_path / "j").exists()

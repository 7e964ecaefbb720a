"""The benchmark: the lean websocket client's framing, and a smoke run of ``python -m bench --quick``.

No timing assertions: figures on shared machines are noise; only that every scenario ran on
every target, delivered chat and counted its joins.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from bench.profile import summary
from bench.report import json_ready
from bench.wsclient import OP_PONG, WS_GUID, Stats, WsClient, encode_frame

ROOT = Path(__file__).resolve().parent.parent


def parse_client_frame(data: bytes) -> Frame:
    """A masked client frame, read by the ``websockets`` library's own parser."""
    reader = StreamReader()
    reader.feed_data(data)
    parser = Frame.parse(reader.read_exact, mask=True)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("incomplete frame")


def server_frame(opcode: Opcode, payload: bytes, fin: bool = True) -> bytes:
    return Frame(opcode, payload, fin=fin).serialize(mask=False)


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def test_client_frames_are_masked_and_sized_right() -> None:
    for size in (0, 5, 125, 126, 65535, 65536, 70_000):
        payload = bytes(i % 251 for i in range(size))
        frame = parse_client_frame(encode_frame(payload))
        assert (frame.opcode, frame.fin, frame.data) == (Opcode.TEXT, True, payload)
    assert parse_client_frame(encode_frame(b"x", OP_PONG)).opcode == Opcode.PONG


async def test_client_parses_server_frames_in_any_chunking() -> None:
    stats = Stats()
    client = WsClient("127.0.0.1", 1, "/ws", stats)
    transport = Transport()
    client.connection_made(transport)
    accept = base64.b64encode(hashlib.sha1(client.key + WS_GUID).digest())
    upgrade = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: "
        + accept
        + b"\r\n\r\n"
    )
    stats.reset(since=1000.0)

    def chat(sent: float, pad: int) -> bytes:
        message = {"id": "m1", "name": "p1", "text": f"{sent:.6f}", "pad": "x" * pad}
        return json.dumps({"type": "chat", "message": message}, separators=(",", ":")).encode()

    welcome = json.dumps({"type": "welcome", "pad": "y" * 70_000}).encode()  # a 64-bit length
    stream = (
        upgrade
        + server_frame(Opcode.TEXT, chat(2000.0, 0))  # 7-bit length
        + server_frame(Opcode.TEXT, chat(2000.0, 300))  # 16-bit length
        + server_frame(Opcode.TEXT, chat(999.0, 0))  # sent before the step: stale
        + server_frame(Opcode.PING, b"hi")
        + server_frame(Opcode.TEXT, chat(2000.0, 0)[:20], fin=False)  # fragmented
        + Frame(Opcode.CONT, chat(2000.0, 0)[20:], fin=True).serialize(mask=False)
        + server_frame(Opcode.TEXT, welcome)
    )
    waiter = asyncio.ensure_future(client.expect(frozenset({"welcome"}), 5))
    await asyncio.sleep(0)
    for at in range(0, len(stream), 7):  # fed in small pieces: frames split anywhere
        client.data_received(stream[at : at + 7])
    message, _ = await waiter
    assert message["type"] == "welcome"
    assert client.upgraded.done() and client.is_open
    assert (stats.delivered, stats.stale, sum(stats.histogram)) == (3, 1, 3)
    sent = bytes(transport.written).split(b"\r\n\r\n", 1)[1]  # after the upgrade request
    pong = parse_client_frame(sent)
    assert (pong.opcode, pong.data) == (Opcode.PONG, b"hi")

    transport.written.clear()
    client.data_received(server_frame(Opcode.CLOSE, (1000).to_bytes(2, "big")))
    assert parse_client_frame(bytes(transport.written)).opcode == Opcode.CLOSE
    assert transport.closed and client.close_code == 1000


def test_profile_summary_starts_with_its_count() -> None:
    """A profile's summary starts with the number of busy samples, 0 included, so a reader can
    parse it (it used to say "no busy samples")."""
    idle = "<module> (run.py:1);EpollSelector.select (selectors.py:468) 40\n"
    busy = "<module> (run.py:1);handle (server.py:9) 7\n<module> (run.py:1);encode (codec.py:3) 5\n"
    assert summary("").split()[0] == "0"
    assert summary(idle).split()[0] == "0"
    top = summary(idle + busy)
    assert top.split()[0] == "12"
    assert "handle (server.py:9)" in top


def test_bench_json_holds_numbers_or_null() -> None:
    """A figure without samples (NaN) or over zero (infinity) is written as null: the report is
    strict JSON, and no reader takes a non-number for a number."""
    report = {"p99": math.nan, "steps": [{"ratio": math.inf, "delivered": 3}], "pair": (1.5, -math.inf)}
    ready = json_ready(report)
    assert ready == {"p99": None, "steps": [{"ratio": None, "delivered": 3}], "pair": [1.5, None]}
    json.dumps(ready, allow_nan=False)


def _not_a_number(constant: str) -> float:
    raise AssertionError(f"the bench report holds {constant}, which is not JSON")


def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    profiles = tmp_path / "profiles"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out), "--profile", str(profiles)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=200,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text(), parse_constant=_not_a_number)
    assert report["errors"] == []
    rows = {(row["scenario"], row["target"]): row for row in report["results"]}
    expected = {(s, t) for s in ("S1", "S2", "S3", "S4") for t in ("baseline", "hearth")}
    expected |= {("S5", "hearth-redis-1"), ("S5", "hearth-redis-2"), ("ABUSE", "hearth")}
    assert set(rows) == expected
    for (scenario, _), row in rows.items():
        if scenario == "ABUSE":  # another room's chat got through, quiet and abused, and was measured
            assert row["received_quiet"] == row["received_abused"] == row["messages_per_phase"] > 0
            assert row["latency_ms_p99_abused"] > 0 and row["p99_ratio"] > 0
            assert row["abuser"]["flood_cycles"] > 0 and row["abuser"]["chats"] > 0
        elif scenario in ("S1", "S2", "S5"):
            assert row["delivered"] > 0 and row["steps"]
            assert all(step["delivered"] > 0 for step in row["steps"])
        else:
            assert row["joined"] == row["planned"] > 0
    # py-spy sampled every server of the traffic scenarios: raw stacks and a summary of them
    for scenario in ("S1", "S2"):
        for target in ("baseline", "hearth"):
            for step in ("fixed", "max"):
                top = (profiles / f"{scenario}-{target}-{step}-top.txt").read_text()
                busy = top.split()[0]  # "N busy samples ..."
                assert busy.isdigit() and int(busy) > 0, top
                assert (profiles / f"{scenario}-{target}-{step}.txt").stat().st_size > 0
    assert (profiles / "S5-hearth-redis-2-max-node2-top.txt").exists()


def test_bench_sfu_quick(tmp_path: Path) -> None:
    """``python -m bench.sfu --quick`` measures both rooms (upload, join to first frame), the mute
    in SFU mode, and Janus's CPU with every bot stream received; the figures are not judged."""
    out = tmp_path / "sfu.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.sfu", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.read_text(), parse_constant=_not_a_number)
    mesh, sfu = report["rooms"]
    assert (mesh["media"], sfu["media"]) == ("mesh", "sfu")
    for room in (mesh, sfu):
        assert room["holder_bytes_per_s"]["video"] > 0 and room["listener_bytes_per_s"]["video"] > 0
        assert room["join_to_first_frame_s"] is not None and room["join_to_all_frames_s"] is not None
    assert sfu["mute_to_last_packet_s"] is not None
    [step] = report["janus"]["steps"]
    assert step["all_connected"] and step["janus_cores"] > 0
    assert step["streams_received"] == step["forwarded"] > 0

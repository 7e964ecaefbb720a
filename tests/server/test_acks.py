"""``server.acks``: every message with an id gets exactly one answer, in its place.

A recording connection stands in for the socket: these are the rules alone; the real sockets
are in test_messages.py, test_closes.py and tests/nodes/test_acks.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from server import acks
from server.acks import Requests


class Recorder:
    conn_id = "c1"
    pid = "p1"

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def reply(self, data: bytes) -> None:
        self.sent.append(json.loads(data))

    def request_snapshot(self, *, asked: bool = True) -> None:
        self.sent.append("snapshot")

    def close_soon(self, code: int) -> None:
        self.sent.append(("close", code))


def ack(ref: Any) -> dict[str, Any]:
    return {"type": "ack", "ref": ref}


async def test_a_carried_ack_is_sent_when_it_arrives_and_only_once() -> None:
    conn = Recorder()
    requests = Requests(conn)
    requests.begin("a")
    frame = requests.carry()
    assert frame is not None and frame.to == ("p1",) and frame.conn == "c1" and frame.kind == acks.ACK
    requests.arrived(frame.data)
    requests.arrived(frame.data)  # a second copy changes nothing
    await requests.finish()
    requests.refuse("internal", "late")  # nor does an error once answered
    assert conn.sent == [ack("a")]


async def test_no_id_no_ack_but_errors_are_told() -> None:
    conn = Recorder()
    requests = Requests(conn)
    requests.begin(None)
    assert requests.carry() is None
    await requests.finish()
    requests.begin(None)
    requests.refuse("forbidden", "no")
    assert [(m["type"], m["code"], m.get("ref")) for m in conn.sent] == [("error", "forbidden", None)]


async def test_a_refused_request_ignores_its_ack_should_it_come_after_all() -> None:
    conn = Recorder()
    requests = Requests(conn)
    requests.begin(7)
    frame = requests.carry()
    assert frame is not None
    requests.refuse("unavailable", "away")
    requests.arrived(frame.data)
    assert [m["type"] for m in conn.sent] == ["error"]


async def test_a_lost_carried_ack_is_answered_by_a_snapshot_then_the_ack() -> None:
    conn = Recorder()
    requests = Requests(conn)
    requests.begin("b")
    frame = requests.carry()
    assert frame is not None
    finishing = asyncio.create_task(requests.finish())
    await asyncio.sleep(0)
    assert conn.sent == []  # waiting for the ack to come with the frames
    requests.lost()  # the bus reconnected: what it carried may be gone
    await asyncio.wait_for(finishing, 5)
    requests.arrived(frame.data)  # too late: already answered
    assert conn.sent == ["snapshot", ack("b")]


async def test_leave_closes_after_its_ack() -> None:
    conn = Recorder()
    requests = Requests(conn)
    requests.begin("l")
    frame = requests.carry()
    assert frame is not None
    requests.close_when_answered(1000)
    assert conn.sent == []
    requests.arrived(frame.data)
    await requests.finish()
    assert conn.sent == [ack("l"), ("close", 1000)]


async def test_a_close_first_answers_what_is_open() -> None:
    conn = Recorder()
    requests = Requests(conn)
    requests.begin("e")
    assert requests.unanswered
    requests.before_close()
    assert not requests.unanswered
    requests.refuse("internal", "after the close")
    assert conn.sent == [ack("e")]

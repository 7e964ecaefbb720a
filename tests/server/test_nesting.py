"""Deeply nested JSON over a real socket: a clear ``bad_message``, and the socket stays open.

msgspec decodes nesting by recursion; past the interpreter's stack it raised ``RecursionError``,
which escaped the socket loop (a traceback, and the socket aborted with 1006). Nesting is now
held to ``protocol.MAX_DEPTH`` levels in every field that can carry arbitrary JSON, and anything
deeper than the decoder can follow is refused the same way.
"""

from __future__ import annotations

import pytest

from server.protocol import MAX_DEPTH
from tests.server.conftest import Running


def nested(levels: int) -> str:
    """A JSON array nested ``levels`` deep (``[[...]]``)."""
    return "[" * levels + "]" * levels


async def still_open(client: object) -> None:
    await client.send({"type": "ping"})  # type: ignore[attr-defined]
    assert await client.recv() == {"type": "pong"}  # type: ignore[attr-defined]


@pytest.mark.parametrize("levels", [MAX_DEPTH, 5_000, 30_000])
async def test_a_deeply_nested_signal_gets_bad_message_and_the_socket_stays_open(
    server: Running, levels: int
) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    # Signal data has documented shapes only (server/signals.py): nesting inside them is refused
    # as a shape error, and nesting too deep for the decoder as such; neither closes the socket.
    for data in (f'{{"x":{nested(levels)}}}', f'{{"candidate":{{"candidate":{nested(levels)}}}}}'):
        await ann.send_raw(f'{{"type":"signal","id":5,"to":"{fac.id}","data":{data}}}')
        error = await ann.recv()
        assert error["type"] == "error" and error["code"] == "bad_message", error
        await still_open(ann)
    # Nothing reached the addressee; a signal of a documented shape still does.
    assert [m for m in await fac.drain() if m["type"] == "signal"] == []
    await ann.ok({"type": "signal", "to": fac.id, "data": {"candidate": None}})
    assert (await fac.recv_until("signal"))["data"] == {"candidate": None}


@pytest.mark.parametrize(
    "template",
    [
        '{{"type":"chat","text":"hi","extra":{deep}}}',  # an unknown field the decoder skips
        '{{"type":{deep}}}',  # the envelope's type
        '{{"id":{deep},"type":"ping"}}',
    ],
)
async def test_deep_nesting_anywhere_in_a_message_is_a_bad_message(server: Running, template: str) -> None:
    _room, fac, (ann,) = await server.live_room("Ann")
    await ann.send_raw(template.format(deep=nested(30_000)))
    error = await ann.recv()
    assert error["type"] == "error" and error["code"] in ("bad_message", "unknown_type"), error
    await still_open(ann)
    await ann.ok({"type": "chat", "text": "still here"})
    assert (await fac.recv_until("chat"))["message"]["text"] == "still here"


async def test_a_deeply_nested_first_message_is_refused_cleanly(server: Running) -> None:
    client = await server.connect()
    await client.send_raw(f'{{"type":"join","token":"x","name":"Ann","extra":{nested(30_000)}}}')
    error = await client.recv()
    assert error["type"] == "error" and error["code"] == "unauthorized", error
    assert await client.expect_close() == 4001  # the contract for a first message that is not a join

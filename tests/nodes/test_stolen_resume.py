"""A spent resume token replayed through another node takes nothing: no frames, no presence."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis

from tests.conftest import RedisServer
from tests.nodes.conftest import StartNode

pytestmark = [pytest.mark.slow, pytest.mark.redis]


async def test_a_spent_resume_token_on_another_node_leaves_the_victim_alone(
    redis_server: RedisServer, start_node: StartNode
) -> None:
    # Alive keys live ~0.9 s, a lost seat 2 s: an orphaned victim would be timed out quickly.
    env = {"HEARTH_UPKEEP_SECONDS": "0.3", "HEARTH_GRACE_SECONDS": "2"}
    a, b = await asyncio.gather(start_node(redis_server.url, **env), start_node(redis_server.url, **env))
    room = await a.create_room(lobby=False)
    fran = await a.joined(room.facilitator, "Fran")
    first = await a.joined(room.member, "Ann")
    assert first.welcome is not None
    spent = first.welcome["resume"]
    first.abort()
    ann = await a.connect()  # Ann comes back on node A with her token: now it is spent
    assert (await ann.join(room.member, "Ann", resume=spent))["type"] == "welcome"
    await fran.recv_until("participant_updated", lambda m: m["participant"]["connected"])
    fran.seen.clear()

    async def signals(count: int) -> None:
        for n in range(count):
            await fran.send({"type": "signal", "to": ann.id, "data": {"candidate": {"candidate": f"s{n}"}}})
            if n % 10 == 0:
                await asyncio.sleep(0.001)

    async def attacks(count: int) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        for _ in range(count):
            thief = await b.connect()
            attempt = {"type": "join", "token": "garbage", "name": "Ann", "agree": True, "resume": spent}
            await thief.send(attempt)
            assert await thief.expect_close() == 4001
            received += thief.seen
        return received

    _, stolen = await asyncio.gather(signals(400), attacks(15))
    assert [m for m in stolen if m.get("type") != "error"] == []  # none of Ann's frames
    # Ann's presence entry (her socket, on node A) is still there: nobody overwrote or removed it.
    keys = redis.Redis.from_url(redis_server.url)
    try:
        fields = [field.decode() for field in keys.hkeys(f"hearth:presence:{room.id}")]
    finally:
        keys.close()
    assert [f for f in fields if f.startswith(ann.id)], fields
    # Well past the alive keys, the upkeep rhythm and the grace period, Ann is still in, connected,
    # and nobody saw her go.
    await asyncio.sleep(3.0)
    view = await fran.snapshot()
    assert {p["id"]: p["connected"] for p in view["participants"]} == {fran.id: True, ann.id: True}
    gone = [
        m
        for m in fran.seen + ann.seen
        if m.get("type") in ("participant_updated", "participant_left")
        and (m.get("participant", {}).get("id") == ann.id or m.get("id") == ann.id)
    ]
    assert [m for m in gone if m.get("type") == "participant_left" or not m["participant"]["connected"]] == []
    await ann.ok({"type": "chat", "text": "still here"})
    assert (await fran.recv_until("chat"))["message"]["text"] == "still here"

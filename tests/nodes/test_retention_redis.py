"""Retention on Redis: nodes sweep the journey in the persistent store (read directly here),
two of them at once, and nothing of the journey reaches the live store."""

from __future__ import annotations

import time

import pytest
import redis

from rooms.backends.journey_base import Record
from rooms.backends.redis_common import client_from_url
from rooms.backends.redis_journey import SWEEP_KEY, RedisJourney
from tests.conftest import RedisServer
from tests.nodes.conftest import PersistentRedis, StartNode
from tests.polling import eventually

DAY = 86400.0
PLANS = "hearth:journey:r1:rec:plan"

pytestmark = [pytest.mark.slow, pytest.mark.redis]


async def test_nodes_sweep_journey_records_past_retention_from_the_store_not_the_live_store(
    start_node: StartNode, persistent_redis: PersistentRedis, redis_server: RedisServer
) -> None:
    now = time.time()
    writer = RedisJourney(client_from_url(persistent_redis.url), owns_client=True)
    for record_id, age, kind in [
        ("old-plan", 40, "plan"),
        ("young-plan", 29, "plan"),
        ("old-card", 31, "checkin"),
        ("old-member", 400, "member"),
    ]:
        await writer.put(
            "r1", Record(kind=kind, id=record_id, owner="s1", created=now - age * DAY, data=b"{}")
        )
    await writer.close()
    env = {
        "HEARTH_LIVE_STORE": redis_server.url,
        "HEARTH_RETENTION_DAYS": "30",
        "HEARTH_RETENTION_SWEEP_SECONDS": "0.2",
    }
    await start_node(persistent_redis.url, **env)
    await start_node(persistent_redis.url, **env)
    store = redis.Redis.from_url(persistent_redis.url, socket_timeout=5)
    live = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    try:
        await eventually(lambda: not store.hexists(PLANS, "old-plan"), "the sweep of old records")
        assert store.hkeys(PLANS) == [b"young-plan"]
        assert store.hkeys("hearth:journey:r1:rec:checkin") == []
        assert store.hkeys("hearth:journey:r1:rec:member") == [b"old-member"]
        assert store.smembers("hearth:journey:r1:by:plan:s1") == {b"young-plan"}
        assert store.zrange(SWEEP_KEY, 0, -1) == [b"r1\0plan\0young-plan"]
        assert live.keys("hearth:journey*") == []
    finally:
        store.close()
        live.close()

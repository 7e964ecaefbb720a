"""A group meets twice on Redis, on two nodes, with every node restarted between the sessions:
the journey lives in the store's Redis (read directly here, never in the live store), and
"delete my data" takes it out of Redis."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import RedisServer
from tests.nodes.conftest import PersistentRedis, StartNode
from tests.server.journey_story import first_session, second_session

pytestmark = [pytest.mark.slow, pytest.mark.redis]


async def test_two_sessions_of_one_group_on_redis_survive_restarts_and_delete_my_data_empties_redis(
    start_node: StartNode, persistent_redis: PersistentRedis, redis_server: RedisServer
) -> None:
    env = {"HEARTH_LIVE_STORE": redis_server.url}
    first = await start_node(persistent_redis.url, **env)
    await start_node(persistent_redis.url, **env)
    group = await first_session(first)
    first.stop()

    store = redis.Redis.from_url(persistent_redis.url, socket_timeout=5)
    live = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    prefix = f"hearth:journey:{group.room.id}"
    try:
        assert store.hkeys(f"{prefix}:rec:plan") == [group.plan_id.encode()]
        assert store.hkeys(f"{prefix}:rec:post") == [group.post_id.encode()]
        assert live.keys("hearth:journey*") == [], "nothing of the journey in the live store"

        again = await start_node(persistent_redis.url, **env)
        await second_session(again, group)
        for kind in ("plan", "post", "checkin"):
            assert store.hkeys(f"{prefix}:rec:{kind}") == [], kind
            assert not store.exists(f"{prefix}:by:{kind}:{group.sub}"), kind
        assert store.hkeys(f"{prefix}:rec:member") == [group.sub.encode()]
    finally:
        store.close()
        live.close()

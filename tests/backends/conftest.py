"""Fixtures shared by the backend tests: both worlds, and a Redis client for looking inside."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from rooms.backends.redis_common import client_from_url
from tests.backends.live_helpers import MemoryWorld, RedisWorld, World
from tests.conftest import RedisServer


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    """The same test on the memory backends and on a real redis-server."""
    made: World
    if request.param == "redis":
        made = RedisWorld(request.getfixturevalue("redis_server").url)
    else:
        made = MemoryWorld()
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def client(redis_server: RedisServer) -> AsyncIterator[Redis]:
    """A plain client of the test's redis-server, to look at keys and stats."""
    made = client_from_url(redis_server.url)
    yield made
    await made.aclose()

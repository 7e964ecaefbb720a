"""A Redis outage, for real: the server is SIGKILLed and started again on the same port."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from rooms.backends.base import StoreUnavailable
from rooms.backends.redis_bus import RedisBus
from rooms.backends.redis_common import client_from_url
from rooms.backends.redis_directory import RedisDirectory
from rooms.events import Delivery
from rooms.model import RoomConfig, RoomState
from tests.backends.live_helpers import CONFIG, RedisWorld, Seen, encode, frame, increment
from tests.conftest import RedisServer
from tests.polling import eventually

pytestmark = [pytest.mark.redis, pytest.mark.slow]

PROMPT = 3.0  # an outage must be reported within this many seconds


@pytest.fixture
async def world(redis_server: RedisServer) -> AsyncIterator[RedisWorld]:
    made = RedisWorld(redis_server.url)
    yield made
    await made.close()


async def timed(awaitable: object) -> float:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(awaitable, PROMPT + 2)  # type: ignore[arg-type]
    return time.monotonic() - started


async def test_an_outage_is_reported_promptly_and_recovered_from(
    redis_server: RedisServer, world: RedisWorld
) -> None:
    node = await world.node("a")
    bus = node.bus
    assert isinstance(bus, RedisBus)
    client = client_from_url(redis_server.url)
    directory = RedisDirectory(client)
    reconnects: list[float] = []
    bus.on_reconnect(lambda: reconnects.append(time.monotonic()))
    before, during = Seen(), Seen()
    await bus.subscribe("r1", before)
    await node.store.apply("r1", increment, encode)
    await directory.create(CONFIG)
    await eventually(lambda: before.seqs == [1], what="the first frame")

    try:
        redis_server.kill()
        assert await timed(node.store.apply("r1", increment, encode)) < PROMPT
        assert await timed(node.store.load("r1")) < PROMPT
        assert await timed(node.store.room_ids()) < PROMPT
        assert await timed(node.store.touch(["r1"])) < PROMPT
        assert await timed(node.presence.heartbeat()) < PROMPT
        assert await timed(node.presence.where("r1", "p1", "c1")) < PROMPT
        assert await timed(directory.get("r1")) < PROMPT
        assert await timed(bus.publish("r1", [frame(1)])) < PROMPT
        assert await node.store.ping() is False
        assert await directory.ping() is False
        await eventually(lambda: not bus.available, "the bus to notice", timeout=PROMPT)
        await asyncio.wait_for(bus.subscribe("r2", during), 1.0)  # during the outage: no wait
        await bus.unsubscribe("r1", Seen())  # unknown handler: nothing to do
        assert reconnects == []

        redis_server.restart()  # empty: nothing was saved
        await eventually(lambda: bus.available, "the bus to reconnect", timeout=5.0)
        assert len(reconnects) == 1
        assert await node.store.ping() is True
        assert await directory.ping() is True
        await node.store.apply("r1", increment, encode)  # the state was lost with the server
        await node.store.apply("r2", increment, encode)
        await bus.publish("r2", [frame(2)])
        await eventually(lambda: len(before.frames) == 2 and len(during.frames) == 2, what="frames")
        assert before.seqs == [1, 1]
        assert during.frames[1] == frame(2)
        await directory.create(RoomConfig(id="new", title="After the outage"))
        assert await directory.get("new") is not None
    finally:
        await client.aclose()


async def test_a_second_node_sees_frames_again_after_the_outage(
    redis_server: RedisServer, world: RedisWorld
) -> None:
    a, b = await world.node("a"), await world.node("b")
    seen = Seen()
    await b.bus.subscribe("r1", seen)
    redis_server.kill()
    await eventually(
        lambda: not a.bus.available and not b.bus.available, "both buses to notice", timeout=PROMPT
    )
    redis_server.restart()
    await eventually(lambda: a.bus.available and b.bus.available, "both buses to reconnect", timeout=5.0)
    await a.store.apply("r1", increment, encode)
    await a.bus.publish_node("b", "r1", [frame(1)])
    await eventually(lambda: len(seen.frames) == 2, what="frames from the other node")
    assert seen.frames[0].seq == 1 and seen.frames[1] == frame(1)


async def test_a_hung_server_is_reported_promptly_and_recovered_from(redis_server: RedisServer) -> None:
    """SIGSTOP: the kernel still accepts connections, but nothing answers. Socket timeouts turn
    that into StoreUnavailable; the bus's keepalive notices the silence and reconnects later."""
    world = RedisWorld(redis_server.url)
    node = await world.node("a")
    bus = RedisBus(redis_server.url, "watcher", keepalive=0.3)
    await bus.open()
    seen = Seen()
    reconnects: list[bool] = []
    bus.on_reconnect(lambda: reconnects.append(True))
    await bus.subscribe("r1", seen)
    try:
        redis_server.pause()
        assert await timed(node.store.apply("r1", increment, encode)) < PROMPT
        assert await node.store.ping() is False
        await eventually(lambda: not bus.available, "the keepalive to notice", timeout=PROMPT)
        redis_server.resume()
        await eventually(lambda: bus.available, "the bus to reconnect", timeout=8.0)
        assert reconnects == [True]
        await node.store.apply("r1", increment, encode)
        await eventually(lambda: len(seen.frames) == 1, what="a frame after the hang")
    finally:
        redis_server.resume()
        await bus.close()
        await world.close()


async def test_a_server_lost_between_read_and_write_is_not_retried(
    redis_server: RedisServer, world: RedisWorld
) -> None:
    """redis-py reports a connection lost while watching as a WatchError, like a conflict. The
    store must not retry it as one (EXEC may have run): it reports StoreUnavailable at once."""
    node = await world.node("a")
    await node.store.apply("r1", increment, encode)
    calls: list[int] = []

    def step_then_crash(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
        calls.append(1)
        redis_server.kill()
        return increment(state)

    assert await timed(node.store.apply("r1", step_then_crash, encode)) < PROMPT
    assert calls == [1]

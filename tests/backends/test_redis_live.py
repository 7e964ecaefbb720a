"""What only the Redis backends have: several nodes' presence, expiry, the wire layout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import msgspec
import pytest
from msgspec.structs import replace
from redis.asyncio import Redis

from rooms.backends.base import Frame, StoreUnavailable
from rooms.backends.redis_bus import RedisBus
from rooms.backends.redis_common import Envelope
from rooms.backends.redis_presence import RedisPresence
from rooms.backends.redis_store import RedisLiveStore
from rooms.events import Delivery, RoomLocked
from rooms.model import (
    ChatLog,
    ChatMessage,
    Floor,
    FloorMode,
    MediaPath,
    Participant,
    Phase,
    PhaseKind,
    Role,
    RoomState,
    Seat,
    SfuPlacement,
)
from tests.backends.live_helpers import (
    CONFIG,
    RedisWorld,
    Seen,
    encode,
    frame,
    increment,
    increment_by,
)
from tests.conftest import RedisServer, free_port
from tests.polling import eventually

pytestmark = pytest.mark.redis


@pytest.fixture
async def world(redis_server: RedisServer) -> AsyncIterator[RedisWorld]:
    made = RedisWorld(redis_server.url, ttl_seconds=0.3, alive_ttl=0.2)
    yield made
    await made.close()


# Presence across nodes -------------------------------------------------------------------------


async def test_presence_across_nodes(world: RedisWorld) -> None:
    a, b = (await world.node("a")).presence, (await world.node("b")).presence
    await a.heartbeat()
    await b.heartbeat()
    await a.attach("r1", "p1", "c1")
    assert await b.where("r1", "p1", "c1") == "a"
    # p1 reconnects through node b; node a's late detach must not remove b's entry.
    await b.attach("r1", "p1", "c2")
    await a.detach("r1", "p1", "c1")
    assert await a.where("r1", "p1", "c2") == "b"
    assert await a.orphans("r1", [("p1", "c2")]) == []
    # Nor can a node remove an entry another node wrote, whatever socket id it names.
    await a.detach("r1", "p1", "c2")
    assert await a.where("r1", "p1", "c2") == "b"


async def test_participants_of_a_dead_node_are_orphans(client: Redis) -> None:
    alive = RedisPresence(client, "alive", alive_ttl=5.0)
    dying = RedisPresence(client, "dying", alive_ttl=0.2)
    await alive.heartbeat()
    await dying.heartbeat()
    await alive.attach("r1", "p1", "c1")
    await dying.attach("r1", "p2", "c2")
    seats = [("p1", "c1"), ("p2", "c2"), ("p3", "c3")]
    assert await alive.orphans("r1", seats) == ["p3"]
    assert 0 < await client.pttl("hearth:alive:dying") <= 200
    await asyncio.sleep(0.3)  # "dying" stopped beating: its alive key expired
    assert await alive.orphans("r1", seats) == ["p2", "p3"]
    assert await alive.where("r1", "p2", "c2") == "dying"  # presence says where, orphans says if alive
    await dying.heartbeat()  # back (a pause, not a death)
    assert await alive.orphans("r1", [("p2", "c2")]) == []


# Expiry ----------------------------------------------------------------------------------------


async def test_live_state_expires_unless_touched(world: RedisWorld, client: Redis) -> None:
    store = (await world.node("a")).store
    assert isinstance(store, RedisLiveStore)
    await store.apply("r1", increment, encode)
    await store.apply("r2", increment, encode)
    assert 0 < await client.pttl("hearth:live:r1") <= 300
    await asyncio.sleep(0.2)
    await store.touch(["r1", "ghost"])  # a room without state is fine
    await store.touch([])
    assert 200 < await client.pttl("hearth:live:r1") <= 300
    await asyncio.sleep(0.15)  # r2 was last written 0.35 s ago: gone; r1 touched 0.15 s ago
    assert await store.load("r2") is None
    assert (await store.load("r1")) is not None
    assert await store.room_ids() == ["r1"]  # the expired room left the set too
    assert await client.smembers("hearth:live-rooms") == {b"r1"}
    await asyncio.sleep(0.35)
    assert await store.load("r1") is None
    assert await store.room_ids() == []


# The wire --------------------------------------------------------------------------------------


async def test_one_message_per_change_and_none_without_frames(world: RedisWorld, client: Redis) -> None:
    store = (await world.node("a")).store
    pubsub = client.pubsub()
    await pubsub.subscribe("hearth:room:r1")
    try:
        assert (await pubsub.get_message(timeout=1.0))["type"] == "subscribe"
        await store.apply("r1", increment_by(3), encode)
        await store.apply("r1", lambda state: (state, []), encode)  # no deliveries: no PUBLISH
        await store.apply("r1", increment, encode)
        messages = [await pubsub.get_message(timeout=1.0) for _ in range(2)]
        assert await pubsub.get_message(timeout=0.1) is None
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    envelopes = [msgspec.msgpack.decode(m["data"], type=Envelope) for m in messages if m]
    assert [e.origin for e in envelopes] == ["a", "a"]
    assert [e.room for e in envelopes] == ["r1", "r1"]
    assert [[f.seq for f in e.frames] for e in envelopes] == [[1, 2, 3], [4]]


async def test_a_full_state_survives_the_round_trip(world: RedisWorld) -> None:
    store = (await world.node("a")).store
    person = Participant(id="p1", name="Ana", role=Role.FACILITATOR, audio=True, hand=3.5)
    state = RoomState(
        room=CONFIG,
        session_id="s1",
        started_at=10.0,
        seq=7,
        seats={"p1": Seat(person=person, admitted=True, joined_at=1.0, sub="sub-1", conn="c1")},
        floor=Floor(mode=FloorMode.CIRCLE, holder="p1", order=("p1", "p2"), turn_seconds=60),
        chat=ChatLog(
            [
                ChatMessage(id="m1", sender="p1", name="Ana", text="hej «ok» ✓", ts=2.0, private=True),
                ChatMessage(id="m2", sender="p1", name="Ana", text="oops", ts=3.0),
            ]
        ).without_message("m2"),
        locked=True,
        banned_subs=frozenset({"bad"}),
        speaking={"p1": 1.5},
        media=MediaPath.SFU,
        sfu=SfuPlacement(instance="ws://10.0.0.5:8188", room="v1", epoch=2),
    )

    def put(old: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
        return state, [Delivery(RoomLocked(locked=True, seq=7))]

    await store.apply("r1", put, encode)
    assert await store.load("r1") == state


async def test_the_run_sheet_phase_survives_the_round_trip(world: RedisWorld) -> None:
    store = (await world.node("a")).store
    sheet = (
        Phase(name="Check-in round", minutes=10, kind=PhaseKind.CHECK_IN, floor=FloorMode.CIRCLE, notes="n"),
    )
    state = RoomState(room=replace(CONFIG, run_sheet=sheet), phase=0, phase_started_at=12.5)

    def put(old: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
        return state, []

    await store.apply("r1", put, encode)
    loaded = await store.load("r1", with_chat=False)
    assert loaded is not None and (loaded.phase, loaded.phase_started_at) == (0, 12.5)
    assert loaded.room.run_sheet == sheet and loaded.clone().phase == 0


# The bus ---------------------------------------------------------------------------------------


async def test_a_failing_handler_does_not_stop_the_reader(
    world: RedisWorld, caplog: pytest.LogCaptureFixture
) -> None:
    node = await world.node("a")
    seen = Seen()

    def broken(received: Frame) -> None:
        raise ValueError(f"secret content {received.data!r}")

    await node.bus.subscribe("r1", broken)
    await node.bus.subscribe("r1", seen)
    with caplog.at_level(logging.WARNING, logger="hearth.bus"):
        await node.bus.publish("r1", [frame(1)])
        await node.bus.publish("r1", [frame(2)])
        await eventually(lambda: len(seen.frames) == 2, what="frames after a failing handler")
    assert seen.frames == [frame(1), frame(2)]
    assert "ValueError" in caplog.text
    assert "secret" not in caplog.text


async def test_a_garbled_message_is_dropped(world: RedisWorld, client: Redis) -> None:
    node = await world.node("a")
    seen = Seen()
    await node.bus.subscribe("r1", seen)
    await client.publish("hearth:room:r1", b"\xc1 not msgpack")
    await node.bus.publish("r1", [frame(1)])
    await eventually(lambda: len(seen.frames) == 1, what="the frame after the garbage")
    assert isinstance(node.bus, RedisBus) and node.bus.available


async def test_the_bus_does_not_open_without_redis() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", "a")
    with pytest.raises(StoreUnavailable):
        await asyncio.wait_for(bus.open(), 3.0)
    assert not bus.available
    await bus.close()


async def test_close_is_clean_and_idempotent(redis_server: RedisServer) -> None:
    bus = RedisBus(redis_server.url, "a")
    await bus.open()
    await bus.subscribe("r1", Seen())
    await bus.close()
    await bus.close()
    assert not bus.available

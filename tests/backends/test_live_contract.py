"""The live-backend contract (store + bus + presence), run against memory and a real Redis.

The memory world is one node; the Redis world runs several nodes (separate clients and buses)
on one redis-server, as separate processes would.
"""

from __future__ import annotations

import asyncio

import pytest

from rooms.errors import CommandError
from tests.backends.live_helpers import (
    Seen,
    World,
    encode,
    end,
    frame,
    increment,
    increment_by,
    refuse,
)
from tests.polling import eventually

# The store -----------------------------------------------------------------------------------


async def test_apply_runs_the_step_and_saves(world: World) -> None:
    node = await world.node("a")
    assert await node.store.load("r1") is None
    deliveries = await node.store.apply("r1", increment, encode)
    assert [d.event.seq for d in deliveries] == [1]  # type: ignore[attr-defined]
    state = await node.store.load("r1")
    assert state is not None and state.seq == 1 and state.room.id == "r1"
    await node.store.apply("r1", increment, encode)
    assert (await node.store.load("r1")).seq == 2  # type: ignore[union-attr]
    assert await node.store.room_ids() == ["r1"]


async def test_a_step_returning_none_deletes_the_state(world: World) -> None:
    node = await world.node("a")
    await node.store.apply("r1", increment, encode)
    await node.store.apply("r2", increment, encode)
    assert await node.store.apply("r1", end, encode) == []
    assert await node.store.load("r1") is None
    assert await node.store.room_ids() == ["r2"]


async def test_a_refused_step_changes_and_publishes_nothing(world: World) -> None:
    node = await world.node("a")
    seen = Seen()
    await node.bus.subscribe("r1", seen)
    await node.store.apply("r1", increment, encode)
    error = CommandError("not_allowed", "no")

    def refuse_this(state: object) -> object:
        raise error

    with pytest.raises(CommandError) as raised:
        await node.store.apply("r1", refuse_this, encode)  # type: ignore[arg-type]
    assert raised.value is error
    with pytest.raises(CommandError):
        await node.store.apply("r1", refuse, encode)
    assert (await node.store.load("r1")).seq == 1  # type: ignore[union-attr]
    # Frames arrive in order: had a refused step published anything, it would come before seq 2.
    await node.store.apply("r1", increment, encode)
    await eventually(lambda: len(seen.frames) >= 2, what="two frames")
    assert seen.seqs == [1, 2]


async def test_frames_reach_subscribers_in_order(world: World) -> None:
    node = await world.node("a")
    first, second = Seen(), Seen()
    await node.bus.subscribe("r1", first)
    await node.bus.subscribe("r1", second)
    await node.store.apply("r1", increment_by(3), encode)
    await node.bus.publish("r1", [frame(1), frame(2)])  # frames that skip the store
    await node.store.apply("r1", increment, encode)
    await node.bus.publish("r1", [])  # nothing to send: nothing sent
    await eventually(lambda: len(second.frames) >= 6, what="six frames")
    for seen in (first, second):
        assert seen.seqs == [1, 2, 3, 0, 0, 4]
        assert seen.frames[3:5] == [frame(1), frame(2)]


async def test_frames_of_other_rooms_do_not_arrive(world: World) -> None:
    node = await world.node("a")
    r1, r2 = Seen(), Seen()
    await node.bus.subscribe("r1", r1)
    await node.bus.subscribe("r2", r2)
    await node.store.apply("r2", increment, encode)
    await node.store.apply("r1", increment_by(2), encode)
    await eventually(lambda: len(r1.frames) == 2 and len(r2.frames) == 1, what="frames of both rooms")
    assert r1.seqs == [1, 2] and r2.seqs == [1]


async def test_unsubscribe_stops_delivery(world: World) -> None:
    node = await world.node("a")
    leaving, staying = Seen(), Seen()
    await node.bus.subscribe("r1", leaving)
    await node.bus.subscribe("r1", staying)
    await node.store.apply("r1", increment, encode)
    await eventually(lambda: len(leaving.frames) == 1 and len(staying.frames) == 1, what="first frame")
    await node.bus.unsubscribe("r1", leaving)
    await node.bus.unsubscribe("r1", leaving)  # twice is harmless
    await node.store.apply("r1", increment, encode)
    await eventually(lambda: len(staying.frames) == 2, what="second frame")
    await node.bus.unsubscribe("r1", staying)  # the last handler: the node leaves the channel
    await node.store.apply("r1", increment, encode)
    await node.bus.subscribe("r1", staying)
    await node.store.apply("r1", increment, encode)
    await eventually(lambda: len(staying.frames) == 3, what="frame after subscribing again")
    assert leaving.seqs == [1]
    assert staying.seqs == [1, 2, 4]


async def test_concurrent_applies_from_two_nodes_lose_nothing(world: World) -> None:
    """Two nodes increment one room 100 times each, all at once: every increment counts, and every
    subscriber on either node sees the same numbers in the same order, without gaps or repeats."""
    a, b = await world.node("a"), await world.node("b")
    seen = [Seen(), Seen(), Seen()]
    await a.bus.subscribe("r1", seen[0])
    await b.bus.subscribe("r1", seen[1])
    await b.bus.subscribe("r1", seen[2])
    returned: list[int] = []

    async def bump(node_name: str) -> None:
        node = a if node_name == "a" else b
        deliveries = await node.store.apply("r1", increment, encode)
        returned.extend(d.event.seq for d in deliveries)  # type: ignore[attr-defined]

    await asyncio.wait_for(asyncio.gather(*(bump(name) for _ in range(100) for name in "ab")), 30)
    assert (await a.store.load("r1")).seq == 200  # type: ignore[union-attr]
    assert sorted(returned) == list(range(1, 201))
    await eventually(lambda: all(len(s.frames) >= 200 for s in seen), what="200 frames everywhere")
    for s in seen:
        assert s.seqs == list(range(1, 201))


async def test_publish_node_reaches_only_that_node(world: World) -> None:
    a, b = await world.node("a"), await world.node("b")
    on_a, on_b, other_room = Seen(), Seen(), Seen()
    await a.bus.subscribe("r1", on_a)
    await b.bus.subscribe("r1", on_b)
    await b.bus.subscribe("r2", other_room)
    if world.multi_node:
        await a.bus.publish_node("nobody", "r1", [frame(0)])
    await a.bus.publish_node(b.node_id, "r1", [frame(1), frame(2)])
    await eventually(lambda: len(on_b.frames) >= 2, what="frames on node b")
    # A room-wide frame after them: once it arrived everywhere, nothing else is on its way.
    await a.bus.publish("r1", [frame(3)])
    await eventually(lambda: frame(3) in on_a.frames and frame(3) in on_b.frames, what="the marker")
    assert on_b.frames == [frame(1), frame(2), frame(3)]
    # One node (memory): a and b are the same node, so its handlers got them too.
    assert on_a.frames == ([frame(3)] if world.multi_node else on_b.frames)
    assert other_room.frames == []


# Presence ------------------------------------------------------------------------------------


async def test_presence_attach_where_detach(world: World) -> None:
    presence = (await world.node("a")).presence
    await presence.heartbeat()
    assert await presence.where("r1", "p1", "c1") is None
    await presence.attach("r1", "p1", "c1")
    await presence.attach("r1", "p2", "c2")
    assert await presence.where("r1", "p1", "c1") == presence.node_id
    assert await presence.where("r2", "p1", "c1") is None
    assert await presence.orphans("r1", [("p1", "c1"), ("p2", "c2"), ("p3", "c3")]) == ["p3"]
    assert await presence.orphans("r1", []) == []
    await presence.detach("r1", "p1", "c1")
    await presence.detach("r1", "p1", "c1")  # twice is harmless
    assert await presence.where("r1", "p1", "c1") is None
    assert await presence.orphans("r1", [("p1", "c1"), ("p2", "c2")]) == ["p1"]


async def test_presence_is_per_socket(world: World) -> None:
    """A second socket claiming a participant (a join or resume being checked) neither replaces
    nor, when it goes, removes the entry of the socket the seat names."""
    presence = (await world.node("a")).presence
    await presence.heartbeat()
    await presence.attach("r1", "p1", "victim")
    await presence.attach("r1", "p1", "attacker")
    await presence.detach("r1", "p1", "attacker")
    assert await presence.where("r1", "p1", "victim") == presence.node_id
    assert await presence.where("r1", "p1", "attacker") is None
    assert await presence.orphans("r1", [("p1", "victim")]) == []
    assert await presence.orphans("r1", [("p1", "attacker")]) == ["p1"]

"""Failures with real parts: a node SIGKILLed mid-session, and Redis killed and restarted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis

from tests.conftest import RedisServer
from tests.nodes.conftest import NodeProcess, PersistentRedis, StartNode
from tests.nodes.session_helpers import about, admitted
from tests.polling import eventually
from tests.server.conftest import TIMEOUT, Client

pytestmark = [pytest.mark.slow, pytest.mark.redis]

Match = Callable[[dict[str, Any]], bool]


async def saw(client: Client, match: Match, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The first message this client received (read already or not) that matches; waits for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for message in client.seen:
            if match(message):
                return message
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"nothing matching within {timeout}s; received {client.seen[-5:]}")
        await client.recv(remaining)


def updated(pid: str, **fields: Any) -> Match:
    check = about(pid, **fields)
    return lambda m: m.get("type") == "participant_updated" and bool(check(m))


def person(snapshot: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in snapshot["participants"] if p["id"] == pid)


async def test_a_killed_node_s_member_resumes_on_the_other_and_an_absent_one_times_out(
    redis_server: RedisServer, start_node: StartNode
) -> None:
    # Alive keys live 3 upkeeps (~0.9 s); a lost seat is kept for 2 s.
    env = {"HEARTH_UPKEEP_SECONDS": "0.3", "HEARTH_GRACE_SECONDS": "2"}
    a, b = await asyncio.gather(start_node(redis_server.url, **env), start_node(redis_server.url, **env))
    room = await a.create_room(lobby=True, floor_mode="queue")
    fran = await a.joined(room.facilitator, "Fran")  # A
    dee = await admitted(a, fran, room.member, "Dee")  # A, watches
    ana = await admitted(b, fran, room.member, "Ana")  # B, comes back on A
    bob = await admitted(b, fran, room.member, "Bob")  # B, never comes back
    assert ana.welcome is not None

    # Ana has a circle place (kept while the floor runs in queue mode), a raised hand and a mute.
    order = [dee.id, ana.id, bob.id]
    await fran.ok({"type": "set_floor", "mode": "circle", "order": order})
    await fran.ok({"type": "set_floor", "mode": "queue"})
    await ana.ok({"type": "hand", "raised": True})
    await fran.ok({"type": "mute", "target": ana.id})
    await saw(dee, updated(ana.id, muted_by_facilitator=True))
    await saw(ana, updated(ana.id, muted_by_facilitator=True))
    view = await fran.snapshot()
    before = person(view, ana.id)
    assert isinstance(before["hand"], float) and before["muted_by_facilitator"] is True
    assert view["floor"]["mode"] == "queue" and view["floor"]["order"] == order
    assert view["floor"]["queue"] == [ana.id]
    resume = ana.welcome["resume"]
    for client in (fran, dee):
        client.seen.clear()

    b.kill()  # no close frames, no leave, no Disconnect: only its alive key stops being renewed

    # The upkeep on A notices the dead node: both of its members lose their connection.
    for client in (fran, dee):
        await saw(client, updated(ana.id, connected=False))
        await saw(client, updated(bob.id, connected=False))

    again = await a.connect()
    welcome = await again.join(room.member, "Ana", resume=resume)
    assert welcome["type"] == "welcome", welcome
    you = welcome["you"]
    assert you["id"] == ana.id and you["role"] == "member" and you["name"] == "Ana"
    assert you["hand"] == before["hand"] and you["muted_by_facilitator"] is True
    assert you["can_speak"] is False and you["connected"] is True
    floor = welcome["floor"]
    assert floor["mode"] == "queue" and floor["order"] in (order, [dee.id, ana.id])  # Bob may be gone
    assert ana.id in floor["queue"]
    for client in (fran, dee):
        back = await saw(client, updated(ana.id, connected=True))
        assert back["participant"]["muted_by_facilitator"] is True
        assert back["participant"]["hand"] == before["hand"]
    await again.refused({"type": "media", "audio": True, "video": False}, "not_allowed_to_speak")

    # Bob never comes back: after the grace period his seat goes for good, not kept as a ghost.
    for client in (fran, dee, again):
        left = await saw(client, lambda m: m.get("type") == "participant_left" and m["id"] == bob.id)
        assert left["reason"] == "timeout"
    view = await dee.snapshot()
    assert {p["id"] for p in view["participants"]} == {fran.id, dee.id, ana.id}
    assert all(p["connected"] for p in view["participants"])
    assert view["floor"]["order"] == [dee.id, ana.id] and view["floor"]["queue"] == [ana.id]

    # The session still works on the surviving node, and its keys go when it ends.
    await again.ok({"type": "chat", "text": "I am back"})
    await saw(fran, lambda m: m.get("type") == "chat" and m["message"]["text"] == "I am back")
    await fran.ok({"type": "end_session"})
    keys = redis.Redis.from_url(redis_server.url, socket_timeout=TIMEOUT)
    try:
        await eventually(
            lambda: not keys.exists(f"hearth:live:{room.id}", f"hearth:presence:{room.id}"),
            timeout=10,
            what="the session's keys to go (the dead node's entries included)",
        )
    finally:
        keys.close()
    assert a.alive()


async def both_ready(nodes: tuple[NodeProcess, ...], status: int) -> bool:
    return all([await node.ready() == status for node in nodes])


async def test_redis_killed_and_restarted_mid_session(
    persistent_redis: PersistentRedis, start_node: StartNode
) -> None:
    url = persistent_redis.url
    # Alive keys live ~0.9 s: the outage below outlasts them, as a real Redis restart would.
    # This Redis keeps everything on disk (a restart that loses nothing): allowed here on purpose.
    env = {"HEARTH_UPKEEP_SECONDS": "0.3", "HEARTH_LIVE_STORE_PERSISTENCE": "warn"}
    a, b = await asyncio.gather(start_node(url, **env), start_node(url, **env))
    nodes = (a, b)
    room = await a.create_room(lobby=False)
    quiet = await a.create_room(lobby=False, title="Nobody came yet")  # no node has looked it up
    fran = await a.joined(room.facilitator, "Fran")  # A
    ana = await b.joined(room.member, "Ana")  # B
    ben = await a.joined(room.member, "Ben")  # A
    dan = await b.joined(room.member, "Dan")  # B, loses his connection during the outage
    everyone = [fran, ana, ben]
    await ana.ok({"type": "chat", "text": "before"})
    for client in (*everyone, dan):
        await saw(client, lambda m: m.get("type") == "chat" and m["message"]["text"] == "before")
    assert await both_ready(nodes, 200)
    for client in everyone:
        client.seen.clear()

    persistent_redis.kill()
    down_since = time.monotonic()
    try:
        await eventually(lambda: both_ready(nodes, 503), what="/readyz to answer 503 on both nodes")
        # Commands answer `unavailable` and change nothing, on both nodes.
        await fran.refused({"type": "chat", "text": "lost"}, "unavailable")
        await ana.refused({"type": "hand", "raised": True}, "unavailable")
        await ben.refused({"type": "sync"}, "unavailable")
        # A fresh join is refused as fixable: the socket stays open for another try.
        newcomer = await a.connect()
        await newcomer.send({"type": "join", "token": room.member, "name": "Cy", "agree": True, "id": "j1"})
        refusal = await newcomer.recv()
        assert refusal["type"] == "error" and refusal["code"] == "unavailable" and refusal["ref"] == "j1"
        # The same for a room whose definition no node has cached (it must come from Redis).
        stranger = await b.connect()
        await stranger.send(
            {"type": "join", "token": quiet.facilitator, "name": "Gil", "agree": True, "id": "j2"}
        )
        refusal = await stranger.recv()
        assert refusal["type"] == "error" and refusal["code"] == "unavailable" and refusal["ref"] == "j2"
        dan.abort()  # his node cannot record it now
        await asyncio.sleep(max(0.0, down_since + 1.5 - time.monotonic()))  # past every alive key
        assert await both_ready(nodes, 503)
    finally:
        persistent_redis.start()  # same port, same directory: the append-only file brings it all back

    # Every client gets a fresh snapshot without asking, with the session as it was.
    for client in everyone:
        snapshot = await client.recv_until("snapshot", timeout=10)
        assert {p["id"] for p in snapshot["participants"]} == {fran.id, ana.id, ben.id, dan.id}
        assert [m["text"] for m in snapshot["chat"]] == ["before"]
    await eventually(lambda: both_ready(nodes, 200), what="/readyz to answer 200 again")

    # The refused sockets can join now.
    assert (await newcomer.join(room.member, "Cy"))["type"] == "welcome"
    assert (await stranger.join(quiet.facilitator, "Gil"))["type"] == "welcome"

    # The seat of the socket lost during the outage is not kept as connected (a ghost). Frames
    # published while a node's bus was still away reach its clients only as the snapshot.
    async def dan_disconnected() -> bool:
        return not person(await ben.snapshot(), dan.id)["connected"]

    await eventually(dan_disconnected, what="the seat of the socket lost in the outage to be disconnected")
    # And the session carries on across the nodes.
    await ana.ok({"type": "chat", "text": "after"})
    for client in (*everyone, newcomer):
        await saw(client, lambda m: m.get("type") == "chat" and m["message"]["text"] == "after")
    await fran.ok({"type": "chat", "text": "and back"})
    for client in (*everyone, newcomer):
        await saw(client, lambda m: m.get("type") == "chat" and m["message"]["text"] == "and back")
    # Nobody whose socket stayed open was taken for gone (their nodes' alive keys had expired).
    view = await ben.snapshot()
    connected = {p["id"]: p["connected"] for p in view["participants"]}
    assert connected == {fran.id: True, ana.id: True, ben.id: True, newcomer.id: True, dan.id: False}
    for client in everyone:
        wrongly = [
            m
            for m in client.seen
            if m.get("type") == "participant_updated"
            and m["participant"]["id"] != dan.id
            and not m["participant"]["connected"]
        ]
        assert wrongly == []
    assert a.alive() and b.alive()
    for node in nodes:
        assert "Traceback" not in node.log(), node.log()

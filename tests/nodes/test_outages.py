"""Redis restarted many times under three nodes: no member misses an event, and none sees a gap."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from server.acks import ACK_WAIT_SECONDS
from tests.conftest import RedisServer
from tests.nodes.conftest import PersistentRedis, StartNode
from tests.server.conftest import TIMEOUT, Client

pytestmark = [pytest.mark.slow, pytest.mark.redis]

CHATS = 12  # per node and round
ROUNDS = 6  # every restart is a fresh chance to lose a frame; a few in a row make it reliable


async def chat_sent(client: Client, text: str) -> None:
    """Send a chat, again while the store answers ``unavailable`` (the nodes are still coming
    back; such a refusal changed nothing), at most for a few seconds."""
    deadline = time.monotonic() + 3 * TIMEOUT
    attempt = 0
    while True:
        attempt += 1
        # A node whose bus is still reconnecting answers once it is back, or after the acks'
        # wait (server/acks.py): the written chat's ack may take that long.
        wait = ACK_WAIT_SECONDS + TIMEOUT
        reply = await client.request({"type": "chat", "text": text}, f"c{attempt}", wait)
        if reply["type"] == "ack":
            return
        assert reply["code"] == "unavailable", reply
        assert time.monotonic() < deadline, f"chat {text!r} still refused"
        await asyncio.sleep(0.1)


def since_snapshot(client: Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The last ``snapshot``/``welcome`` this client got, and every numbered frame it received
    after it, in the order received."""
    last: dict[str, Any] | None = None
    after: list[dict[str, Any]] = []
    for message in client.seen:
        if message.get("type") in ("snapshot", "welcome"):
            last, after = message, []
        elif "seq" in message:
            after.append(message)
    assert last is not None, "no welcome or snapshot"
    return last, after


def check_order(client: Client) -> list[str]:
    """What is wrong in the order of what ``client`` received (empty: nothing).

    A client keeps the room as its last ``welcome``/``snapshot`` plus the numbered events after
    it, in ``seq`` order (static/js/protocol.js; a gap makes it ask for a ``sync``). That is only
    right if (1) a snapshot never goes back before a numbered frame the client already has, and
    (2) after a snapshot, numbered frames follow it with no number missing."""
    problems: list[str] = []
    newest = 0  # the highest seq received so far, in a snapshot or a frame
    expected: int | None = None
    for message in client.seen:
        kind = message.get("type")
        if kind in ("welcome", "snapshot"):
            if message["seq"] < newest:
                problems.append(f"{kind} at seq {message['seq']} after frame {newest}")
            newest = max(newest, message["seq"])
            expected = message["seq"] + 1
        elif "seq" in message:
            if expected is not None and message["seq"] != expected:
                problems.append(f"{kind} {message['seq']} where {expected} was next")
            newest = max(newest, message["seq"])
            expected = message["seq"] + 1
    return problems


def view_chat(client: Client) -> set[str]:
    """The chat texts a client shows: its last snapshot's, and the chat events after it."""
    last, after = since_snapshot(client)
    texts = {m["text"] for m in last["chat"]}
    return texts | {m["message"]["text"] for m in after if m.get("type") == "chat"}


async def read_until_chat(client: Client, text: str, when: str) -> None:
    """Read (bounded) until the client shows the chat ``text`` (in its last snapshot or after)."""
    deadline = time.monotonic() + 15
    while True:
        last, after = since_snapshot(client)
        if text in view_chat(client):
            return
        if time.monotonic() > deadline:
            got = [(m["seq"], m["type"], m.get("message", {}).get("text")) for m in after]
            pytest.fail(f"{when}: {client.id} (snapshot seq {last['seq']}) never got {text!r}: {got}")
        with contextlib.suppress(TimeoutError):
            await client.recv(0.2)


async def test_every_member_on_every_node_gets_every_event_across_redis_restarts(
    persistent_redis: PersistentRedis, start_node: StartNode
) -> None:
    # A Redis that keeps everything (a restart loses nothing), allowed as live store on purpose.
    env = {"HEARTH_UPKEEP_SECONDS": "0.3", "HEARTH_LIVE_STORE_PERSISTENCE": "warn"}
    nodes = tuple(await asyncio.gather(*(start_node(persistent_redis.url, **env) for _ in range(3))))
    a, b, c = nodes
    room = await a.create_room(lobby=False)
    fran = await a.joined(room.facilitator, "Fran")
    # Members on every node; node C holds no facilitator.
    people = {
        a: [fran, await a.joined(room.member, "Ann")],
        b: [await b.joined(room.member, "Bea"), await b.joined(room.member, "Bo")],
        c: [await c.joined(room.member, "Cy"), await c.joined(room.member, "Cam")],
    }
    everyone = [client for clients in people.values() for client in clients]
    talkers = [people[node][0] for node in nodes]
    listeners = [clients[1] for clients in people.values()]  # they ask for snapshots meanwhile

    for turn in range(ROUNDS):
        for client in everyone:
            client.inbox.clear()
            client.seen.clear()
        persistent_redis.kill()
        await asyncio.sleep((0.1, 0.5, 1.2)[turn % 3])  # some outlast every alive key
        persistent_redis.start()
        # From every node, as soon as the store answers again (some nodes may still be
        # reconnecting their bus), chats; meanwhile one member per node asks for snapshots, as a
        # client does when it sees a gap.
        texts = [f"round {turn} node {index} chat {n}" for index in range(len(nodes)) for n in range(CHATS)]

        async def talk(sender: Client, index: int) -> None:
            for n in range(CHATS):
                await chat_sent(sender, f"round {turn} node {index} chat {n}")  # noqa: B023

        async def ask(listener: Client) -> None:
            for _ in range(CHATS):
                await listener.send({"type": "sync"})
                await asyncio.sleep(0.01)

        await asyncio.gather(
            *(talk(sender, index) for index, sender in enumerate(talkers)),
            *(ask(listener) for listener in listeners),
        )
        # Every client heard that frames may have been lost: a snapshot.
        for client in everyone:
            await client.recv_until("snapshot", timeout=15)
        # A last chat, once everything is back: after it arrives, nothing else is on its way.
        marker = f"round {turn} done"
        await chat_sent(people[c][0], marker)
        for client in everyone:
            await read_until_chat(client, marker, f"round {turn}")
            assert check_order(client) == [], (turn, client.id)
            assert set(texts) <= view_chat(client), (turn, client.id, sorted(set(texts) - view_chat(client)))
    for node in nodes:
        assert node.alive() and "Traceback" not in node.log(), node.log()


async def test_a_live_store_restarted_without_its_data_ends_the_sessions_it_held(
    redis_server: RedisServer, start_node: StartNode
) -> None:
    """The live store keeps nothing on disk: its restart loses the sessions in progress. Their
    clients are told (4010, as at a session's end) rather than left waiting for frames."""
    env = {"HEARTH_UPKEEP_SECONDS": "0.3"}
    a, b = await asyncio.gather(start_node(redis_server.url, **env), start_node(redis_server.url, **env))
    room = await a.create_room(lobby=False)
    fran = await a.joined(room.facilitator, "Fran")
    ann = await b.joined(room.member, "Ann")
    redis_server.restart()  # a Redis without persistence: it comes back empty
    for client in (fran, ann):
        assert await client.expect_close(timeout=15) == 4010
    for node in (a, b):
        assert node.alive() and "Traceback" not in node.log(), node.log()


async def test_a_join_while_the_bus_is_still_away_is_answered(
    persistent_redis: PersistentRedis, start_node: StartNode
) -> None:
    """Right after Redis is back the store answers, while the bus may still wait in its backoff:
    a join then must get its welcome or a fixable ``unavailable``, never silence."""
    env = {"HEARTH_UPKEEP_SECONDS": "0.3", "HEARTH_LIVE_STORE_PERSISTENCE": "warn"}
    node = await start_node(persistent_redis.url, **env)
    room = await node.create_room(lobby=False)
    fran = await node.joined(room.facilitator, "Fran")
    sockets = [await node.connect() for _ in range(4)]
    persistent_redis.kill()
    await asyncio.sleep(3.0)  # the bus's reconnect backoff grows to its longest (2 s)
    persistent_redis.start()
    answers = []
    for index, client in enumerate(sockets):
        await asyncio.sleep(0.1 * index)
        join = {"type": "join", "token": room.member, "name": f"M{index}", "agree": True, "id": "j"}
        await client.send(join)
        answer = await client.recv_until(("welcome", "error"), timeout=10)
        answers.append(answer["type"] if answer["type"] == "welcome" else answer["code"])
    assert set(answers) <= {"welcome", "unavailable"}, answers
    await fran.recv_until("snapshot", timeout=10)

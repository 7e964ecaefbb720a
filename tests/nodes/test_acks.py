"""A command's ack comes after its own frames, on Redis too, by construction (``server.acks``).

The ack of a room command is published with the command's frames, in the same pub/sub
message, to the socket that sent it: it cannot overtake them. Before, it was sent directly once
the write returned, while the frames went round through Redis, so under load an ack could reach
its client before the frame of its own command.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import RedisServer
from tests.nodes.conftest import StartNode
from tests.server.conftest import Client

pytestmark = [pytest.mark.slow, pytest.mark.redis]

FAST = {"HEARTH_RATE_PER_SECOND": "1000", "HEARTH_RATE_BURST": "1000", "HEARTH_OUTBOX_SIZE": "4096"}
COUNT = 150  # chat messages per client, all sent before reading any answer


async def chat_storm(client: Client, who: str) -> None:
    """Send ``COUNT`` chat messages, each with the id its text is, then read every answer."""
    for n in range(COUNT):
        await client.send({"type": "chat", "text": f"{who}{n}", "id": f"{who}{n}"})
    acked = 0
    while acked < COUNT:
        reply = await client.recv_until(("ack", "error"), lambda m: str(m.get("ref", "")).startswith(who))
        assert reply["type"] == "ack", reply
        acked += 1


def positions(seen: list[dict[str, Any]], who: str) -> tuple[dict[str, int], dict[str, int]]:
    """Where, in what a client received, each of ``who``'s chat frames and acks came."""
    chats: dict[str, int] = {}
    acks: dict[str, int] = {}
    for index, message in enumerate(seen):
        if message["type"] == "chat" and message["message"]["text"].startswith(who):
            chats[message["message"]["text"]] = index
        elif message["type"] == "ack" and str(message["ref"]).startswith(who):
            acks[str(message["ref"])] = index
    return chats, acks


async def test_every_ack_comes_after_its_own_frames_with_commands_from_two_nodes(
    redis_server: RedisServer, start_node: StartNode
) -> None:
    a, b = await asyncio.gather(start_node(redis_server.url, **FAST), start_node(redis_server.url, **FAST))
    room = await a.create_room(lobby=False)
    fran = await a.joined(room.facilitator, "Fran")
    gil = await b.joined(room.facilitator, "Gil")
    await fran.recv_until("participant_joined")
    for client in (fran, gil):
        await client.drain()
    marks = {id(fran): len(fran.seen), id(gil): len(gil.seen)}

    await asyncio.gather(chat_storm(fran, "f"), chat_storm(gil, "g"))

    late = []
    for client, who in ((fran, "f"), (gil, "g")):
        chats, acks = positions(client.seen[marks[id(client)] :], who)
        assert len(acks) == COUNT and set(acks) == {f"{who}{n}" for n in range(COUNT)}
        # Every message's own frame was there, and before its ack.
        assert set(chats) == set(acks), sorted(set(acks) - set(chats))[:5]
        late += [ref for ref, at in acks.items() if at < chats[ref]]
    assert late == []

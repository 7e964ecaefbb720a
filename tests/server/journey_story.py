"""One group's journey over two sessions with a restart between them, for any server harness
(an in-process server on SQLite, node processes on Redis): what the issue's "done when" asks
of the store, checked through the API; each test then reads the store directly."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import httpx

from tests.server.conftest import Client, Room
from tests.server.journey_helpers import Api, add_member

PLAN = {"what": "Walk to the corner", "how_much": "10 minutes", "when": "after lunch", "how_often": "3 times"}
STRATEGY = {"text": "Pacing: 20 minutes on, then 5 minutes lying down", "tags": ["pacing"], "anonymous": True}
CARD = {"pain": 7, "enjoyment": 5, "activity": 6}


class Node(Protocol):
    def http(self) -> httpx.AsyncClient: ...
    async def joined(self, token: str, name: str, **extra: Any) -> Client: ...
    async def create_room(self, **fields: Any) -> Room: ...


class Group(NamedTuple):
    room: Room
    sub: str  # Sam's stable identity
    token: str  # Sam's personal link
    sam_id: str  # Sam's participant id in session 1
    plan_id: str
    post_id: str


async def first_session(node: Node) -> Group:
    """Session 1: Sam, on a personal link, checks in, sets a plan and posts a strategy; the
    facilitator ends the session."""
    room = await node.create_room(lobby=False)
    async with node.http() as http:
        facilitator = Api(http, room.id, room.facilitator)
        sub, token = await add_member(facilitator, "Sam")
        fran = await node.joined(room.facilitator, "Fran")
        sam_socket = await node.joined(token, "Sam")
        sam = Api(http, room.id, token)
        assert (await sam.ok("GET"))["session"] == {"number": 1, "live": True}
        await sam.ok("PUT", "/checkins/in", CARD)
        plan = await sam.ok("POST", "/plans", {**PLAN, "confidence": 8}, status=201)
        post = await sam.ok("POST", "/board", STRATEGY, status=201)
        await fran.ok({"type": "end_session"})
        await fran.expect_close()
        await sam_socket.expect_close()
    return Group(room, sub, token, sam_socket.id, plan["id"], post["id"])


async def second_session(node: Node, group: Group) -> None:
    """Session 2, on a server that restarted: Sam is recognised, last week's plan is offered for
    review and marked, the board and the check-in are still there; then Sam deletes their data."""
    room = group.room
    async with node.http() as http:
        await node.joined(room.facilitator, "Fran")
        sam_socket = await node.joined(group.token, "Sam")
        assert sam_socket.id == group.sam_id, "a personal link keeps its participant id"
        sam = Api(http, room.id, group.token)
        assert (await sam.ok("GET"))["session"] == {"number": 2, "live": True}
        [plan] = (await sam.ok("GET", "/plans"))["plans"]
        assert plan["id"] == group.plan_id and plan["for_review"] and plan["session"] == 1
        reviewed = await sam.ok("POST", f"/plans/{group.plan_id}/review", {"status": "done", "shared": True})
        assert reviewed["review"]["status"] == "done" and reviewed["review"]["session"] == 2
        [post] = (await sam.ok("GET", "/board"))["posts"]
        assert (
            post["id"] == group.post_id and post["text"] == STRATEGY["text"] and post["author"] == "Anonymous"
        )
        [card] = (await sam.ok("GET", "/checkins/mine"))["cards"]
        assert (card["session"], card["kind"], card["score"]) == (1, "in", 6.0)

        await sam.ok("DELETE", "/me/data")
        mine = await sam.ok("GET", "/me")
        assert (mine["plans"], mine["checkins"], mine["posts"]) == ([], [], [])
        assert mine["member"]["name"] == "Sam", "deleting one's data keeps one in the group"

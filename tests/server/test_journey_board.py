"""The coping-strategies board over HTTP (docs/journey.md, "Coping-strategies board"): who
posts and reads, anonymity, moderation, "helped me too", the toolkit, the limits, and the
``journey_changed`` notice to a live session."""

from __future__ import annotations

from typing import Any

from rooms.backends.journey_base import Record
from rooms.journey.model import Strategy, encode
from tests.server.conftest import Running
from tests.server.journey_helpers import Api, roster_room


async def test_posts_named_or_anonymous_and_who_sees_the_author(server: Running) -> None:
    async with server.http() as http:
        room, fran, [robin, sam] = await roster_room(server, http, "Robin", "Sam")
        shared = Api(http, room.id, room.member)
        named = await robin.ok(
            "POST", "/board", {"text": "Pacing with a timer", "tags": ["pacing"]}, status=201
        )
        anon = await robin.ok(
            "POST", "/board", {"text": "Warm bath", "tags": ["sleep"], "anonymous": True}, 201
        )
        by_fran = await fran.ok("POST", "/board", {"text": "Body scan", "tags": ["relaxation"]}, status=201)
        assert by_fran["author"] == "Facilitator"

        def by_id(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
            return {p["id"]: p for p in board["posts"]}

        for api in (sam, shared):
            posts = by_id(await api.ok("GET", "/board"))
            assert posts[named["id"]]["author"] == "Robin"
            assert posts[anon["id"]]["author"] == "Anonymous" and "author_name" not in posts[anon["id"]]
        moderated = by_id(await fran.ok("GET", "/board"))
        assert moderated[anon["id"]]["author_name"] == "Robin"
        assert by_id(await robin.ok("GET", "/board"))[anon["id"]]["mine"]
        await shared.refused("POST", "/board", {"text": "drop-in"}, 403, "personal_link_required")


async def test_moderation_and_authorship(server: Running) -> None:
    async with server.http() as http:
        _, fran, [robin, sam] = await roster_room(server, http, "Robin", "Sam")
        post = await robin.ok("POST", "/board", {"text": "Heat pad", "tags": ["flare-ups"]}, status=201)
        pid = post["id"]
        await sam.refused("PATCH", f"/board/{pid}", {"pinned": True}, 403, "forbidden")
        await sam.refused("PATCH", f"/board/{pid}", {"text": "changed"}, 403, "forbidden")
        await sam.refused("DELETE", f"/board/{pid}", None, 403, "forbidden")
        await robin.refused("PATCH", f"/board/{pid}", {"hidden": True}, 403, "forbidden")
        assert (await robin.ok("PATCH", f"/board/{pid}", {"text": "Heat pad, 20 min"}))[
            "text"
        ] == "Heat pad, 20 min"
        other = await sam.ok("POST", "/board", {"text": "Stretching"}, status=201)
        pinned = await fran.ok("PATCH", f"/board/{pid}", {"pinned": True, "tags": ["movement", "pacing"]})
        assert pinned["pinned"] and pinned["tags"] == ["pacing", "movement"]
        assert [p["id"] for p in (await sam.ok("GET", "/board"))["posts"]] == [pid, other["id"]]
        await fran.ok("PATCH", f"/board/{other['id']}", {"hidden": True})
        assert [p["id"] for p in (await sam.ok("GET", "/board"))["posts"]] == [pid]
        assert len((await fran.ok("GET", "/board"))["posts"]) == 2
        await fran.ok("DELETE", f"/board/{other['id']}")
        assert len((await fran.ok("GET", "/board"))["posts"]) == 1


async def test_bad_posts_are_refused_and_change_nothing(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin] = await roster_room(server, http, "Robin")
        await robin.refused("POST", "/board", {"text": "x" * 1001}, 400, "bad_message")
        await robin.refused("POST", "/board", {"text": "\u200b"}, 400, "bad_message")
        await robin.refused("POST", "/board", {"text": "ok", "tags": ["gardening"]}, 400, "bad_message")
        five = ["pacing", "sleep", "mood", "work", "other"]
        await robin.refused("POST", "/board", {"text": "ok", "tags": five}, 400, "bad_message")
        await robin.refused("POST", "/board", {"text": "ok", "pinned": True}, 400, "bad_message")
        big = await robin.call("POST", "/board", {"text": "x" * 9000})
        assert big.status_code == 413
    assert await server.node.journey.list(room.id, "post") == []


async def test_helped_and_the_toolkit(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin, sam] = await roster_room(server, http, "Robin", "Sam")
        post = await robin.ok("POST", "/board", {"text": "Pacing"}, status=201)
        helped = await sam.ok("PUT", f"/board/{post['id']}/helped")
        assert helped["helped"] == 1 and helped["helped_by_me"]
        await sam.ok("PUT", f"/board/{post['id']}/saved")
        [kept] = (await sam.ok("GET", "/toolkit"))["posts"]
        assert kept["id"] == post["id"] and kept["saved"]
        assert (await robin.ok("GET", "/toolkit"))["posts"] == []
        [seen] = (await robin.ok("GET", "/board"))["posts"]
        assert seen["helped"] == 1 and not seen["helped_by_me"] and not seen["saved"]
        await Api(http, room.id, room.member).refused("GET", "/toolkit", None, 403, "personal_link_required")


async def test_the_board_holds_300_posts_and_a_member_30(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin, sam] = await roster_room(server, http, "Robin", "Sam")
        sub = (await robin.ok("GET"))["you"]["member"]["id"]
        data = encode(Strategy(text="x"))
        for n in range(30):
            await server.node.journey.put(
                room.id, Record(kind="post", id=f"r{n}", owner=sub, created=0, data=data)
            )
        await robin.refused("POST", "/board", {"text": "one more"}, 409, "limit_reached")
        for n in range(270):
            await server.node.journey.put(
                room.id, Record(kind="post", id=f"o{n}", owner=None, created=0, data=data)
            )
        await sam.refused("POST", "/board", {"text": "one more"}, 409, "limit_reached")
    assert await server.node.journey.count(room.id, "post") == 300


async def test_journey_changed_reaches_the_live_session(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin] = await roster_room(server, http, "Robin")
        fran = await server.joined(room.facilitator, "Fran")
        member = await server.joined(robin.token, "Robin")
        await fran.drain()
        await member.drain()
        await robin.ok("POST", "/board", {"text": "Pacing"}, status=201)
        for client in (fran, member):
            event = await client.recv_until("journey_changed")
            assert event == {"type": "journey_changed", "what": "board", "seq": event["seq"]}
        # Private things say nothing to the session: a check-in card, a private plan.
        await robin.ok("PUT", "/checkins/in", {"pain": 5, "enjoyment": 5, "activity": 5})
        await robin.ok("POST", "/plans", {"what": "rest", "confidence": 8}, status=201)
        assert [m for m in await member.drain() if m["type"] == "journey_changed"] == []

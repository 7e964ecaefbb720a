"""Action plans over HTTP (docs/journey.md, "Action plans"): bounds, ownership, who sees them,
the review at the next session, cheers; and bad input changes nothing."""

from __future__ import annotations

import pytest

from rooms.backends.journey_base import Record
from rooms.journey.model import ActionPlan, encode
from server import journey_auth
from tests.server.conftest import Running
from tests.server.journey_helpers import Api, roster_room

PLAN = {"what": "Walk to the corner", "how_much": "10 minutes", "when": "after lunch", "how_often": "3 times"}


async def test_a_plan_set_in_session_one_is_reviewed_in_session_two(server: Running) -> None:
    async with server.http() as http:
        room, fran_api, [robin] = await roster_room(server, http, "Robin")
        fran = await server.joined(room.facilitator, "Fran")
        assert (await robin.ok("GET"))["session"] == {"number": 1, "live": True}
        plan = await robin.ok("POST", "/plans", {**PLAN, "confidence": 6}, status=201)
        assert plan["session"] == 1 and plan["suggest_smaller"] and plan["mine"] and not plan["for_review"]
        await fran.ok({"type": "end_session"})
        await fran.expect_close()

        fran = await server.joined(room.facilitator, "Fran")  # session 2
        assert (await robin.ok("GET"))["session"] == {"number": 2, "live": True}
        [seen] = (await robin.ok("GET", "/plans"))["plans"]
        assert seen["id"] == plan["id"] and seen["for_review"] and seen["review"] is None
        reviewed = await robin.ok(
            "POST", f"/plans/{plan['id']}/review", {"status": "partly", "note": "twice"}
        )
        assert reviewed["review"] == {"status": "partly", "note": "twice", "shared": False, "session": 2}
        assert not reviewed["for_review"]
        [by_fran] = (await fran_api.ok("GET", "/plans"))["plans"]  # SEE_PLANS: private ones too
        assert by_fran["owner_name"] == "Robin" and by_fran["review"]["status"] == "partly"


async def test_a_member_never_reads_nor_changes_anothers_private_plan(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin, sam] = await roster_room(server, http, "Robin", "Sam")
        plan = await robin.ok("POST", "/plans", {**PLAN, "confidence": 8}, status=201)
        assert (await sam.ok("GET", "/plans"))["plans"] == []
        await sam.refused("PATCH", f"/plans/{plan['id']}", {"what": "taken over"}, 404, "not_found")
        await sam.refused("DELETE", f"/plans/{plan['id']}", None, 404, "not_found")
        # Shared: Sam sees it and may cheer, but still not change it.
        await robin.ok("PATCH", f"/plans/{plan['id']}", {"shared": True})
        [seen] = (await sam.ok("GET", "/plans"))["plans"]
        assert seen["owner_name"] == "Robin" and not seen["mine"]
        await sam.refused("PATCH", f"/plans/{plan['id']}", {"what": "taken over"}, 403, "forbidden")
        await sam.refused("POST", f"/plans/{plan['id']}/review", {"status": "done"}, 403, "forbidden")
        cheered = await sam.ok("PUT", f"/plans/{plan['id']}/cheer")
        assert cheered["cheers"] == 1 and cheered["cheered"]
        [mine] = (await robin.ok("GET", "/plans"))["plans"]
        assert mine["what"] == PLAN["what"] and mine["review"] is None and mine["cheers"] == 1
        assert not mine["cheered"]
        # A shared link reads nothing about a person.
        shared = Api(http, room.id, room.member)
        await shared.refused("GET", "/plans", None, 403, "personal_link_required")
        await shared.refused("POST", "/plans", {**PLAN, "confidence": 8}, 403, "personal_link_required")


async def test_bad_plans_are_refused_and_change_nothing(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin] = await roster_room(server, http, "Robin")
        await robin.refused("POST", "/plans", {**PLAN, "confidence": 11}, 400, "bad_message")
        await robin.refused("POST", "/plans", {**PLAN, "confidence": -1}, 400, "bad_message")
        await robin.refused("POST", "/plans", {**PLAN, "confidence": 5.5}, 400, "bad_message")
        await robin.refused("POST", "/plans", {**PLAN, "what": " ", "confidence": 5}, 400, "bad_message")
        await robin.refused(
            "POST", "/plans", {**PLAN, "what": "x" * 201, "confidence": 5}, 400, "bad_message"
        )
        await robin.refused("POST", "/plans", {**PLAN, "confidence": 5, "owner": "sam"}, 400, "bad_message")
        oversized = await robin.call("POST", "/plans", {**PLAN, "confidence": 5, "how_much": "x" * 9000})
        assert oversized.status_code == 413 and oversized.json()["error"]["code"] == "too_large"
        plain = await http.post(
            robin.url("/plans"), content=b"{}", headers={"Authorization": f"Bearer {robin.token}"}
        )
        assert plain.status_code == 415
        plan = await robin.ok("POST", "/plans", {**PLAN, "confidence": 7}, status=201)
        await robin.refused("PATCH", f"/plans/{plan['id']}", {"confidence": 11}, 400, "bad_message")
        await robin.refused("POST", f"/plans/{plan['id']}/review", {"status": "great"}, 400, "bad_message")
        long_note = {"status": "done", "note": "x" * 501}
        await robin.refused("POST", f"/plans/{plan['id']}/review", long_note, 400, "bad_message")
        for field in ("how_much", "when", "how_often"):
            await robin.refused("PATCH", f"/plans/{plan['id']}", {field: "x" * 101}, 400, "bad_message")
        await robin.ok("POST", f"/plans/{plan['id']}/review", {"status": "done", "note": "x" * 500})
        await robin.ok("PATCH", f"/plans/{plan['id']}", {"how_much": "x" * 100, "what": "y" * 200})
        [kept] = (await robin.ok("GET", "/plans"))["plans"]
        assert kept["confidence"] == 7 and kept["review"]["note"] == "x" * 500
        assert kept["how_much"] == "x" * 100 and kept["when"] == PLAN["when"]
    assert len(await server.node.journey.list(room.id, "plan")) == 1


async def test_a_member_keeps_at_most_30_plans(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin] = await roster_room(server, http, "Robin")
        sub = (await robin.ok("GET"))["you"]["member"]["id"]
        for n in range(29):
            data = encode(ActionPlan(what="rest", confidence=9))
            await server.node.journey.put(
                room.id, Record(kind="plan", id=f"p{n}", owner=sub, created=0.0, data=data)
            )
        await robin.ok("POST", "/plans", {"what": "rest", "confidence": 9}, status=201)  # the 30th
        await robin.refused("POST", "/plans", {"what": "rest", "confidence": 9}, 409, "limit_reached")
    assert await server.node.journey.count(room.id, "plan", owner=sub) == 30


async def test_each_link_has_its_own_rate(server: Running, monkeypatch: pytest.MonkeyPatch) -> None:
    """A member hammering the API waits (429); another link of the room is served at once."""
    monkeypatch.setattr(journey_auth, "RATE_PER_SECOND", 0.001)  # no refill during the test
    monkeypatch.setattr(journey_auth, "RATE_BURST", 3)
    async with server.http() as http:
        room = await server.create_room()
        robin, fran = Api(http, room.id, room.member), Api(http, room.id, room.facilitator)
        for _ in range(3):
            await robin.ok("GET", "/board")
        limited = await robin.call("GET", "/board")
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert limited.headers["retry-after"] == "1"
        await fran.ok("GET", "/board")


async def test_a_large_answer_costs_its_size_in_requests(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fetching a full board in a loop costs the link its size (a token per
    ANSWER_BYTES_PER_TOKEN), so it waits sooner than with small answers; other links do not."""
    monkeypatch.setattr(journey_auth, "RATE_PER_SECOND", 0.001)  # no refill during the test
    monkeypatch.setattr(journey_auth, "RATE_BURST", 10)
    monkeypatch.setattr(journey_auth, "ANSWER_BYTES_PER_TOKEN", 1024)
    async with server.http() as http:
        _room, fran, [robin] = await roster_room(server, http, "Robin")
        for n in range(3):
            await robin.ok("POST", "/board", {"text": f"{n} " + "x" * 990}, status=201)  # 3 posts, ~3 KiB
        served = 0
        while served < 10 and (await robin.call("GET", "/board")).status_code == 200:
            served += 1  # each ~3 KiB answer costs 1 + 3 tokens
        assert 1 <= served <= 2, f"{served} boards served: charged by request alone, 7 would be"
        await fran.ok("GET", "/board")

"""Check-in cards, the group's summary and "my data" over HTTP (docs/journey.md, "Check-ins and
the group summary", "My data")."""

from __future__ import annotations

from tests.server.conftest import Running
from tests.server.journey_helpers import Api, roster_room

NAMES = ("Ann", "Bob", "Cy", "Di", "Ed", "Flo")


async def test_four_answers_give_no_summary_five_a_frozen_one(server: Running) -> None:
    async with server.http() as http:
        room, fran_api, members = await roster_room(server, http, *NAMES)
        fran = await server.joined(room.facilitator, "Fran")
        await fran.drain()
        for n, member in enumerate(members[:4]):
            await member.ok("PUT", "/checkins/in", {"pain": n, "enjoyment": n, "activity": n})
        await fran_api.refused("POST", "/checkins/summary", {"kind": "in"}, 409, "too_few_answers")
        assert await server.node.journey.list(room.id, "summary") == []
        await members[0].refused("POST", "/checkins/summary", {"kind": "in"}, 403, "forbidden")
        await members[4].ok("PUT", "/checkins/in", {"pain": 9, "enjoyment": 9, "activity": 9})
        made = await fran_api.ok("POST", "/checkins/summary", {"kind": "in"}, status=201)
        assert made == {"session": 1, "kind": "in", "n": 5, "score": 3.0}  # (0+1+2+3+9)/5
        assert (await fran.recv_until("journey_changed"))["what"] == "checkins"
        # A sixth answer and a deleted card change nothing the group sees.
        await members[5].ok("PUT", "/checkins/in", {"pain": 10, "enjoyment": 10, "activity": 10})
        await members[4].ok("DELETE", "/me/data")
        assert await fran_api.ok("POST", "/checkins/summary", {"kind": "in"}) == made
        shared = Api(http, room.id, room.member)
        assert (await shared.ok("GET", "/checkins/summary"))["summaries"] == [made]


async def test_cards_are_private_unless_the_room_says_otherwise(server: Running) -> None:
    async with server.http() as http:
        room, fran, [ann, bob] = await roster_room(server, http, "Ann", "Bob")
        card = await ann.ok("PUT", "/checkins/out", {"pain": 6, "enjoyment": 4, "activity": 5})
        assert card == {"session": 1, "kind": "out", "pain": 6, "enjoyment": 4, "activity": 5, "score": 5.0}
        assert (await ann.ok("GET", "/checkins/mine"))["cards"] == [card]
        assert (await bob.ok("GET", "/checkins/mine"))["cards"] == []
        await bob.refused("GET", "/checkins", None, 403, "forbidden")
        await fran.refused("GET", "/checkins", None, 403, "forbidden")
        await Api(http, room.id, room.member).refused(
            "GET", "/checkins/mine", None, 403, "personal_link_required"
        )
        patched = await http.patch(
            f"/api/rooms/{room.id}",
            json={"facilitators_see_checkins": True},
            headers={"Authorization": f"Bearer {room.facilitator}"},
        )
        assert patched.status_code == 200
        await bob.refused("GET", "/checkins", None, 403, "forbidden")
        # Between sessions a card is for the next session (1); facilitators see the last one's.
        assert (await fran.ok("GET", "/checkins"))["cards"] == []
        await server.joined(room.facilitator, "Fran")
        seen = await fran.ok("GET", "/checkins")
        assert seen == {"session": 1, "cards": [{"name": "Ann", **card}]}


async def test_bad_cards_are_refused(server: Running) -> None:
    async with server.http() as http:
        room, _, [ann] = await roster_room(server, http, "Ann")
        await ann.refused(
            "PUT", "/checkins/in", {"pain": 11, "enjoyment": 1, "activity": 1}, 400, "bad_message"
        )
        await ann.refused("PUT", "/checkins/in", {"pain": 1, "enjoyment": 1}, 400, "bad_message")
        await ann.refused(
            "PUT", "/checkins/in", {"pain": 1, "enjoyment": 1, "activity": 1, "x": 1}, 400, "bad_message"
        )
        await ann.refused(
            "PUT", "/checkins/during", {"pain": 1, "enjoyment": 1, "activity": 1}, 404, "not_found"
        )
    assert await server.node.journey.list(room.id, "checkin") == []


async def test_my_data_exports_and_deletes_everything_about_me(server: Running) -> None:
    async with server.http() as http:
        room, fran, [ann, bob] = await roster_room(server, http, "Ann", "Bob")
        plan = await ann.ok("POST", "/plans", {"what": "walk", "confidence": 8, "shared": True}, status=201)
        post = await ann.ok("POST", "/board", {"text": "Pacing"}, status=201)
        await ann.ok("PUT", "/checkins/in", {"pain": 3, "enjoyment": 3, "activity": 3})
        await ann.ok("PUT", f"/board/{post['id']}/saved")
        await bob.ok("PUT", f"/plans/{plan['id']}/cheer")
        await bob.ok("PUT", f"/board/{post['id']}/helped")
        mine = await ann.ok("GET", "/me")
        assert set(mine) == {"member", "plans", "checkins", "posts", "helped", "saved", "cheers"}
        assert [p["id"] for p in mine["plans"]] == [plan["id"]] and mine["saved"] == [post["id"]]
        assert len(mine["checkins"]) == 1 and mine["member"]["name"] == "Ann"
        download = await ann.call("GET", "/me", params={"download": "1"})
        assert download.headers["content-disposition"].startswith("attachment")

        await ann.ok("DELETE", "/me/data")
        for kind in ("plan", "post", "checkin", "saved", "cheer", "helped"):
            assert await server.node.journey.list(room.id, kind) == [], kind
        assert [m["name"] for m in (await fran.ok("GET", "/members"))["members"]] == ["Ann", "Bob"]
        assert (await ann.ok("GET", "/me"))["plans"] == []

        # A facilitator deletes Bob's data; Ann leaves the group altogether.
        await bob.ok("POST", "/plans", {"what": "rest", "confidence": 9}, status=201)
        bob_id = (await bob.ok("GET"))["you"]["member"]["id"]
        await ann.refused("DELETE", f"/members/{bob_id}/data", None, 403, "forbidden")
        await fran.ok("DELETE", f"/members/{bob_id}/data")
        assert await server.node.journey.list(room.id, "plan") == []
        await ann.ok("DELETE", "/me")
        assert [m["name"] for m in (await fran.ok("GET", "/members"))["members"]] == ["Bob"]


async def test_where_facilitators_see_cards_a_card_saved_or_taken_back_refreshes_their_list(
    server: Running,
) -> None:
    async with server.http() as http:
        room, _, [ann] = await roster_room(server, http, "Ann", facilitators_see_checkins=True)
        fran = await server.joined(room.facilitator, "Fran")
        await fran.drain()
        await ann.ok("PUT", "/checkins/in", {"pain": 5, "enjoyment": 4, "activity": 3})
        event = await fran.recv_until("journey_changed")
        assert event == {"type": "journey_changed", "what": "checkins", "seq": event["seq"]}
        await ann.ok("DELETE", "/checkins/in")
        assert (await fran.recv_until("journey_changed"))["what"] == "checkins"
        # Taking back a card that is not there changes nothing, and says nothing.
        assert await ann.ok("DELETE", "/checkins/in") == {"deleted": False}
        assert [m for m in await fran.drain() if m["type"] == "journey_changed"] == []

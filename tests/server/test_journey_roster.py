"""Personal links and the roster (docs/journey.md, "Personal links and the roster"): the
facilitator adds a member by pseudonym and gets a link whose token carries a stable ``sub``;
a new link replaces the old one; removal refuses the link for good (``banned``); rotating the
shared member link leaves personal links working."""

from __future__ import annotations

from rooms.backends.journey_base import Record
from rooms.journey.model import Member, encode
from tests.server.conftest import Running, token_of
from tests.server.journey_helpers import Api, add_member, bearer, roster_room


async def test_a_personal_link_joins_as_the_same_person_every_time(server: Running) -> None:
    async with server.http() as http:
        room, fran, _ = await roster_room(server, http)
        sub, token = await add_member(fran, "Robin")
        roster = await fran.ok("GET", "/members")
    assert [m["name"] for m in roster["members"]] == ["Robin"] and roster["members"][0]["id"] == sub
    await server.joined(room.facilitator, "Fran")  # the session starts
    first = await server.joined(token, "Robin")
    assert first.welcome is not None
    await first.ok({"type": "leave"})
    again = await server.joined(token, "Robin")
    assert again.id == first.id
    async with server.http() as http:
        me = await Api(http, room.id, token).ok("GET")
    assert me["you"]["member"] == {"id": sub, "name": "Robin"}
    assert "keep_journey" in me["you"]["capabilities"]


async def test_rotating_the_shared_member_link_leaves_personal_links_working(server: Running) -> None:
    async with server.http() as http:
        room, _, [robin] = await roster_room(server, http, "Robin")
        rotated = await http.post(f"/api/rooms/{room.id}/invite", headers=bearer(room.facilitator))
        assert rotated.status_code == 200
        assert (await http.get("/api/links/check", headers=bearer(robin.token))).status_code == 200
        await robin.ok("GET", "/plans")
        # The old shared link is refused, the new one works.
        await Api(http, room.id, room.member).refused("GET", "/board", None, 401, "unauthorized")
        new_shared = token_of(rotated.json()["member_link"])
        await Api(http, room.id, new_shared).ok("GET", "/board")
    await server.joined(room.facilitator, "Fran")
    assert (await server.joined(robin.token, "Robin")).welcome is not None


async def test_a_new_personal_link_replaces_the_old_one(server: Running) -> None:
    async with server.http() as http:
        room, fran, _ = await roster_room(server, http)
        sub, old = await add_member(fran, "Robin")
        body = await fran.ok("POST", f"/members/{sub}/link")
        new = token_of(body["link"])
        await Api(http, room.id, old).refused("GET", "/me", None, 401, "unauthorized")
        assert (await Api(http, room.id, new).ok("GET", "/me"))["member"]["id"] == sub
    await server.joined(room.facilitator, "Fran")
    refused = await server.connect()
    reply = await refused.join(old, "Robin")
    assert reply["code"] == "unauthorized" and "personal link was replaced" in reply["message"]
    assert await refused.expect_close() == 4001
    assert (await server.joined(new, "Robin")).welcome is not None


async def test_a_removed_member_is_refused_for_good(server: Running) -> None:
    async with server.http() as http:
        room, fran, _ = await roster_room(server, http)
        sub, token = await add_member(fran, "Robin")
        robin = Api(http, room.id, token)
        await robin.ok("POST", "/plans", {"what": "walk", "confidence": 8}, status=201)
        await fran.ok("DELETE", f"/members/{sub}")
        await robin.refused("GET", "/plans", None, 403, "banned")
        assert (await fran.ok("GET", "/members"))["members"] == []
        await fran.refused("POST", f"/members/{sub}/link", None, 404, "not_found")
    assert await server.node.journey.list(room.id, "plan") == []
    refused = await server.connect()
    assert (await refused.join(token, "Robin"))["code"] == "banned"
    assert await refused.expect_close() == 4003


async def test_only_those_who_manage_members_see_and_change_the_roster(server: Running) -> None:
    async with server.http() as http:
        room, fran, [robin] = await roster_room(server, http, "Robin")
        shared = Api(http, room.id, room.member)
        for api in (robin, shared):
            await api.refused("GET", "/members", None, 403, "forbidden")
            await api.refused("POST", "/members", {"name": "Sam"}, 403, "forbidden")
        await fran.refused("POST", "/members", {"name": "Facilitator"}, 400, "bad_message")
        await fran.refused("POST", "/members", {"name": "  "}, 400, "bad_message")
        await fran.refused("POST", "/members", {"name": "robin"}, 400, "bad_message")  # taken
        await fran.refused("POST", "/members", {"name": "Sam", "role": "facilitator"}, 400, "bad_message")
        assert len((await fran.ok("GET", "/members"))["members"]) == 1


async def test_the_roster_holds_at_most_200(server: Running) -> None:
    async with server.http() as http:
        room, fran, _ = await roster_room(server, http)
        for n in range(200):
            await server.node.journey.put(room.id, _member_record(f"m{n}"))
        await fran.refused("POST", "/members", {"name": "One too many"}, 409, "limit_reached")


def _member_record(sub: str) -> Record:
    return Record(kind="member", id=sub, owner=sub, created=0.0, data=encode(Member(sub=sub, name=sub)))

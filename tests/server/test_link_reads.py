"""Reading links without changing them: ``GET /api/rooms/{id}/member-link`` (a facilitator sees
the member link already shared, no rotation) and ``GET /api/links/check`` (the room page learns
at once whether its link could join now) (docs/protocol.md §1.1)."""

from __future__ import annotations

from server.tokens import mint_invite, verify_invite
from tests.server.conftest import SECRET, Running, token_of


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_facilitator_reads_the_current_member_link_without_rotating(server: Running) -> None:
    room = await server.create_room(lobby=True)
    async with server.http() as http:
        response = await http.get(f"/api/rooms/{room.id}/member-link", headers=bearer(room.facilitator))
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        link = response.json()["member_link"]
        assert f"/r/{room.id}#k=" in link
        assert verify_invite(SECRET, token_of(link)).version == 1
        # Reading twice rotates nothing: the link shared earlier still joins.
        await http.get(f"/api/rooms/{room.id}/member-link", headers=bearer(room.facilitator))
        refusals = [
            await http.get(f"/api/rooms/{room.id}/member-link"),
            await http.get(f"/api/rooms/{room.id}/member-link", headers=bearer(room.member)),
            await http.get("/api/rooms/nosuchroom/member-link", headers=bearer(room.facilitator)),
        ]
        assert [r.status_code for r in refusals] == [401, 403, 403]
        rotated = await http.post(f"/api/rooms/{room.id}/invite", headers=bearer(room.facilitator))
        assert rotated.status_code == 200
        after = await http.get(f"/api/rooms/{room.id}/member-link", headers=bearer(room.facilitator))
    assert verify_invite(SECRET, token_of(after.json()["member_link"])).version == 2
    ann = await server.connect()
    assert (await ann.join(token_of(after.json()["member_link"]), "Ann"))["type"] == "lobby"


async def test_a_missing_room_is_not_found_for_its_facilitator(server: Running) -> None:
    token = mint_invite(SECRET, room="nosuchroom", role="facilitator", version=1, ttl_seconds=60)
    async with server.http() as http:
        response = await http.get("/api/rooms/nosuchroom/member-link", headers=bearer(token))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_checking_a_link_says_whether_it_joins_now_and_joins_nothing(server: Running) -> None:
    room = await server.create_room(lobby=True)
    async with server.http() as http:
        good = await http.get("/api/links/check", headers=bearer(room.member))
        assert good.status_code == 200, good.text
        assert good.json() == {"room": room.id, "role": "member"}
        assert (await http.get("/api/links/check", headers=bearer(room.facilitator))).json()[
            "role"
        ] == "facilitator"
        bad = await http.get("/api/links/check", headers=bearer("not-a-token"))
        none = await http.get("/api/links/check")
        assert [bad.status_code, none.status_code] == [401, 401]
        assert bad.json()["error"] == {
            "code": "unauthorized",
            "message": "this link is invalid or has expired",
        }
        await http.post(f"/api/rooms/{room.id}/invite", headers=bearer(room.facilitator))
        replaced = await http.get("/api/links/check", headers=bearer(room.member))
        gone = await http.get(
            "/api/links/check",
            headers=bearer(mint_invite(SECRET, room="nosuchroom", role="member", version=1, ttl_seconds=60)),
        )
    assert replaced.status_code == 401
    assert "replaced by a newer one" in replaced.json()["error"]["message"]
    assert gone.status_code == 404

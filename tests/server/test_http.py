"""The HTTP side: the rooms API, pages, security headers, health and metrics."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rooms.model import Role
from server.tokens import verify_invite
from tests.server.conftest import SECRET, Running, StartServer, token_of


async def post_room(server: Running, body: Any, headers: dict[str, str] | None = None) -> Any:
    async with server.http() as http:
        if isinstance(body, str):  # declared JSON, whatever it holds
            json_headers = {"content-type": "application/json", **(headers or {})}
            return await http.post("/api/rooms", content=body, headers=json_headers)
        return await http.post("/api/rooms", json=body, headers=headers or {})


async def test_create_room_answers_201_with_the_room_and_two_links(server: Running) -> None:
    body = {
        "title": "  Thursday circle  ",
        "topic": "Grief",
        "agreement": "Be kind.",
        "lobby": False,
        "floor_mode": "circle",
        "turn_seconds": 90,
        "max_participants": 8,
        "crisis_text": "Call 112",
        "media": "sfu",
    }
    response = await post_room(server, body)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    room = answer["room"]
    assert room == {
        "id": room["id"],
        "title": "Thursday circle",
        "topic": "Grief",
        "agreement": "Be kind.",
        "crisis_text": "Call 112",
        "settings": {
            "lobby": False,
            "floor_mode": "circle",
            "turn_seconds": 90,
            "max_participants": 8,
            "media": "sfu",
            "facilitators_see_checkins": False,
        },
        "run_sheet": [],
        "schedule": None,
    }
    for key, role in (("facilitator_link", Role.FACILITATOR), ("member_link", Role.MEMBER)):
        link = answer[key]
        assert link.startswith(f"{server.settings.public_url}/r/{room['id']}#k=")
        claims = verify_invite(SECRET, token_of(link))
        assert claims.room == room["id"] and claims.role is role and claims.sub is None


async def test_create_room_defaults(server: Running) -> None:
    response = await post_room(server, {"title": "Just a title"})
    assert response.status_code == 201
    room = response.json()["room"]
    defaults = {
        "lobby": True,
        "floor_mode": "open",
        "turn_seconds": None,
        "max_participants": 12,
        "media": "auto",
        "facilitators_see_checkins": False,
    }
    assert room["settings"] == defaults
    assert room["run_sheet"] == [] and room["schedule"] is None
    assert room["agreement"]  # a default group agreement


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"topic": "no title"},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 81},
        {"title": 12},
        {"title": "ok", "floor_mode": "shouting"},
        {"title": "ok", "unknown": True},
        {"title": "ok", "lobby": "yes"},
        {"title": "ok", "turn_seconds": 1},
        {"title": "ok", "max_participants": 1000},
        "not json",
        "[1, 2]",
    ],
)
async def test_create_room_rejects_bad_bodies_with_400(server: Running, body: Any) -> None:
    response = await post_room(server, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_message"


async def test_an_organizer_key_is_needed_when_configured(start_server: StartServer) -> None:
    server = await start_server(organizer_key="organizer-key-for-tests")
    assert (await post_room(server, {"title": "No key"})).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key"}
    assert (await post_room(server, {"title": "Wrong key"}, wrong)).status_code == 401
    basic = {"Authorization": "Basic organizer-key-for-tests"}
    assert (await post_room(server, {"title": "Wrong scheme"}, basic)).status_code == 401
    right = {"Authorization": "Bearer organizer-key-for-tests"}
    assert (await post_room(server, {"title": "With key"}, right)).status_code == 201
    async with server.http() as http:
        home = await http.get("/")
    assert home.status_code == 200


async def test_patch_updates_a_room_and_a_live_session_hears_of_it(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    async with server.http() as http:
        response = await http.patch(
            f"/api/rooms/{room.id}",
            json={"title": "Renamed", "topic": "New topic", "max_participants": 20},
            headers={"Authorization": f"Bearer {room.facilitator}"},
        )
    assert response.status_code == 200
    assert response.json()["room"]["title"] == "Renamed"
    for client in (fac, ann):
        updated = await client.recv_until("room_updated")
        assert updated["room"]["title"] == "Renamed" and updated["room"]["topic"] == "New topic"
        assert updated["room"]["settings"]["max_participants"] == 20 and isinstance(updated["seq"], int)
    assert (await ann.snapshot())["room"]["title"] == "Renamed"
    # And it sticks for the next session.
    async with server.http() as http:
        page = await http.get(f"/r/{room.id}")
    assert "Renamed" in page.text


async def test_patch_needs_this_rooms_facilitator_token(server: Running) -> None:
    room = await server.create_room()
    other = await server.create_room()
    async with server.http() as http:
        url = f"/api/rooms/{room.id}"
        assert (await http.patch(url, json={"title": "x"})).status_code == 401
        bad = {"Authorization": "Bearer nonsense"}
        assert (await http.patch(url, json={"title": "x"}, headers=bad)).status_code == 401
        member = {"Authorization": f"Bearer {room.member}"}
        assert (await http.patch(url, json={"title": "x"}, headers=member)).status_code == 403
        other_facilitator = {"Authorization": f"Bearer {other.facilitator}"}
        assert (await http.patch(url, json={"title": "x"}, headers=other_facilitator)).status_code == 403
        mine = {"Authorization": f"Bearer {room.facilitator}"}
        assert (await http.patch(url, json={"title": ""}, headers=mine)).status_code == 400
        assert (await http.patch(url, json={"nope": 1}, headers=mine)).status_code == 400
        page = await http.get(f"/r/{room.id}")
    assert "Tuesday group" in page.text  # nothing changed


async def test_invite_rotation_replaces_the_member_link(server: Running) -> None:
    room = await server.create_room(lobby=False)
    async with server.http() as http:
        url = f"/api/rooms/{room.id}/invite"
        assert (await http.post(url)).status_code == 401
        member = {"Authorization": f"Bearer {room.member}"}
        assert (await http.post(url, headers=member)).status_code == 403
        response = await http.post(url, headers={"Authorization": f"Bearer {room.facilitator}"})
    assert response.status_code == 200
    new_member = token_of(response.json()["member_link"])
    assert new_member != room.member and verify_invite(SECRET, new_member).version == 2
    await server.joined(room.facilitator, "Fran")
    await server.joined(new_member, "Ann")
    old = await server.connect()
    assert (await old.join(room.member, "Old link"))["code"] == "unauthorized"
    assert await old.expect_close() == 4001


async def test_pages(server: Running) -> None:
    room = await server.create_room(title="Page test")
    async with server.http() as http:
        home = await http.get("/")
        page = await http.get(f"/r/{room.id}")
        missing = await http.get("/r/no-such-room")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    assert page.status_code == 200 and "Page test" in page.text
    assert missing.status_code == 404


async def test_security_headers_on_every_response(server: Running) -> None:
    room = await server.create_room()
    async with server.http() as http:
        responses = [
            await http.get("/"),
            await http.get(f"/r/{room.id}"),
            await http.get("/r/no-such-room"),
            await http.post("/api/rooms", json={}),
            await http.get("/healthz"),
        ]
    for response in responses:
        csp = response.headers["content-security-policy"]
        assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_health_and_readiness(server: Running) -> None:
    async with server.http() as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 200


async def test_metrics_count_connections_messages_errors_and_fanout(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "chat", "text": "counted, not logged"})
    await ann.refused({"type": "dance"}, "unknown_type")
    async with server.http() as http:
        response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    connections = re.search(r"^hearth_connections (\d+(?:\.\d+)?)$", text, re.MULTILINE)
    assert connections is not None and float(connections.group(1)) >= 2
    assert re.search(r'^hearth_messages_in_total\{type="join"\} \d', text, re.MULTILINE)
    assert re.search(r'^hearth_messages_in_total\{type="chat"\} \d', text, re.MULTILINE)
    assert re.search(r'^hearth_errors_total\{code="unknown_type"\} \d', text, re.MULTILINE)
    assert re.search(r"^hearth_fanout_seconds_count \d", text, re.MULTILINE)
    assert "counted, not logged" not in text and ann.id not in text

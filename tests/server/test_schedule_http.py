"""A group's schedule over HTTP: saved through the room API (an unknown time zone refused), the
.ics file for any current link of the room, and the next session on the room page."""

from __future__ import annotations

import re
from typing import Any

from tests.server.conftest import Running, token_of

WEEKLY = {"timezone": "Europe/London", "weekday": 1, "time": "18:00", "minutes": 75}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def patch(server: Running, room_id: str, token: str, body: dict[str, Any]) -> Any:
    async with server.http() as http:
        return await http.patch(f"/api/rooms/{room_id}", json=body, headers=auth(token))


async def test_an_unknown_time_zone_is_refused_and_changes_nothing(server: Running) -> None:
    room = await server.create_room()
    response = await patch(
        server, room.id, room.facilitator, {"schedule": {**WEEKLY, "timezone": "Europe/Londn"}}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_message" and "unknown time zone" in error["message"]
    half = await patch(server, room.id, room.facilitator, {"schedule": {"timezone": "UTC", "weekday": 2}})
    assert half.status_code == 400 and "weekday and a time" in half.json()["error"]["message"]
    assert (await server.node.service.current_config(room.id)).schedule is None
    async with server.http() as http:
        created = await http.post(
            "/api/rooms", json={"title": "T", "schedule": {**WEEKLY, "timezone": "Nowhere"}}
        )
    assert created.status_code == 400
    saved = await patch(server, room.id, room.facilitator, {"schedule": WEEKLY})
    assert saved.status_code == 200
    assert saved.json()["room"]["schedule"] == {**WEEKLY, "dates": []}


async def test_the_calendar_file_for_any_current_link_of_the_room(server: Running) -> None:
    room = await server.create_room(title="Tuesday, pain; group", schedule=WEEKLY)
    other = await server.create_room(title="Other", schedule=WEEKLY)
    url = f"/api/rooms/{room.id}/schedule.ics"
    async with server.http() as http:
        answers = [await http.get(url, headers=auth(token)) for token in (room.member, room.facilitator)]
        assert (await http.get(url)).status_code == 401
        assert (await http.get(url, headers=auth("not-a-token"))).status_code == 401
        assert (await http.get(url, headers=auth(other.member))).status_code == 403
        rotated = await http.post(f"/api/rooms/{room.id}/invite", headers=auth(room.facilitator))
        assert (await http.get(url, headers=auth(room.member))).status_code == 401  # replaced
        new_member = token_of(rotated.json()["member_link"])
        assert (await http.get(url, headers=auth(new_member))).status_code == 200
        plain = await server.create_room(title="No schedule")
        missing = await http.get(f"/api/rooms/{plain.id}/schedule.ics", headers=auth(plain.member))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/calendar")
        assert answer.headers["cache-control"] == "no-store"
        text = answer.text
        assert text.count("BEGIN:VEVENT") == 12
        assert "SUMMARY:Tuesday\\, pain\\; group (Hearth)" in text
        assert f"URL:{server.settings.public_url}/r/{room.id}\r\n" in text
        assert room.member not in text and room.facilitator not in text and "#k=" not in text
        starts = re.findall(r"DTSTART:(\d{8}T\d{6}Z)", text)
        assert len(starts) == 12 and all(start[9:] in ("170000Z", "180000Z") for start in starts)


async def test_the_room_page_says_when_the_group_meets_next(server: Running) -> None:
    room = await server.create_room(title="Weekly", schedule=WEEKLY)
    plain = await server.create_room(title="Drop-in")
    async with server.http() as http:
        page = (await http.get(f"/r/{room.id}")).text
        without = (await http.get(f"/r/{plain.id}")).text
    shown = re.findall(r"Next session: (Tue \d{1,2} [A-Z][a-z]{2}, 18:00 \(Europe/London\))", page)
    assert len(shown) == 2  # the join screen and the lobby
    assert 'id="add-to-calendar"' in page
    assert "Next session" not in without and "add-to-calendar" not in without

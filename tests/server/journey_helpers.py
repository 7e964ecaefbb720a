"""Helpers of the journey API tests: a room, its roster, and bearer requests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.server.conftest import Room, Running, token_of


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """Requests to one room's journey with one link's token."""

    def __init__(self, http: httpx.AsyncClient, room: str, token: str) -> None:
        self.http, self.room, self.token = http, room, token

    def url(self, path: str) -> str:
        return f"/api/rooms/{self.room}/journey{path}"

    async def call(self, method: str, path: str = "", json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.http.request(
            method, self.url(path), json=json, headers=bearer(self.token), **kwargs
        )

    async def ok(self, method: str, path: str = "", json: Any = None, status: int = 200) -> Any:
        response = await self.call(method, path, json)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()

    async def refused(self, method: str, path: str, json: Any, status: int, code: str) -> None:
        response = await self.call(method, path, json)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        assert response.json()["error"]["code"] == code, response.text


async def add_member(facilitator: Api, name: str) -> tuple[str, str]:
    """Add ``name`` to the roster: (their sub, the token of their personal link)."""
    body = await facilitator.ok("POST", "/members", {"name": name}, status=201)
    return body["member"]["id"], token_of(body["link"])


async def roster_room(
    server: Running, http: httpx.AsyncClient, *names: str, **fields: Any
) -> tuple[Room, Api, list[Api]]:
    """A room (no lobby), the facilitator's API, and one member with a personal link per name."""
    fields.setdefault("lobby", False)
    room = await server.create_room(**fields)
    facilitator = Api(http, room.id, room.facilitator)
    members = []
    for name in names:
        _, token = await add_member(facilitator, name)
        members.append(Api(http, room.id, token))
    return room, facilitator, members

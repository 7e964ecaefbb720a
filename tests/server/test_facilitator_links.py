"""Facilitator links can be revoked: ``POST /api/rooms/{id}/facilitator-link`` and
``hearth rooms rotate ID --facilitator`` raise the room's facilitator version; older facilitator
links then open nothing (no join, no room API, no connection check), while the facilitator who
is in the session keeps their seat and member links are untouched (docs/protocol.md §1.1, §7)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import httpx

from server.tokens import verify_invite
from tests.server.conftest import SECRET, Room, Running, StartServer, token_of


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def rotate_facilitator(http: httpx.AsyncClient, room_id: str, token: str) -> httpx.Response:
    return await http.post(f"/api/rooms/{room_id}/facilitator-link", headers=bearer(token))


async def refused_by_every_route(server: Running, room: Room, token: str) -> None:
    """The token opens none of the routes a facilitator link opens, and joins nothing."""
    async with server.http() as http:
        responses = [
            await http.patch(f"/api/rooms/{room.id}", json={"topic": "taken over"}, headers=bearer(token)),
            await http.post(f"/api/rooms/{room.id}/invite", headers=bearer(token)),
            await rotate_facilitator(http, room.id, token),
            await http.post("/api/check/config", json={"token": token}),
        ]
    assert [r.status_code for r in responses] == [401, 401, 401, 401], [r.text for r in responses]
    assert responses[0].json()["error"]["code"] == "unauthorized"
    old = await server.connect()
    assert (await old.join(token, "Old link"))["code"] == "unauthorized"
    assert await old.expect_close() == 4001


async def test_rotating_the_facilitator_link_revokes_the_old_one_only(server: Running) -> None:
    room = await server.create_room(lobby=True)
    fran = await server.joined(room.facilitator, "Fran")
    async with server.http() as http:
        assert (await http.post(f"/api/rooms/{room.id}/facilitator-link")).status_code == 401
        assert (await rotate_facilitator(http, room.id, room.member)).status_code == 403
        response = await rotate_facilitator(http, room.id, room.facilitator)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"room", "facilitator_link"} and "facilitator_version" not in body["room"]
    new = token_of(body["facilitator_link"])
    assert verify_invite(SECRET, new).facilitator_version == 2

    await refused_by_every_route(server, room, room.facilitator)

    # The facilitator who rotated is still in the session and still runs it.
    member = await server.connect()
    assert (await member.join(room.member, "Ann"))["type"] == "lobby"  # member link untouched
    waiting = await fran.recv_until("lobby_changed", lambda m: m["waiting"] != [])
    await fran.ok({"type": "admit", "target": waiting["waiting"][0]["id"]})
    await member.wait_welcome()
    # The new link works everywhere the old one did.
    co = await server.joined(new, "Cole")
    assert co.welcome is not None and co.welcome["you"]["role"] == "facilitator"
    async with server.http() as http:
        patched = await http.patch(f"/api/rooms/{room.id}", json={"topic": "Grief"}, headers=bearer(new))
        invite = await http.post(f"/api/rooms/{room.id}/invite", headers=bearer(new))
    assert patched.status_code == 200 and invite.status_code == 200
    # Rotating the member link leaves the new facilitator link working.
    assert (await server.joined(new, "Fran again")).welcome is not None


async def test_hearth_rooms_rotate_revokes_links_on_a_running_server(start_server: StartServer) -> None:
    """The command writes the store; the server checks links against the store, so the old
    facilitator link stops working at once, without a restart."""
    server = await start_server()
    room = await server.create_room(lobby=False)
    settings = server.settings
    env = {
        "HEARTH_DATA_DIR": str(settings.data_dir),
        "HEARTH_SECRET": settings.secret,
        "HEARTH_PUBLIC_URL": "https://hearth.example.org",
    }
    argv = ["rooms", "rotate", room.id, "--facilitator"]
    status, output = await run_cli(argv, env)
    assert status == 0
    lines = output.splitlines()
    assert lines[0].startswith(f"Room {room.id}:") and len(lines) == 3
    assert lines[2] == "Links use https://hearth.example.org (from --public-url/HEARTH_PUBLIC_URL)."
    assert lines[1].startswith(f"Facilitator link: https://hearth.example.org/r/{room.id}#k=")
    new = lines[1].split("#k=", 1)[1]
    await refused_by_every_route(server, room, room.facilitator)
    await server.joined(new, "Fran")
    await server.joined(room.member, "Ann")  # the member link still works

    status, output = await run_cli(["rooms", "rotate", room.id, "--member"], env)
    assert status == 0 and "Facilitator link" not in output
    member = token_of(output.splitlines()[1].split(maxsplit=2)[2])
    assert verify_invite(settings.secret, member).version == 2
    await server.joined(new, "Fran, still")
    status, _ = await run_cli(["rooms", "rotate", room.id], env)
    assert status == 2
    status, _ = await run_cli(["rooms", "rotate", "no-such-room", "--member"], env)
    assert status == 1


async def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``hearth ARGV`` as a real process with ``env`` (and no other HEARTH_ variable)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli",
        *argv,
        env={**clean, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, stdout.decode()

"""A VideoRoom left empty (its session ended while no node held a socket of it) is destroyed by
the sweep; a session's room with people in it is not."""

from __future__ import annotations

import pytest

from server.sfu import coordinator
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.polling import eventually
from tests.server.conftest import StartServer
from tests.sfu.conftest import janus_room, link, placement, sfu_room, tiny


async def test_an_empty_leftover_videoroom_is_swept_and_a_live_one_kept(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coordinator, "SWEEP_SECONDS", 1.0)
    secret = janus.secret
    leftover = "hearth-leftover-of-an-ended-session"
    await janus_room(janus.url, secret, {"request": "create", "room": leftover, "admin_key": secret})
    mine = "someone-elses-room"  # not Hearth's: never touched
    await janus_room(janus.url, secret, {"request": "create", "room": mine, "admin_key": secret})
    server = await start_server(janus_urls=(janus.url,), janus_secret=secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    await fran.join()
    live = await placement(server, room)
    await eventually(
        lambda: fran.sfu.pub is not None and fran.sfu.pub.signalingState == "stable", "Fran published"
    )

    async def exists(name: str) -> bool:
        answer = await janus_room(janus.url, secret, {"request": "exists", "room": name})
        return bool(answer.get("exists"))

    async def swept() -> bool:
        return not await exists(leftover)

    await eventually(swept, "the leftover room swept")
    assert await exists(live.room) and await exists(mine)
    assert await placement(server, room) == live

"""SFU mode on two Hearth nodes sharing one Redis: each node drives the Janus side of the people
whose sockets it holds, and both agree on one placement (the compare-and-set of ``PlaceSfu``)."""

from __future__ import annotations

import asyncio

from tests.conftest import RedisServer
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.server.conftest import StartServer
from tests.sfu.conftest import audio, frames, janus_room, link, media_flows, placement, tiny


async def test_people_on_two_nodes_share_one_placement_and_receive_each_other(
    start_server: StartServer, janus: JanusProcess, redis_server: RedisServer, peers: MakePeer
) -> None:
    options = {"store": redis_server.url, "janus_urls": (janus.url,), "janus_secret": janus.secret}
    one = await start_server(**options)
    two = await start_server(**options)
    room = await one.create_room(media="sfu", lobby=False)
    fran = peers(link(one, room, facilitator=True), "Fran", media=tiny())
    await fran.join()
    # Two people join at once, one on each node: both nodes reconcile the room together.
    ana = peers(link(one, room), "Ana", media=tiny(frequency=523))
    bo = peers(link(two, room), "Bo", media=tiny(frequency=659))
    await asyncio.gather(ana.join(), bo.join())
    everyone = [fran, ana, bo]

    await media_flows(everyone, everyone, frames, "video from everyone at everyone, across nodes")
    await media_flows(everyone, everyone, audio, "audio from everyone at everyone, across nodes")
    where = await placement(one, room)
    assert where == await placement(two, room)
    rooms = (await janus_room(janus.url, janus.secret, {"request": "list", "admin_key": janus.secret}))[
        "list"
    ]
    assert [r["room"] for r in rooms] == [where.room]  # any loser of a race destroyed its room
    assert one.node.sfu is not None and two.node.sfu is not None
    assert set(one.node.sfu.rooms[room.id].peers) == {fran.id, ana.id}
    assert set(two.node.sfu.rooms[room.id].peers) == {bo.id}

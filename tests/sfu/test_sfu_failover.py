"""Failover: the instance a session is placed on dies (SIGKILL); the session is placed again on
a live instance, every client renegotiates by itself, and nobody's seat, role or place changes."""

from __future__ import annotations

from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.server.conftest import StartServer
from tests.sfu.conftest import audio, frames, link, media_flows, placement, restart_janus, sfu_room, tiny


async def test_media_flows_again_on_the_other_instance_after_the_placed_one_is_killed(
    start_server: StartServer, janus_pair: tuple[JanusProcess, JanusProcess], peers: MakePeer
) -> None:
    first, second = janus_pair
    assert first.secret == second.secret
    server = await start_server(janus_urls=(first.url, second.url), janus_secret=first.secret)
    room = await sfu_room(server, floor_mode="circle")
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", media=tiny(frequency=523))
    bo = peers(link(server, room), "Bo", media=tiny(frequency=659))
    everyone = [fran, ana, bo]
    for person in everyone:
        await person.join()
    await fran.request({"type": "set_floor", "mode": "circle", "order": [bo.id, ana.id]})
    await fran.request({"type": "next_floor"})
    await bo.set_microphone(True)
    await media_flows(everyone, everyone, frames, "video from everyone at everyone")
    await media_flows([fran, ana], [bo], audio, "the holder heard")
    before = await placement(server, room)
    state = await server.node.service.state(room.id, with_chat=False)
    assert state is not None
    seats = {pid: (seat.person.role, seat.admitted) for pid, seat in state.seats.items()}
    floor = state.floor

    placed, other = (first, second) if before.instance == first.url else (second, first)
    placed.kill()

    await media_flows(everyone, everyone, frames, "video again after the failover")
    await media_flows([fran, ana], [bo], audio, "the holder heard again after the failover")
    after = await placement(server, room)
    assert after.instance == other.url and after.epoch == before.epoch + 1 and after.room != before.room
    state = await server.node.service.state(room.id, with_chat=False)
    assert state is not None
    assert {pid: (seat.person.role, seat.admitted) for pid, seat in state.seats.items()} == seats
    assert (state.floor.holder, state.floor.order) == (floor.holder, floor.order)
    assert all(person.sfu.restarts >= 1 for person in everyone)


async def test_media_flows_again_once_the_only_instance_is_back_after_a_kill(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", media=tiny(frequency=523))
    for person in (fran, ana):
        await person.join()
    await media_flows([fran, ana], [fran, ana], frames, "video both ways")
    before = await placement(server, room)

    janus.kill()
    back = restart_janus(janus)
    try:
        await media_flows([fran, ana], [fran, ana], frames, "video both ways once Janus is back")
        await media_flows([fran, ana], [fran, ana], audio, "audio both ways once Janus is back")
        after = await placement(server, room)
        assert after.instance == janus.url and after.epoch > before.epoch
    finally:
        back.stop()

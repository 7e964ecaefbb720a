"""Placement: a session goes to the least-loaded live instance; one that does not answer is
skipped."""

from __future__ import annotations

from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.server.conftest import StartServer
from tests.sfu.conftest import frames, link, media_flows, placement, sfu_room, tiny


async def test_a_session_goes_to_the_least_loaded_instance_and_skips_a_dead_one(
    start_server: StartServer, janus_pair: tuple[JanusProcess, JanusProcess], peers: MakePeer
) -> None:
    first, second = janus_pair
    server = await start_server(janus_urls=(first.url, second.url), janus_secret=first.secret)
    busy = await sfu_room(server)
    fran = peers(link(server, busy, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, busy), "Ana", media=tiny())
    for person in (fran, ana):
        await person.join()
    await media_flows([fran, ana], [fran, ana], frames, "video in the first room")
    loaded = await placement(server, busy)  # a tie: the first configured

    quiet = await sfu_room(server)
    cy = peers(link(server, quiet, facilitator=True), "Cy", media=tiny())
    await cy.join()
    assert (await placement(server, quiet)).instance != loaded.instance  # the emptier one

    (first if loaded.instance == first.url else second).kill()
    third = await sfu_room(server)
    dee = peers(link(server, third, facilitator=True), "Dee", media=tiny())
    await dee.join()
    assert (await placement(server, third)).instance != loaded.instance  # the dead one skipped

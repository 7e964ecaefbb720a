"""``hearth probe`` and ``hearth bots`` work in SFU rooms and report the same way as in a mesh."""

from __future__ import annotations

from server.peers.bots import run_bots
from server.peers.probe import run_probe
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer, silent_host
from tests.server.conftest import StartServer
from tests.sfu.conftest import link, sfu_room


async def test_probe_reports_media_both_ways_through_janus(
    start_server: StartServer, janus: JanusProcess
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)

    report = await run_probe(link(server, room, facilitator=True), timeout=25)

    assert report.ok, "\n".join(report.lines())
    assert all(d.frames > 0 and d.audio_frames > 0 for d in report.directions), report.lines()
    assert all(d.pair is not None for d in report.directions), report.lines()


async def test_bots_in_an_sfu_room_receive_every_other_bot(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    await silent_host(peers, server, room)

    report = await run_bots(link(server, room), 3, 4.0, width=160, height=120, fps=15.0)

    text = "\n".join(report.lines())
    ids = {bot.id for bot in report.bots}
    assert all(not bot.error and not bot.missing(ids) for bot in report.bots), text
    assert all(
        peer.video_fps > 0 and peer.audio_fps > 0
        for bot in report.bots
        for pid, peer in bot.received.items()
        if pid in ids
    ), text

"""Media through Janus in SFU mode: aiortc participants publish once and receive everyone."""

from __future__ import annotations

from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.server.conftest import StartServer
from tests.sfu.conftest import audio, frames, link, media_flows, sfu_room, tiny


async def test_three_participants_receive_each_others_video_and_audio_through_janus(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    people = [
        peers(link(server, room, facilitator=True), "Fran", media=tiny()),
        peers(link(server, room), "Ana", media=tiny(frequency=523)),
        peers(link(server, room), "Bo", media=tiny(frequency=659)),
    ]
    for person in people:
        welcome = await person.join()
        assert welcome["media"]["path"] == "sfu"
    await media_flows(people, people, frames, "video from everyone at everyone")
    await media_flows(people, people, audio, "audio from everyone at everyone")
    for person in people:
        assert person.media_path == "sfu"
        assert not person.mesh.links  # nothing went directly between members
        assert person.sfu.pub is not None and person.sfu.sub is not None
    state = await server.node.service.state(room.id, with_chat=False)
    assert state is not None and state.sfu is not None and state.sfu.instance == janus.url

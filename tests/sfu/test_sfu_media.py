"""Media through Janus in SFU mode: aiortc participants publish once and receive everyone."""

from __future__ import annotations

from pathlib import Path

from server.peers import LocalMedia
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.polling import eventually
from tests.server.conftest import StartServer
from tests.sfu.conftest import MEDIA_TIMEOUT, audio, frames, link, media_flows, sfu_room, tiny


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


async def test_the_active_speaker_comes_from_janus_audio_levels(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer, media_file: Path
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny(audio=False))
    # Played from a file, so aiortc encodes the sound itself and marks its level on every
    # packet (the synthetic tone is sent pre-encoded, without levels).
    ana = peers(link(server, room), "Ana", media=LocalMedia(path=str(media_file)))
    for person in (fran, ana):
        await person.join()
    await media_flows([fran], [ana], audio, "Ana's tone at Fran")
    await eventually(lambda: fran.sfu.speaking == ana.id, "Ana shown as speaking", timeout=MEDIA_TIMEOUT)

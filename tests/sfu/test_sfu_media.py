"""Media through Janus in SFU mode: aiortc participants publish once and receive everyone."""

from __future__ import annotations

from pathlib import Path

from server.peers import LocalMedia
from server.sfu.subscription import HIGH, LOW
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.polling import eventually
from tests.server.conftest import StartServer
from tests.sfu.conftest import (
    MEDIA_TIMEOUT,
    asked_layers,
    audio,
    frames,
    link,
    media_flows,
    sfu_room,
    tiny,
)


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


async def test_the_pinned_person_and_the_floor_holder_are_received_at_the_high_layer(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    people = [
        peers(link(server, room, facilitator=True), "Fran", media=tiny()),
        peers(link(server, room), "Ana", media=tiny()),
        peers(link(server, room), "Bo", media=tiny()),
    ]
    fran, ana, bo = people
    for person in people:
        await person.join()
    await media_flows(people, people, frames, "video from everyone at everyone")

    def layers(viewer: str) -> dict[str, int]:
        return asked_layers(server, room.id, viewer)

    await eventually(lambda: layers(bo.id) == {fran.id: LOW, ana.id: LOW}, "everyone low at first")
    await bo.request({"type": "sfu_view", "pin": ana.id})
    await eventually(lambda: layers(bo.id) == {fran.id: LOW, ana.id: HIGH}, "Bo receives Ana high")
    assert layers(fran.id) == {ana.id: LOW, bo.id: LOW}  # only Bo's own view changed

    await fran.request({"type": "set_floor", "mode": "queue"})
    await fran.request({"type": "give_floor", "target": fran.id})
    await eventually(lambda: layers(ana.id) == {fran.id: HIGH, bo.id: LOW}, "the holder high for Ana")
    await eventually(lambda: layers(bo.id) == {fran.id: HIGH, ana.id: HIGH}, "holder and pin high for Bo")
    await bo.request({"type": "sfu_view", "pin": None})
    await eventually(lambda: layers(bo.id) == {fran.id: HIGH, ana.id: LOW}, "the pin released")


async def test_a_facilitator_over_the_seat_limit_is_seen_and_heard_too(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server, max_participants=2)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", media=tiny())
    # The room is full with Fran and Ana; a co-facilitator still gets in (facilitators always
    # do), so the media server must let more people publish than the room has seats.
    gil = peers(link(server, room, facilitator=True), "Gil", media=tiny())
    everyone = [fran, ana, gil]
    for person in everyone:
        await person.join()
    await media_flows(everyone, everyone, frames, "video from all three")

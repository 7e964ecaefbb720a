"""Who may be heard is enforced by the media server: Janus stops forwarding the audio of anyone
who may not speak (``moderate``), whatever their client sends."""

from __future__ import annotations

from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.server.conftest import StartServer
from tests.sfu.conftest import (
    Tampered,
    audio,
    audio_stopped,
    frames,
    link,
    media_flows,
    sfu_room,
    tiny,
    video_stopped,
)


async def test_a_facilitator_mute_stops_that_members_audio_at_every_receiver_even_from_a_tampered_client(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", kind=Tampered, media=tiny(frequency=523))
    bo = peers(link(server, room), "Bo", media=tiny(frequency=659))
    everyone = [fran, ana, bo]
    for person in everyone:
        await person.join()
    await media_flows(everyone, everyone, audio, "audio from everyone at everyone")

    await fran.request({"type": "mute", "target": ana.id})
    assert ana.media.microphone  # her client still sends her tone
    await audio_stopped([fran, bo], ana)
    await media_flows([fran, ana], [bo], audio, "Bo's audio, unmuted, still arrives")
    await media_flows([fran, bo], [ana], frames, "Ana's video still arrives")

    await fran.request({"type": "allow_speak", "target": ana.id})
    await ana.set_microphone(True)
    await media_flows([fran, bo], [ana], audio, "Ana's audio arrives again once allowed")


async def test_in_circle_mode_only_the_holders_audio_is_forwarded(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny(audio=False))
    ana = peers(link(server, room), "Ana", kind=Tampered, media=tiny(frequency=523))
    bo = peers(link(server, room), "Bo", kind=Tampered, media=tiny(frequency=659))
    for person in (fran, ana, bo):
        await person.join()
    await media_flows([fran, bo], [ana], audio, "Ana heard in the open floor")

    await fran.request({"type": "set_floor", "mode": "circle", "order": [ana.id, bo.id]})
    await fran.request({"type": "next_floor"})
    assert fran.floor.get("holder") == ana.id
    await ana.set_microphone(True)
    await audio_stopped([fran, ana], bo)
    await media_flows([fran, bo], [ana], audio, "the holder, Ana, is heard")

    await fran.request({"type": "next_floor"})
    assert fran.floor.get("holder") == bo.id
    await bo.set_microphone(True)
    await audio_stopped([fran, bo], ana)
    await media_flows([fran, ana], [bo], audio, "the new holder, Bo, is heard")


async def test_a_blocked_camera_stops_that_members_video_at_every_receiver_even_from_a_tampered_client(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", kind=Tampered, media=tiny())
    bo = peers(link(server, room), "Bo", media=tiny())
    everyone = [fran, ana, bo]
    for person in everyone:
        await person.join()
    await media_flows(everyone, everyone, frames, "video from everyone at everyone")

    await fran.request({"type": "mute", "target": ana.id, "video": True})
    assert ana.media.camera  # her client still sends her picture
    await video_stopped([fran, bo], ana, clock=bo)
    await media_flows([fran, ana], [bo], frames, "Bo's video still arrives")

    await fran.request({"type": "allow_speak", "target": ana.id})
    await ana.request({"type": "media", "audio": False, "video": True})
    await media_flows([fran, bo], [ana], frames, "Ana's video arrives again once allowed")

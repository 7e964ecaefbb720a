"""The relay-only policy holds on the leg between a participant and the media server."""

from __future__ import annotations

from tests.janus import JanusProcess
from tests.peers.conftest import TURN_SECRET, MakePeer, turn_url  # noqa: F401  (fixture)
from tests.server.conftest import StartServer
from tests.sfu.conftest import audio, frames, link, media_flows, sfu_room, tiny


async def test_with_relay_only_every_participant_reaches_janus_through_turn(
    start_server: StartServer,
    janus: JanusProcess,
    peers: MakePeer,
    turn_url: str,  # noqa: F811
) -> None:
    server = await start_server(
        janus_urls=(janus.url,), janus_secret=janus.secret,
        turn_urls=turn_url, turn_secret=TURN_SECRET, ice_policy="relay",
    )  # fmt: skip
    room = await sfu_room(server)
    people = [
        peers(link(server, room, facilitator=True), "Fran", media=tiny()),
        peers(link(server, room), "Ana", media=tiny()),
    ]
    for person in people:
        await person.join()
    await media_flows(people, people, frames, "video both ways through the relay")
    await media_flows(people, people, audio, "audio both ways through the relay")
    for person in people:
        pair = person.sfu.selected_pair()
        assert pair is not None and pair[0] == "relay", (person.name, pair)
        subscribed = person.sfu.sub
        assert subscribed is not None
        local_types = {
            str(c.type)
            for t in subscribed.getTransceivers()
            for c in getattr(t.receiver.transport, "transport", None).iceGatherer.getLocalCandidates()
        }
        assert local_types == {"relay"}, (person.name, local_types)

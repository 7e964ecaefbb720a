"""Who gets media in SFU mode, checked at the server and through Janus's own API: nobody in the
lobby, nobody removed, banned or after the end; and the ``sfu`` messages' refusals."""

from __future__ import annotations

import pytest

from server.sfu import peer as server_peer
from tests.janus import JanusProcess
from tests.peers.conftest import MakePeer
from tests.polling import eventually
from tests.server.conftest import StartServer
from tests.sfu.conftest import (
    MEDIA_TIMEOUT,
    audio,
    janus_participants,
    janus_room,
    link,
    media_flows,
    placement,
    sfu_room,
    tiny,
)

OFFER = {"type": "offer", "sdp": "v=0\r\n"}


async def test_a_lobby_member_gets_no_sfu_offer_no_janus_participant_and_may_not_send_sfu(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await server.create_room(media="sfu", lobby=True)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    await fran.join()
    place = await eventually(lambda: fran.sfu.sub is None and fran.sfu.pub is not None, "Fran publishing")
    assert place
    waiting = await server.connect()
    assert (await waiting.join(room.member, "Wren"))["type"] == "lobby"
    await waiting.refused({"type": "sfu", "pc": "pub", "description": OFFER}, "forbidden")
    await waiting.refused({"type": "sfu", "pc": "sub", "candidate": None}, "forbidden")
    await waiting.refused({"type": "sfu_view", "pin": None}, "forbidden")
    where = await placement(server, room)
    fran_only = await eventually(
        lambda: _only(janus.url, janus.secret, where.room, fran.id), "Fran publishing in the VideoRoom"
    )
    assert fran_only
    assert not [m for m in await waiting.drain() if m.get("type") == "sfu"]
    assert set(server.node.sfu.rooms[room.id].peers) == {fran.id} if server.node.sfu else False


async def _only(url: str, secret: str, room: str, pid: str) -> bool:
    people = await janus_participants(url, secret, room)
    return bool(people) and all(feed.split("~")[0] == pid for feed in people) and any(people.values())


async def test_sfu_messages_are_refused_in_a_mesh_room_and_when_too_large(
    start_server: StartServer, janus: JanusProcess
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    _, fran, [ana] = await server.live_room("Ana", media="mesh")
    await ana.refused({"type": "sfu", "pc": "pub", "description": OFFER}, "forbidden")
    await fran.refused({"type": "sfu_view", "pin": ana.id}, "forbidden")
    limit = server.settings.max_sdp_chars
    huge = {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * (limit // 5 + 1)}
    await ana.refused({"type": "sfu", "pc": "pub", "description": huge}, "too_large")
    candidate = {"candidate": "candidate:" + "1" * server.settings.max_candidate_chars}
    await ana.refused({"type": "sfu", "pc": "sub", "candidate": candidate}, "too_large")
    await ana.refused({"type": "sfu", "pc": "pub"}, "bad_message")  # neither description nor candidate

    room = await server.create_room(media="sfu", lobby=False)
    fay = await server.joined(room.facilitator, "Fay")
    bo = await server.joined(room.member, "Bo")
    await bo.refused({"type": "sfu", "pc": "pub", "description": huge}, "too_large")
    answer_for_pub = {"type": "answer", "sdp": "v=0\r\n"}
    await bo.refused({"type": "sfu", "pc": "pub", "description": answer_for_pub}, "bad_message")
    await bo.refused({"type": "sfu_view", "pin": "nobody"}, "invalid_target")
    # No direct connections in an SFU session: they would carry addresses and unmoderated sound.
    hello = {"type": "signal", "to": fay.id, "data": {"hello": True}}
    await bo.refused(hello, "forbidden")


async def test_remove_ban_and_end_leave_nothing_of_that_person_in_janus(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", media=tiny())
    bo = peers(link(server, room), "Bo", media=tiny())
    cy = peers(link(server, room), "Cy", media=tiny())
    everyone = [fran, ana, bo, cy]
    for person in everyone:
        await person.join()
    await media_flows(everyone, everyone, audio, "audio from everyone at everyone")
    where = await placement(server, room)
    owners = {feed.split("~")[0] for feed in await janus_participants(janus.url, janus.secret, where.room)}
    assert owners == {p.id for p in everyone}

    async def gone(pid: str) -> bool:
        feeds = await janus_participants(janus.url, janus.secret, where.room)
        sfu = server.node.sfu
        return (
            all(feed.split("~")[0] != pid for feed in feeds)
            and sfu is not None
            and pid not in sfu.rooms[room.id].peers
        )

    await fran.request({"type": "remove", "target": ana.id})
    await eventually(lambda: gone(ana.id), "Ana gone from the VideoRoom")
    await fran.request({"type": "remove", "target": bo.id, "ban": True})
    await eventually(lambda: gone(bo.id), "Bo gone from the VideoRoom")
    await media_flows([fran], [cy], audio, "Cy still heard")

    await fran.request({"type": "end_session"})

    async def destroyed() -> bool:
        answer = await janus_room(janus.url, janus.secret, {"request": "exists", "room": where.room})
        return answer.get("exists") is False

    await eventually(destroyed, "the VideoRoom destroyed at the end")


async def test_a_subscriber_offer_left_unanswered_starts_that_participant_over(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_peer, "ANSWER_SECONDS", 1.0)
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = await server.joined(room.facilitator, "Fran")
    ana = peers(link(server, room), "Ana", media=tiny())
    await ana.join()

    offer = await fran.recv_until("sfu", lambda m: m.get("pc") == "sub", timeout=MEDIA_TIMEOUT)
    assert offer["description"]["type"] == "offer" and offer["description"]["sdp"].startswith("v=0")
    assert {(s["participant"], s["kind"]) for s in offer["streams"]} == {(ana.id, "audio"), (ana.id, "video")}
    assert len({s["mid"] for s in offer["streams"]}) == 2
    # Fran never answers: her Janus session starts over, and she is told to renegotiate.
    await fran.recv_until("sfu", lambda m: m.get("restart") is True, timeout=MEDIA_TIMEOUT)
    again = await fran.recv_until("sfu", lambda m: m.get("pc") == "sub", timeout=MEDIA_TIMEOUT)
    assert {s["participant"] for s in again["streams"]} == {ana.id}


async def test_sfu_messages_are_charged_to_the_signal_byte_budget(
    start_server: StartServer, janus: JanusProcess
) -> None:
    server = await start_server(
        janus_urls=(janus.url,),
        janus_secret=janus.secret,
        signal_bytes_burst=65536,
        signal_bytes_per_second=1024,
    )
    room = await sfu_room(server)
    await server.joined(room.facilitator, "Fay")
    bo = await server.joined(room.member, "Bo")
    offer = {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 3500}  # ~25 KB as JSON, under the SDP limit
    answers = [await bo.request({"type": "sfu", "pc": "pub", "description": offer}, ref=n) for n in range(3)]
    assert [a["type"] for a in answers[:2]] == ["ack", "ack"], answers
    assert answers[2]["type"] == "error" and answers[2]["code"] == "rate_limited", answers


async def test_a_dropped_socket_takes_that_persons_janus_session_with_it(
    start_server: StartServer, janus: JanusProcess, peers: MakePeer
) -> None:
    server = await start_server(janus_urls=(janus.url,), janus_secret=janus.secret)
    room = await sfu_room(server)
    fran = peers(link(server, room, facilitator=True), "Fran", media=tiny())
    ana = peers(link(server, room), "Ana", media=tiny())
    for person in (fran, ana):
        await person.join()
    await media_flows([fran], [ana], audio, "Ana heard")
    where = await placement(server, room)
    assert ana.ws is not None and ana.ws.transport is not None
    ana.ws.transport.abort()  # a lost network: no leave; her seat waits for her (grace period)

    async def gone() -> bool:
        feeds = await janus_participants(janus.url, janus.secret, where.room)
        return bool(feeds) and all(feed.split("~")[0] != ana.id for feed in feeds)

    await eventually(gone, "Ana's Janus session gone with her socket")
    state = await server.node.service.state(room.id, with_chat=False)
    assert state is not None and ana.id in state.seats  # her seat is kept for her return

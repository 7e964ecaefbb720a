""" "Need help now?" through a real server: the alert reaches those who may answer help, and only
them; it is in the welcome of a facilitator who reconnects and of a co-facilitator who joins
later; "I'm on it" closes it; private replies reach only their person (and the facilitators)."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Running


def kinds(frames: list[dict[str, Any]]) -> list[str]:
    return [f["type"] for f in frames]


async def test_a_help_request_alerts_the_facilitators_only(server: Running) -> None:
    _room, fran, (ann, ben) = await server.live_room("Ann", "Ben")
    await ann.ok({"type": "ask_help", "text": "I am not ok right now"})
    seen = await fran.drain()
    assert kinds(seen) == ["chat", "help_alert"], "the private line, then the alert"
    alert = seen[1]["alert"]
    assert alert["id"] == ann.id and alert["name"] == "Ann" and alert["text"] == "I am not ok right now"
    assert alert["count"] == 1 and alert["first_at"] == alert["last_at"]
    line = seen[0]["message"]
    assert line["private"] and line["text"] == "I am not ok right now" and "to" not in line
    mine = await ann.drain()
    assert kinds(mine) == ["chat"], "the asker gets the private line, not the alert"
    assert await ben.drain() == [], "another member learns nothing"
    assert "help_alerts" not in (await ben.snapshot())
    assert "help_alerts" not in (await ann.snapshot())


async def test_open_alerts_survive_a_facilitator_reconnect_and_reach_a_later_co_facilitator(
    server: Running,
) -> None:
    room, fran, (ann,) = await server.live_room("Ann")
    await ann.ok({"type": "ask_help", "text": "please"})
    await ann.ok({"type": "ask_help", "text": "please, now"})
    resume = fran.welcome["resume"] if fran.welcome else ""
    fran.abort()
    again = await server.connect()
    welcome = await again.join(room.facilitator, "Fran", resume=resume)
    assert welcome["you"]["id"] == fran.id, "the same seat, resumed"
    [alert] = welcome["help_alerts"]
    assert (alert["id"], alert["text"], alert["count"]) == (ann.id, "please, now", 2)
    cleo = await server.joined(room.facilitator, "Cleo")
    assert [a["id"] for a in (cleo.welcome or {})["help_alerts"]] == [ann.id]
    assert [a["id"] for a in (await cleo.snapshot())["help_alerts"]] == [ann.id]


async def test_im_on_it_closes_it_for_every_facilitator_and_tells_the_asker(server: Running) -> None:
    room, fran, (ann, ben) = await server.live_room("Ann", "Ben")
    cleo = await server.joined(room.facilitator, "Cleo")
    await ann.ok({"type": "ask_help", "text": "help"})
    for helper in (fran, cleo):
        await helper.recv_until("help_alert")
    await ben.refused({"type": "ack_help", "target": ann.id}, "forbidden")
    await ann.refused({"type": "ack_help", "target": ann.id}, "forbidden")
    await cleo.ok({"type": "ack_help", "target": ann.id})
    for helper in (fran, cleo):
        closed = await helper.recv_until("help_closed")
        assert closed == {"type": "help_closed", "id": ann.id, "by": cleo.id}
    assert await ann.recv_until("help_closed") == {"type": "help_closed", "id": ann.id}
    assert "help_closed" not in kinds(await ben.drain())
    assert (await fran.snapshot())["help_alerts"] == []
    await fran.refused({"type": "ack_help", "target": ann.id}, "invalid_target")  # Cleo was quicker


async def test_a_private_reply_reaches_only_its_person(server: Running) -> None:
    room, fran, (ann, ben) = await server.live_room("Ann", "Ben")
    cleo = await server.joined(room.facilitator, "Cleo")
    for client in (fran, ann, ben):
        await client.drain()
    await fran.ok({"type": "chat", "text": "I'm here, Ann", "to": ann.id})
    for reader in (fran, ann, cleo):
        message = (await reader.recv_until("chat"))["message"]
        assert (message["text"], message["to"], message["private"]) == ("I'm here, Ann", ann.id, True)
    assert await ben.drain() == []
    assert (await ben.snapshot())["chat"] == []
    assert [m["to"] for m in (await ann.snapshot())["chat"]] == [ann.id]
    await ben.send({"type": "chat_history", "id": "h"})
    history = await ben.recv_until("chat_history")
    assert history["messages"] == []
    await ann.send({"type": "chat_history", "id": "h"})
    assert [m["text"] for m in (await ann.recv_until("chat_history"))["messages"]] == ["I'm here, Ann"]
    late = await server.joined(room.member, "Dee")
    assert (late.welcome or {})["chat"] == []


async def test_to_one_person_is_refused_to_members_and_for_unknown_ids(server: Running) -> None:
    _room, fran, (ann, ben) = await server.live_room("Ann", "Ben")
    await ann.refused({"type": "chat", "text": "psst", "to": ben.id}, "forbidden")
    await fran.refused({"type": "chat", "text": "hello", "to": "p0000000000000000"}, "invalid_target")
    await fran.refused({"type": "chat", "text": "hello", "to": fran.id}, "invalid_target")
    assert await ben.drain() == []
    assert await ann.drain() == []


async def test_deleting_a_private_reply_reaches_only_those_who_saw_it(server: Running) -> None:
    _room, fran, (ann, ben) = await server.live_room("Ann", "Ben")
    await fran.ok({"type": "chat", "text": "just for you", "to": ann.id})
    message = (await ann.recv_until("chat"))["message"]
    await fran.ok({"type": "delete_chat", "message_id": message["id"]})
    assert (await ann.recv_until("chat_deleted"))["id"] == message["id"]
    assert await ben.drain() == []

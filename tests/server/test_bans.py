"""A ban holds against the shared member link (docs/protocol.md, `remove`): after a ban, a join
without a personal identity waits in the lobby, even in a room without one, and sees nothing
of the room until a facilitator lets them in."""

from __future__ import annotations

from tests.server.conftest import Running


async def test_a_banned_member_coming_back_with_the_shared_link_waits_in_the_lobby(server: Running) -> None:
    room, fran, (ann, bob) = await server.live_room("Ann", "Bob")  # no lobby
    await ann.ok({"type": "chat", "text": "before the ban"})
    await fran.ok({"type": "remove", "target": bob.id, "ban": True})
    assert await bob.expect_close() == 4003

    # Bob again: the same shared link, and no device id (a private window, another browser).
    again = await server.connect()
    reply = await again.join(room.member, "Bob")
    assert reply == {"type": "lobby", "state": "waiting_for_admission"}
    waiting = await fran.recv_until("lobby_changed", lambda m: m["waiting"] != [])
    [entry] = waiting["waiting"]
    assert entry["name"] == "Bob" and entry["reason"] == "after_ban"
    snapshot = await fran.snapshot()
    assert snapshot["lobby"] == [entry]
    assert entry["id"] not in [p["id"] for p in snapshot["participants"]]

    # Nothing of the room reaches the lobby: no chat, no history, no signals to or from them.
    await ann.ok({"type": "chat", "text": "after the ban"})
    await ann.refused({"type": "signal", "to": entry["id"], "data": {"candidate": None}}, "invalid_target")
    seen = await again.drain()
    assert seen == [], seen
    assert not [m for m in again.seen if m["type"] in ("welcome", "chat", "snapshot")]
    lobby = await again.request({"type": "sync"})
    assert lobby["type"] == "ack" and again.inbox == [{"type": "lobby", "state": "waiting_for_admission"}]

    # The facilitator decides about Bob.
    await fran.ok({"type": "deny", "target": entry["id"]})
    assert await again.expect_close() == 4003

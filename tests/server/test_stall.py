"""One member cannot stall a node: the chat is bounded, welcome and snapshot carry its recent part
only (older on request), snapshots coalesce and are charged by size, the outbox is bounded in
bytes, and frames relayed from another member never get the receiver closed.

A real server and real sockets; every wait is bounded; the assertions are on counts and
behaviour, never on timings.
"""

from __future__ import annotations

import contextlib
from typing import Any

from websockets.exceptions import ConnectionClosed

from server import metrics
from tests.server.conftest import Client, StartServer, member_who_stops_reading

UNLIMITED = {"rate_per_second": 100_000, "rate_burst": 100_000}


def snapshots_built() -> float:
    value = metrics.REGISTRY.get_sample_value("hearth_snapshots_total")
    return value or 0.0


async def post(client: Client, texts: list[str], *, private: bool = False) -> None:
    for n, text in enumerate(texts):
        message: dict[str, Any] = {"type": "chat", "text": text}
        if private:
            message["to"] = "facilitators"
        await client.ok(message, ref=f"c{n}")
    client.inbox.clear()


# The chat cap ----------------------------------------------------------------------------------


async def test_the_chat_keeps_at_most_its_cap_of_messages(start_server: StartServer) -> None:
    server = await start_server(chat_max_messages=20, chat_page=100, **UNLIMITED)
    room, fac, (ann,) = await server.live_room("Ann")
    await post(ann, [f"message {n}" for n in range(60)])
    welcome = (await server.joined(room.member, "Bo")).welcome
    assert welcome is not None
    texts = [m["text"] for m in welcome["chat"]]
    assert 0 < len(texts) <= 20 and texts == [f"message {n}" for n in range(60 - len(texts), 60)]
    assert welcome["chat_more"] is False, "the older ones are gone, not just paged away"
    await fac.ok({"type": "chat", "text": "the facilitator can always post"})
    snapshot = await fac.snapshot()
    assert len(snapshot["chat"]) <= 20 and snapshot["chat"][-1]["text"] == "the facilitator can always post"


async def test_the_chat_keeps_at_most_its_cap_of_bytes(start_server: StartServer) -> None:
    server = await start_server(chat_max_bytes=16_384, chat_page=100, **UNLIMITED)
    _room, fac, (ann,) = await server.live_room("Ann")
    await post(ann, [f"{n:02d}" + "x" * 1_998 for n in range(30)])
    snapshot = await fac.snapshot()
    kept = snapshot["chat"]
    assert sum(len(m["text"]) + len(m["name"]) for m in kept) <= 16_384
    assert len(kept) >= 6 and kept[-1]["text"].startswith("29")
    assert [int(m["text"][:2]) for m in kept] == list(range(30 - len(kept), 30))


# Paged history ---------------------------------------------------------------------------------


async def test_welcome_and_snapshot_carry_only_the_recent_chat(start_server: StartServer) -> None:
    server = await start_server(chat_page=10, **UNLIMITED)
    room, fac, (ann,) = await server.live_room("Ann")
    await post(ann, [f"message {n}" for n in range(25)])
    bo = await server.joined(room.member, "Bo")
    assert bo.welcome is not None
    assert [m["text"] for m in bo.welcome["chat"]] == [f"message {n}" for n in range(15, 25)]
    assert bo.welcome["chat_more"] is True and bo.welcome["limits"]["chat_page"] == 10
    snapshot = await fac.snapshot()
    assert len(snapshot["chat"]) == 10 and snapshot["chat_more"] is True


async def test_history_pages_back_and_never_shows_others_private_messages(start_server: StartServer) -> None:
    server = await start_server(chat_page=4, **UNLIMITED)
    _room, fac, (ann, bo) = await server.live_room("Ann", "Bo")
    for n in range(9):
        await post(ann, [f"group {n}"])
        await post(bo, [f"secret of Bo {n}"], private=True)
    await post(ann, ["mine, private"], private=True)

    async def everything(client: Client) -> list[str]:
        assert client.welcome is not None
        await client.drain()
        snapshot = await client.snapshot()
        seen = [m["text"] for m in snapshot["chat"]]
        more, before, pages = snapshot["chat_more"], snapshot["chat"][0]["id"], 0
        while more:
            pages += 1
            assert pages < 50
            await client.send({"type": "chat_history", "before": before, "limit": 100, "id": f"h{pages}"})
            page = await client.recv_until("chat_history")
            assert page["ref"] == f"h{pages}" and len(page["messages"]) <= 4, "capped at the page size"
            assert (await client.recv_until(("ack", "error")))["type"] == "ack"
            seen = [m["text"] for m in page["messages"]] + seen
            more, before = page["more"], page["messages"][0]["id"] if page["messages"] else before
        return seen

    group = [f"group {n}" for n in range(9)]
    assert await everything(ann) == [*group, "mine, private"]
    fac_view = await everything(fac)
    assert [t for t in fac_view if t.startswith("secret")] == [f"secret of Bo {n}" for n in range(9)]
    assert len(fac_view) == 19

    secret_id = next(m["id"] for m in (await fac.snapshot())["chat"] if m["text"].startswith("secret"))
    refused = await ann.refused({"type": "chat_history", "before": secret_id}, "invalid_target")
    assert "secret" not in str(refused)
    await ann.refused({"type": "chat_history", "before": "m999999"}, "invalid_target")
    await ann.refused({"type": "chat_history", "limit": 0}, "bad_message")


async def test_history_is_charged_by_its_size(start_server: StartServer) -> None:
    server = await start_server(rate_per_second=1, rate_burst=40, rate_cost_bytes=1024, rate_strikes=1000)
    _room, fac, (ann,) = await server.live_room("Ann")
    for n in range(20):
        await fac.ok({"type": "chat", "text": f"{n} " + "x" * 1_990}, ref=f"c{n}")
    await ann.drain()
    await ann.ok({"type": "chat_history"}, ref="h")  # ~40 KiB: 40 tokens on top of its own
    await ann.refused({"type": "ping"}, "rate_limited")


# Snapshots: coalesced, charged, never built for a socket that went -------------------------------


async def test_a_socket_asking_for_snapshots_without_reading_gets_a_bounded_number(
    start_server: StartServer,
) -> None:
    server = await start_server(outbox_size=5_000, **UNLIMITED)
    room, _fac, (ann,) = await server.live_room("Ann")
    await post(ann, [f"{n} " + "x" * 1_000 for n in range(50)])
    _other_room, other_fac, (other,) = await server.live_room("Other")
    flooder, _ = await member_who_stops_reading(server, room, "Flood")
    before = snapshots_built()

    for n in range(1_000):
        await flooder.send({"type": "sync", "id": n})
    # The node goes on answering another room while the flooder reads nothing.
    await other.ok({"type": "chat", "text": "still here"})
    assert (await other_fac.recv_until("chat"))["message"]["text"] == "still here"

    seen = await flooder.collect_until("ack", lambda m: m["ref"] == 999, timeout=60)
    acks = [m["ref"] for m in seen if m["type"] == "ack"]
    snapshots = [m for m in seen if m["type"] == "snapshot"]
    assert acks == list(range(1_000)), "every sync is answered, in order"
    assert 1 <= len(snapshots) <= 20, len(snapshots)
    assert snapshots_built() - before == len(snapshots)


async def test_a_sync_flood_from_a_socket_that_closes_at_once_leaves_no_work(
    start_server: StartServer,
) -> None:
    server = await start_server(**UNLIMITED)
    room, fac, (ann,) = await server.live_room("Ann")
    await post(ann, [f"{n} " + "x" * 1_000 for n in range(50)])
    flooder = await server.joined(room.member, "Flood")
    server_side = server.node.hub.connection(room.id, flooder.id)
    assert server_side is not None
    await flooder.drain()
    before = snapshots_built()
    await flooder.ws.send([f'{{"type":"sync","id":{n}}}' for n in range(1_000)])
    flooder.abort()
    gone = await fac.recv_until("participant_updated", lambda m: m["participant"]["id"] == flooder.id)
    assert gone["participant"]["connected"] is False
    built = snapshots_built() - before
    assert built <= 3, built
    for _ in range(5):  # nothing is left to run for it
        await fac.ok({"type": "ping"})
    assert snapshots_built() - before == built
    assert server_side.stopped and server_side.outbox is None and not server_side.snapshot_pending


async def test_a_snapshot_is_charged_by_its_size(start_server: StartServer) -> None:
    server = await start_server(rate_per_second=1, rate_burst=40, rate_cost_bytes=1024, rate_strikes=1000)
    _room, fac, (ann,) = await server.live_room("Ann")
    for n in range(20):
        await fac.ok({"type": "chat", "text": f"{n} " + "x" * 1_990}, ref=f"c{n}")
    await ann.drain()
    await ann.send({"type": "sync"})
    assert len((await ann.recv_until("snapshot"))["chat"]) == 20  # ~40 KiB: 40 tokens
    await ann.refused({"type": "ping"}, "rate_limited")


# The outbox, in bytes; relayed frames never close the receiver -----------------------------------


async def test_a_non_reader_is_closed_4011_when_its_outbox_holds_too_many_bytes(
    start_server: StartServer,
) -> None:
    server = await start_server(outbox_size=10_000, outbox_bytes=65_536, max_chat_chars=50_000, **UNLIMITED)
    room, fac, (_reader,) = await server.live_room("Reader")
    slow, server_side = await member_who_stops_reading(server, room, "Slow")
    sent = 0
    while server_side.closing is None:
        assert sent < 300, "the outbox grew past its byte limit"
        await fac.ok({"type": "chat", "text": f"{sent} " + "y" * 45_000}, ref=f"c{sent}")
        fac.inbox.clear()
        sent += 1
    assert server_side.closing == 4011
    assert await slow.expect_close(timeout=30) == 4011


def offer(size: int) -> dict[str, Any]:
    lines = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0"]
    while sum(len(line) + 2 for line in lines) < size:
        lines.append(f"a=ssrc:{len(lines)} cname:abcdefghijklmnop")
    return {"description": {"type": "offer", "sdp": "\r\n".join(lines) + "\r\n"}}


async def test_a_signal_flood_does_not_close_its_target(start_server: StartServer) -> None:
    """Big signals at a member who is not reading at the moment: once the victim's outbox is half
    full they are dropped (or, with a sender-side budget, refused to the sender), never turned
    into the victim's 4011."""
    server = await start_server(outbox_bytes=262_144)
    room, fac, (attacker,) = await server.live_room("Mallory")
    victim, server_side = await member_who_stops_reading(server, room, "Victim")
    dropped = metrics.REGISTRY.get_sample_value("hearth_signals_dropped_total") or 0.0
    data = offer(15_000)
    for n in range(590):  # within the signal burst: only the victim's side can stop this
        await attacker.send({"type": "signal", "to": victim.id, "data": data, "id": n})
    with contextlib.suppress(ConnectionClosed):  # a sender-side budget may cut the sender off
        await attacker.drain()
    assert server_side.closing is None, "the victim was closed for the attacker's frames"
    now_dropped = metrics.REGISTRY.get_sample_value("hearth_signals_dropped_total") or 0.0
    assert now_dropped > dropped or any(m["type"] == "error" for m in attacker.seen)
    await fac.ok({"type": "chat", "text": "after the flood"})
    seen = await victim.collect_until("chat", timeout=60)
    assert seen[-1]["message"]["text"] == "after the flood"
    assert server_side.closing is None
    await victim.ok({"type": "ping"})

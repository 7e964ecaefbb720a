"""Dropped connections: the grace period, resuming a seat, single-use resume tokens."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import RedisServer
from tests.server.conftest import Client, Running, StartServer


def about(pid: str, **fields: Any) -> Any:
    def match(message: dict[str, Any]) -> bool:
        person = message.get("participant", {})
        return person.get("id") == pid and all(person.get(k) == v for k, v in fields.items())

    return match


async def test_a_resume_within_grace_restores_the_seat(server: Running) -> None:
    room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="circle")
    assert ann.welcome is not None
    await ann.ok({"type": "hand", "raised": True})
    await fac.ok({"type": "mute", "target": ann.id})
    before = next(p for p in (await fac.snapshot())["participants"] if p["id"] == ann.id)
    assert isinstance(before["hand"], float) and before["muted_by_facilitator"] is True
    order = (await fac.snapshot())["floor"]["order"]
    assert order == [ann.id, bob.id]
    resume = ann.welcome["resume"]

    ann.abort()  # the network goes away: no leave, no close frame
    gone = await bob.recv_until("participant_updated", about(ann.id, connected=False))
    assert gone["participant"]["hand"] == before["hand"]

    again = await server.connect()
    welcome = await again.join(room.member, "Ann", resume=resume)
    assert welcome["type"] == "welcome"
    you = welcome["you"]
    assert you["id"] == ann.id and you["role"] == "member" and you["name"] == "Ann"
    assert you["hand"] == before["hand"] and you["muted_by_facilitator"] is True
    assert you["connected"] is True
    assert welcome["floor"]["order"] == order
    assert welcome["resume"] != resume
    back = await bob.recv_until("participant_updated", about(ann.id))
    assert back["participant"] == you
    # Still muted by the facilitator, and nobody else noticed a leave or a join.
    await again.refused({"type": "media", "audio": True, "video": False}, "not_allowed_to_speak")
    assert not [m for m in await bob.drain() if m["type"] in ("participant_left", "participant_joined")]


async def test_a_used_resume_token_only_gives_a_fresh_join(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    resume = ann.welcome["resume"]
    ann.abort()
    resumed = await server.connect()
    assert (await resumed.join(room.member, "Ann", resume=resume))["you"]["id"] == ann.id
    replay = await server.connect()
    welcome = await replay.join(room.member, "Not Ann", resume=resume)
    assert welcome["type"] == "welcome"
    assert welcome["you"]["id"] != ann.id and welcome["you"]["name"] == "Not Ann"
    # The resumed socket was not replaced.
    await resumed.ok({"type": "ping"})
    assert (await fac.recv_until("participant_joined"))["participant"]["id"] == welcome["you"]["id"]


async def test_a_used_resume_token_with_a_bad_invite_is_refused(server: Running) -> None:
    _room, _fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    resume = ann.welcome["resume"]
    ann.abort()
    first = await server.connect()
    assert (await first.join("", "Ann", resume=resume))["type"] == "welcome"  # a resume needs no invite
    second = await server.connect()
    assert (await second.join("", "Ann", resume=resume))["code"] == "unauthorized"
    assert await second.expect_close() == 4001


async def test_after_the_grace_period_the_others_see_a_timeout(start_server: StartServer) -> None:
    server = await start_server(grace_seconds=0.5)
    room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="circle")
    assert ann.welcome is not None
    ann.abort()
    await fac.recv_until("participant_updated", about(ann.id, connected=False))
    left = await fac.recv_until("participant_left")
    assert left["id"] == ann.id and left["reason"] == "timeout"
    floor = (await fac.snapshot())["floor"]
    assert floor["order"] == [bob.id]
    # Too late to resume: a fresh join as somebody new.
    again = await server.connect()
    welcome = await again.join(room.member, "Ann", resume=ann.welcome["resume"])
    assert welcome["type"] == "welcome" and welcome["you"]["id"] != ann.id


async def test_the_floor_holder_who_drops_loses_the_floor(server: Running) -> None:
    _room, fac, (ann, bob) = await server.live_room("Ann", "Bob", floor_mode="queue")
    await fac.ok({"type": "give_floor", "target": ann.id})
    await bob.recv_until("floor", lambda m: m["holder"] == ann.id)
    ann.abort()
    await bob.recv_until("participant_updated", about(ann.id, connected=False))
    floor = await bob.recv_until("floor")
    assert floor["holder"] is None
    # Nobody can hand the floor to someone who is reconnecting.
    await fac.refused({"type": "give_floor", "target": ann.id}, "invalid_target")


async def test_a_closed_socket_without_leave_also_keeps_the_seat(server: Running) -> None:
    room, fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    await ann.close()  # a clean websocket close is still not a `leave`
    await fac.recv_until("participant_updated", about(ann.id, connected=False))
    again: Client = await server.connect()
    assert (await again.join(room.member, "Ann", resume=ann.welcome["resume"]))["you"]["id"] == ann.id


async def test_after_leave_there_is_nothing_to_resume(server: Running) -> None:
    room, _fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    await ann.ok({"type": "leave"})
    assert await ann.expect_close() == 1000
    again = await server.connect()
    welcome = await again.join(room.member, "Ann", resume=ann.welcome["resume"])
    assert welcome["you"]["id"] != ann.id


async def test_a_replayed_resume_token_never_gets_the_victims_frames(
    start_server: StartServer, redis_server: RedisServer
) -> None:
    """On Redis a join takes round trips: the seat must not change hands while they run."""
    server = await start_server(store=redis_server.url, signal_rate_per_second=1000.0, signal_burst=5000)
    room, fac, (ann,) = await server.live_room("Ann")
    assert ann.welcome is not None
    used = ann.welcome["resume"]
    ann.abort()
    ann = await server.connect()
    assert (await ann.join(room.member, "Ann", resume=used))["type"] == "welcome"  # `used` is spent

    async def signals(count: int) -> None:
        for n in range(count):
            await fac.send({"type": "signal", "to": ann.id, "data": {"candidate": {"candidate": f"s{n}"}}})
            if n % 20 == 0:
                await asyncio.sleep(0)

    async def attacks(count: int) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        for _ in range(count):
            thief = await server.connect()
            attempt = {"type": "join", "token": "garbage", "name": "Ann", "agree": True, "resume": used}
            await thief.send(attempt)
            assert await thief.expect_close() == 4001
            received += thief.seen
        return received

    _, stolen = await asyncio.gather(signals(1500), attacks(40))
    assert [m for m in stolen if m.get("type") != "error"] == []
    assert all(m["code"] == "unauthorized" for m in stolen)
    # Ann still holds her seat and got her signals.
    await ann.recv_until("signal", timeout=5)
    await ann.ok({"type": "ping"})

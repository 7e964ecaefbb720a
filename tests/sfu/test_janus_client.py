"""Hearth's Janus client (server.sfu.janus) against a real Janus (tests/janus.py): sessions,
handles, refusals, VideoRoom rooms, event routing, loss of the instance and keepalives.

Media through Janus (aiortc publisher and subscriber, moderate) is in test_janus_media.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from server.sfu import janus_session
from server.sfu.janus import Janus, JanusError, JanusGone
from tests.janus import JanusProcess, start_janus
from tests.polling import eventually

NO_SUCH_SESSION = 458  # JANUS_ERROR_SESSION_NOT_FOUND
UNAUTHORIZED = 403  # JANUS_ERROR_UNAUTHORIZED
NO_SUCH_ROOM = 426  # JANUS_VIDEOROOM_ERROR_NO_SUCH_ROOM


async def make_room(janus: Janus, secret: str, room: str = "r1", **extra: Any) -> None:
    admin = await janus.admin_handle()
    await admin.request(
        {
            "request": "create",
            "room": room,
            "admin_key": secret,
            "secret": secret,
            "publishers": 6,
            "audiocodec": "opus",
            "videocodec": "vp8",
            "notify_joining": True,
            **extra,
        }
    )


async def test_sessions_and_handles_live_until_destroyed(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, janus.secret)
    try:
        assert client.alive
        session = await client.create_session()
        handle = await session.attach()
        assert (await handle.request({"request": "list"}))["videoroom"] == "success"
        other = await (await client.create_session()).attach()
        assert other.id != handle.id
        await session.destroy()
        with pytest.raises(JanusError) as refused:
            await handle.request({"request": "list"})
        assert refused.value.code == NO_SUCH_SESSION
        await session.destroy()  # already gone: no error
        assert (await other.request({"request": "list"}))["videoroom"] == "success"
        await other.detach()
        await other.detach()
    finally:
        await client.close()
    assert not client.alive


async def test_a_refused_plugin_request_raises_janus_error(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, janus.secret)
    try:
        handle = await (await client.create_session()).attach()
        with pytest.raises(JanusError) as refused:
            await handle.message({"request": "join", "room": "no-such-room", "ptype": "publisher"})
        assert refused.value.code == NO_SUCH_ROOM
        assert "no-such-room" in refused.value.reason
        with pytest.raises(JanusError) as synchronous:
            await handle.request({"request": "destroy", "room": "no-such-room", "secret": janus.secret})
        assert synchronous.value.code == NO_SUCH_ROOM
    finally:
        await client.close()


async def test_a_wrong_secret_is_refused(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, "not-the-secret")
    try:
        with pytest.raises(JanusError) as refused:
            await client.create_session()
        assert refused.value.code == UNAUTHORIZED
    finally:
        await client.close()


async def test_rooms_are_created_listed_and_destroyed_through_the_admin_handle(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, janus.secret)
    try:
        admin = await client.admin_handle()
        assert await client.admin_handle() is admin
        with pytest.raises(JanusError):  # the admin_key is required to create rooms
            await admin.request({"request": "create", "room": "nokey", "secret": janus.secret})
        await make_room(client, janus.secret, "group-1")
        listed = await admin.request({"request": "list"})
        assert [room["room"] for room in listed["list"]] == ["group-1"]
        assert (await admin.request({"request": "exists", "room": "group-1"}))["exists"] is True
        with pytest.raises(JanusError):  # the room's secret guards its destruction
            await admin.request({"request": "destroy", "room": "group-1", "secret": "wrong"})
        await admin.request({"request": "destroy", "room": "group-1", "secret": janus.secret})
        assert (await admin.request({"request": "list"}))["list"] == []
    finally:
        await client.close()


async def test_events_reach_their_handle_and_a_slow_callback_blocks_nothing(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, janus.secret)
    try:
        await make_room(client, janus.secret)
        first = await (await client.create_session()).attach()
        bystander = await (await client.create_session()).attach()
        release = asyncio.Event()
        seen: list[dict[str, Any]] = []
        bystander_seen: list[dict[str, Any]] = []

        async def slow(data: dict[str, Any], jsep: dict[str, Any] | None) -> None:
            seen.append(data)
            await release.wait()

        first.on_event(slow)
        bystander.on_event(lambda data, jsep: bystander_seen.append(data))
        joined, _ = await first.message(
            {"request": "join", "room": "r1", "ptype": "publisher", "display": "a"}
        )
        assert joined["videoroom"] == "joined"
        for name in ("b", "c"):
            newcomer = await (await client.create_session()).attach()
            await newcomer.message({"request": "join", "room": "r1", "ptype": "publisher", "display": name})
        await eventually(lambda: len(seen) == 1, "the first joining event, held by the slow callback")
        # The reader goes on: requests are answered while the callback waits.
        assert (await first.request({"request": "listparticipants", "room": "r1"}))["participants"]
        release.set()
        await eventually(lambda: len(seen) == 2, "the second joining event, after the callback returned")
        assert [event["joining"]["display"] for event in seen] == ["b", "c"]
        assert bystander_seen == []  # it never joined the room: nothing routed to it
    finally:
        await client.close()


async def test_a_killed_instance_fails_pending_and_new_requests_and_calls_on_lost(
    janus: JanusProcess,
) -> None:
    client = await Janus.connect(janus.url, janus.secret)
    lost: list[bool] = []
    client.on_lost(lambda: lost.append(True))
    handle = await (await client.create_session()).attach()
    os.kill(janus.process.pid, signal.SIGSTOP)  # hung: the request below stays pending
    pending = asyncio.create_task(handle.message({"request": "list"}, timeout=60))
    await asyncio.sleep(0.2)
    assert not pending.done()
    janus.kill()
    with pytest.raises(JanusGone):
        await asyncio.wait_for(pending, 10)
    assert lost == [True]
    assert not client.alive
    with pytest.raises(JanusGone):
        await asyncio.wait_for(handle.request({"request": "list"}), 10)
    with pytest.raises(JanusGone):
        await asyncio.wait_for(client.create_session(), 10)
    await client.close()
    assert lost == [True]


async def test_connecting_to_nothing_raises_janus_gone(janus: JanusProcess) -> None:
    url = janus.url
    janus.kill()
    with pytest.raises(JanusGone):
        await Janus.connect(url, janus.secret, timeout=5)


async def test_a_hung_instance_is_given_up_when_a_keepalive_goes_unanswered(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, janus.secret, timeout=1.0, keepalive=0.5)
    lost: list[bool] = []
    client.on_lost(lambda: lost.append(True))
    await client.create_session()
    os.kill(janus.process.pid, signal.SIGSTOP)
    try:
        await eventually(lambda: lost, "on_lost after an unanswered keepalive", timeout=15)
        assert not client.alive
    finally:
        os.kill(janus.process.pid, signal.SIGCONT)
        await client.close()


async def test_sessions_are_kept_alive_by_the_client(tmp_path: Path) -> None:
    instance = start_janus(tmp_path, session_timeout=3)
    try:
        client = await Janus.connect(instance.url, instance.secret, keepalive=1.0)
        try:
            kept = await client.create_session()
            await asyncio.sleep(0.01)
            # Control: the same session_timeout drops a session nobody keeps alive.
            bare = await client.create_session()
            bare.stop()
            await eventually(lambda: bare.gone, "Janus timing out the session without keepalives", timeout=20)
            assert not kept.gone
            handle = await kept.attach()
            assert (await handle.request({"request": "list"}))["videoroom"] == "success"
        finally:
            await client.close()
    finally:
        instance.stop()


async def test_a_message_over_the_size_limit_loses_the_connection(janus: JanusProcess) -> None:
    client = await Janus.connect(janus.url, janus.secret, max_message=4096)
    lost: list[bool] = []
    client.on_lost(lambda: lost.append(True))
    try:
        for index in range(6):
            await make_room(client, janus.secret, f"room-{index}", description="d" * 900)
        admin = await client.admin_handle()
        with pytest.raises(JanusGone):  # the list of six rooms is over 4 KiB
            await admin.request({"request": "list"})
        assert lost == [True]
    finally:
        await client.close()


async def test_two_instances_are_independent_and_one_outlives_the_other(
    janus_pair: tuple[JanusProcess, JanusProcess],
) -> None:
    first, second = janus_pair
    assert first.url != second.url
    one = await Janus.connect(first.url, first.secret)
    two = await Janus.connect(second.url, second.secret)
    lost: list[str] = []
    one.on_lost(lambda: lost.append("one"))
    two.on_lost(lambda: lost.append("two"))
    try:
        await make_room(one, first.secret, "only-on-the-first")
        assert (await (await two.admin_handle()).request({"request": "list"}))["list"] == []
        first.kill()
        await eventually(lambda: lost, "the first instance to be lost")
        assert lost == ["one"] and two.alive
        await make_room(two, second.secret, "moved-here")
    finally:
        await one.close()
        await two.close()


async def test_events_beyond_the_queue_limit_of_a_stuck_callback_are_dropped(
    janus: JanusProcess, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(janus_session, "MAX_QUEUED_EVENTS", 1)
    client = await Janus.connect(janus.url, janus.secret)
    try:
        await make_room(client, janus.secret)
        watcher = await (await client.create_session()).attach()
        release = asyncio.Event()
        seen: list[str] = []

        async def stuck(data: dict[str, Any], jsep: dict[str, Any] | None) -> None:
            seen.append(data["joining"]["display"])
            await release.wait()

        watcher.on_event(stuck)
        await watcher.message({"request": "join", "room": "r1", "ptype": "publisher", "display": "w"})
        for name in ("b", "c", "d", "e"):
            newcomer = await (await client.create_session()).attach()
            await newcomer.message({"request": "join", "room": "r1", "ptype": "publisher", "display": name})
        # "b" is in the callback, "c" waits in the queue of one; "d" and "e" are dropped.
        await eventually(lambda: "event dropped" in caplog.text, "a warning for the dropped events")
        release.set()
        await eventually(lambda: len(seen) == 2, "the queued event")
        await asyncio.sleep(0.2)
        assert seen == ["b", "c"]
    finally:
        await client.close()

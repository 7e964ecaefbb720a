"""The RoomDirectory contract, run against every implementation."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from rooms.backends.base import RoomDirectory
from rooms.backends.memory_directory import MemoryDirectory
from rooms.backends.redis_common import client_from_url
from rooms.backends.redis_directory import RedisDirectory
from rooms.backends.sqlite_directory import SqliteDirectory
from rooms.model import FloorMode, MediaMode, RoomConfig
from tests.conftest import RedisServer


def room(room_id: str = "r1", **changes: object) -> RoomConfig:
    return msgspec.structs.replace(RoomConfig(id=room_id, title=f"Room {room_id}", created_at=1.0), **changes)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def directory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RoomDirectory]:
    made: RoomDirectory
    if request.param == "redis":
        client = client_from_url(request.getfixturevalue("redis_server").url)
        made = RedisDirectory(client)
        await made.open()
        yield made
        await made.close()
        await client.aclose()
        return
    if request.param == "memory":
        made = MemoryDirectory()
    else:
        made = SqliteDirectory(tmp_path / "nested" / "hearth.db")
    await made.open()
    yield made
    await made.close()


async def test_create_then_get(directory: RoomDirectory) -> None:
    config = room(
        topic="Living with pain",
        agreement="Be kind. Stay confidential. «Pass» is fine — always.",
        lobby=False,
        floor_mode=FloorMode.CIRCLE,
        turn_seconds=120,
        max_participants=8,
        crisis_text="Call 112 in an emergency.",
        invite_version=2,
        media=MediaMode.SFU,
    )
    await directory.create(config)
    got = await directory.get("r1")
    assert got == config
    assert got is not None and got.floor_mode is FloorMode.CIRCLE and got.media is MediaMode.SFU


async def test_get_unknown_is_none(directory: RoomDirectory) -> None:
    assert await directory.get("nope") is None


async def test_create_refuses_an_existing_id(directory: RoomDirectory) -> None:
    await directory.create(room())
    with pytest.raises(ValueError, match="r1"):
        await directory.create(room(title="Other"))
    assert (await directory.get("r1")) == room()


async def test_update(directory: RoomDirectory) -> None:
    await directory.create(room())
    rotated = room(invite_version=2, title="Renamed", turn_seconds=None)
    await directory.update(rotated)
    assert await directory.get("r1") == rotated


async def test_update_refuses_an_unknown_room(directory: RoomDirectory) -> None:
    with pytest.raises(KeyError):
        await directory.update(room("ghost"))
    assert await directory.get("ghost") is None


async def test_all_lists_rooms_in_creation_order(directory: RoomDirectory) -> None:
    assert await directory.all() == []
    ids = ["zeta", "alpha", "mid"]
    for n, room_id in enumerate(ids):
        await directory.create(room(room_id, created_at=1.0 + n))
    await directory.update(room("zeta", title="Changed", created_at=1.0))
    assert [r.id for r in await directory.all()] == ids


async def test_concurrent_creates(directory: RoomDirectory) -> None:
    await asyncio.gather(*(directory.create(room(f"r{i}")) for i in range(20)))
    assert sorted(r.id for r in await directory.all()) == sorted(f"r{i}" for i in range(20))


async def test_ping(directory: RoomDirectory) -> None:
    assert await directory.ping() is True


# SQLite only


async def test_sqlite_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "data" / "hearth.db"
    first = SqliteDirectory(path)
    await first.open()
    await first.create(room("a"))
    await first.create(room("b", title="Tuesdays"))
    await first.close()

    second = SqliteDirectory(path)
    await second.open()
    try:
        assert [r.id for r in await second.all()] == ["a", "b"]
        assert await second.get("b") == room("b", title="Tuesdays")
    finally:
        await second.close()


async def test_sqlite_two_processes_share_the_file(tmp_path: Path) -> None:
    """`hearth rooms create` writes while a server has the same file open."""
    path = tmp_path / "hearth.db"
    server, command = SqliteDirectory(path), SqliteDirectory(path)
    await server.open()
    await command.open()
    try:
        await command.create(room("new"))
        assert await server.get("new") == room("new")
    finally:
        await command.close()
        await server.close()


async def test_sqlite_layout(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    directory = SqliteDirectory(path)
    await directory.open()
    await directory.create(room())
    await directory.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        [(data,)] = db.execute("SELECT data FROM rooms WHERE id = 'r1'").fetchall()
    assert msgspec.json.decode(data, type=RoomConfig) == room()
    db.close()


async def test_sqlite_closed_directory(tmp_path: Path) -> None:
    directory = SqliteDirectory(tmp_path / "hearth.db")
    assert await directory.ping() is False
    with pytest.raises(RuntimeError, match="not open"):
        await directory.get("r1")
    await directory.open()
    await directory.close()
    assert await directory.ping() is False
    await directory.close()  # closing twice is harmless


# Redis only


@pytest.mark.redis
async def test_redis_orders_rooms_created_together_by_id(redis_server: RedisServer) -> None:
    """A hash keeps no order: ``created_at`` then id is the order, the same on every node."""
    client = client_from_url(redis_server.url)
    try:
        directory = RedisDirectory(client)
        for room_id in ["b", "c", "a"]:
            await directory.create(room(room_id, created_at=5.0))
        await directory.create(room("early", created_at=1.0))
        assert [r.id for r in await directory.all()] == ["early", "a", "b", "c"]
    finally:
        await client.aclose()


@pytest.mark.redis
async def test_redis_layout(redis_server: RedisServer) -> None:
    client = client_from_url(redis_server.url)
    try:
        await RedisDirectory(client).create(room())
        data = await client.hget("hearth:rooms", "r1")
        assert isinstance(data, bytes)
        assert msgspec.json.decode(data, type=RoomConfig) == room()
    finally:
        await client.aclose()


# Rows written before facilitator links had their own version

OLD_ROW = (
    b'{"id":"old","title":"Stored long ago","topic":"","agreement":"Be kind","lobby":false,'
    b'"floor_mode":"open","turn_seconds":null,"max_participants":12,"crisis_text":"",'
    b'"invite_version":3,"created_at":1.0}'
)


async def test_sqlite_reads_a_row_without_a_facilitator_version_as_version_1(tmp_path: Path) -> None:
    path = tmp_path / "hearth.db"
    directory = SqliteDirectory(path)
    await directory.open()
    try:
        await directory.create(room())  # makes the table
        with sqlite3.connect(path) as db:
            db.execute("INSERT INTO rooms (id, data) VALUES (?, ?)", ("old", OLD_ROW))
        db.close()
        old = await directory.get("old")
        assert old is not None and (old.invite_version, old.facilitator_version) == (3, 1)
        await directory.update(msgspec.structs.replace(old, facilitator_version=2))
        again = await directory.get("old")
        assert again is not None and (again.invite_version, again.facilitator_version) == (3, 2)
    finally:
        await directory.close()


@pytest.mark.redis
async def test_redis_reads_a_row_without_a_facilitator_version_as_1(redis_server: RedisServer) -> None:
    client = client_from_url(redis_server.url)
    try:
        directory = RedisDirectory(client)
        await client.hset("hearth:rooms", "old", OLD_ROW)
        old = await directory.get("old")
        assert old is not None and (old.invite_version, old.facilitator_version) == (3, 1)
        await directory.update(msgspec.structs.replace(old, facilitator_version=2))
        again = await directory.get("old")
        assert again is not None and (again.invite_version, again.facilitator_version) == (3, 2)
    finally:
        await client.aclose()

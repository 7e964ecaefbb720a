"""The JourneyStore contract (rooms/backends/journey_base.py), run on every implementation:
memory, SQLite and a real redis-server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rooms.backends.base import StoreUnavailable
from rooms.backends.journey_base import JourneyStore, Record
from rooms.backends.memory_journey import MemoryJourney
from rooms.backends.redis_common import client_from_url
from rooms.backends.redis_journey import SWEEP_KEY, RedisJourney
from rooms.backends.sqlite_journey import SqliteJourney
from tests.conftest import RedisServer


def rec(
    kind: str, record_id: str, owner: str | None = "s1", created: float = 100.0, data: bytes = b"{}"
) -> Record:
    return Record(kind=kind, id=record_id, owner=owner, created=created, data=data)


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def journey(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JourneyStore]:
    made: JourneyStore
    if request.param == "redis":
        made = RedisJourney(client_from_url(request.getfixturevalue("redis_server").url), owns_client=True)
    elif request.param == "sqlite":
        made = SqliteJourney(tmp_path / "nested" / "hearth.db")
    else:
        made = MemoryJourney()
    await made.open()
    yield made
    await made.close()


async def test_put_get_and_replace(journey: JourneyStore) -> None:
    first = rec("plan", "p1", data=b'{"what":"walk"}')
    await journey.put("r1", first)
    assert await journey.get("r1", "plan", "p1") == first
    assert await journey.get("r1", "plan", "nope") is None
    assert await journey.get("r2", "plan", "p1") is None  # rooms are apart
    assert await journey.get("r1", "post", "p1") is None  # and kinds
    # Replacing: the new record as a whole, owner included.
    second = rec("plan", "p1", owner="s2", created=50.0, data=b'{"what":"swim"}')
    await journey.put("r1", second)
    assert await journey.get("r1", "plan", "p1") == second
    assert await journey.count("r1", "plan") == 1
    assert await journey.count("r1", "plan", owner="s1") == 0
    assert await journey.count("r1", "plan", owner="s2") == 1
    assert await journey.list("r1", "plan", owner="s1") == []


async def test_list_order_and_owner_filter(journey: JourneyStore) -> None:
    await journey.put("r1", rec("post", "b", created=20.0))
    await journey.put("r1", rec("post", "a", created=20.0, owner=None))
    await journey.put("r1", rec("post", "c", created=10.0, owner="s2"))
    await journey.put("r1", rec("plan", "x", created=1.0))
    assert [r.id for r in await journey.list("r1", "post")] == ["c", "a", "b"]
    assert [r.id for r in await journey.list("r1", "post", owner="s1")] == ["b"]
    assert (await journey.list("r1", "post"))[1].owner is None
    assert await journey.count("r1", "post") == 3
    assert await journey.count("r1", "post", owner="s2") == 1
    assert await journey.list("r2", "post") == []


async def test_add_limit_per_kind(journey: JourneyStore) -> None:
    assert await journey.add("r1", rec("post", "1", owner="s1"), limit=2)
    assert await journey.add("r1", rec("post", "2", owner="s2"), limit=2)
    assert await journey.add("r1", rec("plan", "1"), limit=2)  # another kind: its own count
    assert not await journey.add("r1", rec("post", "3", owner="s3"), limit=2)
    assert await journey.get("r1", "post", "3") is None
    # Replacing one of the same id is allowed when full.
    assert await journey.add("r1", rec("post", "2", owner="s2", data=b"new"), limit=2)
    assert (await journey.get("r1", "post", "2")) == rec("post", "2", owner="s2", data=b"new")
    assert await journey.add("r2", rec("post", "1"), limit=2)  # another room
    assert await journey.count("r1", "post") == 2


async def test_add_limit_per_owner(journey: JourneyStore) -> None:
    assert await journey.add("r1", rec("plan", "1", owner="s1"), limit=2, per_owner=True)
    assert await journey.add("r1", rec("plan", "2", owner="s1"), limit=2, per_owner=True)
    assert not await journey.add("r1", rec("plan", "3", owner="s1"), limit=2, per_owner=True)
    assert await journey.add("r1", rec("plan", "4", owner="s2"), limit=2, per_owner=True)
    assert await journey.add("r1", rec("plan", "1", owner="s1", data=b"x"), limit=2, per_owner=True)
    assert await journey.count("r1", "plan", owner="s1") == 2
    assert await journey.count("r1", "plan") == 3
    # A record of nobody's, per owner: the kind's own limit (the group's records together).
    assert await journey.add("r1", rec("summary", "1.in", owner=None), limit=2, per_owner=True)
    assert await journey.add("r1", rec("summary", "1.out", owner=None), limit=2, per_owner=True)
    assert not await journey.add("r1", rec("summary", "2.in", owner=None), limit=2, per_owner=True)


async def test_concurrent_adds_never_pass_the_limit(journey: JourneyStore) -> None:
    results = await asyncio.gather(
        *(journey.add("r1", rec("post", f"p{i}", owner=f"s{i % 3}"), limit=7) for i in range(40))
    )
    assert sum(results) == 7
    assert await journey.count("r1", "post") == 7
    per_owner = await asyncio.gather(
        *(journey.add("r1", rec("plan", f"q{i}", owner="s1"), limit=5, per_owner=True) for i in range(30))
    )
    assert sum(per_owner) == 5
    assert await journey.count("r1", "plan", owner="s1") == 5


async def test_delete(journey: JourneyStore) -> None:
    await journey.put("r1", rec("plan", "p1"))
    assert await journey.delete("r1", "plan", "p1")
    assert not await journey.delete("r1", "plan", "p1")
    assert await journey.get("r1", "plan", "p1") is None
    assert await journey.count("r1", "plan", owner="s1") == 0
    assert await journey.list("r1", "plan", owner="s1") == []


async def test_delete_owner_with_keep(journey: JourneyStore) -> None:
    await journey.put("r1", rec("member", "s1", owner="s1"))
    await journey.put("r1", rec("plan", "p1", owner="s1"))
    await journey.put("r1", rec("checkin", "1.in.s1", owner="s1"))
    await journey.put("r1", rec("plan", "p2", owner="s2"))
    await journey.put("r1", rec("summary", "1.in", owner=None))
    await journey.put("r2", rec("plan", "p3", owner="s1"))
    assert await journey.delete_owner("r1", "s1", keep=frozenset({"member"})) == 2
    assert await journey.get("r1", "member", "s1") is not None
    assert await journey.get("r1", "plan", "p1") is None
    assert await journey.get("r1", "checkin", "1.in.s1") is None
    assert await journey.get("r1", "plan", "p2") is not None
    assert await journey.get("r1", "summary", "1.in") is not None
    assert await journey.get("r2", "plan", "p3") is not None
    assert await journey.delete_owner("r1", "s1") == 1
    assert await journey.get("r1", "member", "s1") is None
    assert await journey.delete_owner("r1", "s1") == 0


async def test_delete_room(journey: JourneyStore) -> None:
    await journey.put("r1", rec("member", "s1"))
    await journey.put("r1", rec("plan", "p1"))
    await journey.put("r2", rec("plan", "p1"))
    await journey.session_number("r1", "sess-a")
    await journey.session_number("r2", "sess-a")
    assert await journey.delete_room("r1") == 2
    assert await journey.list("r1", "plan") == []
    assert await journey.get("r1", "member", "s1") is None
    assert await journey.last_session_number("r1") == 0
    assert await journey.session_number("r1", "sess-b") == 1  # the counter went too
    assert await journey.get("r2", "plan", "p1") is not None
    assert await journey.last_session_number("r2") == 1
    assert await journey.delete_room("r1") == 0


async def test_sweep_deletes_old_records_but_keeps_the_roster(journey: JourneyStore) -> None:
    await journey.put("r1", rec("member", "s1", created=1.0))
    await journey.put("r1", rec("plan", "old", created=1.0))
    await journey.put("r1", rec("plan", "edge", created=50.0))
    await journey.put("r1", rec("plan", "new", created=60.0))
    await journey.put("r2", rec("post", "old", created=2.0, owner=None))
    await journey.session_number("r1", "sess-a")
    # A rewrite counts from the new record's created.
    await journey.put("r2", rec("post", "rewritten", created=2.0))
    await journey.put("r2", rec("post", "rewritten", created=70.0))
    assert await journey.sweep(50.0) == 2
    assert await journey.get("r1", "member", "s1") is not None
    assert [r.id for r in await journey.list("r1", "plan")] == ["edge", "new"]
    assert [r.id for r in await journey.list("r2", "post")] == ["rewritten"]
    assert await journey.count("r1", "plan", owner="s1") == 2
    assert await journey.sweep(50.0) == 0  # idempotent
    assert await journey.last_session_number("r1") == 1  # the counter is never swept
    assert await journey.session_number("r1", "sess-b") == 2


async def test_sweep_many(journey: JourneyStore) -> None:
    for i in range(1200):  # more than one batch of the Redis sweep
        await journey.put(f"r{i % 3}", rec("cheer", f"c{i}", created=float(i)))
    assert await journey.sweep(1100.0) == 1100
    assert sum([await journey.count(f"r{i}", "cheer") for i in range(3)]) == 100


async def test_session_numbers(journey: JourneyStore) -> None:
    assert await journey.last_session_number("r1") == 0
    assert await journey.session_number("r1", "a") == 1
    assert await journey.session_number("r1", "a") == 1
    assert await journey.session_number("r1", "b") == 2
    assert await journey.session_number("r1", "a") == 1
    assert await journey.session_number("r2", "a") == 1
    assert await journey.last_session_number("r1") == 2
    assert await journey.last_session_number("r2") == 1


async def test_session_numbers_concurrently(journey: JourneyStore) -> None:
    numbers = await asyncio.gather(*(journey.session_number("r1", f"s{i % 5}") for i in range(40)))
    by_session: dict[str, set[int]] = {}
    for i, number in enumerate(numbers):
        by_session.setdefault(f"s{i % 5}", set()).add(number)
    assert all(len(seen) == 1 for seen in by_session.values())
    assert sorted(next(iter(seen)) for seen in by_session.values()) == [1, 2, 3, 4, 5]
    assert await journey.last_session_number("r1") == 5


async def test_ping(journey: JourneyStore) -> None:
    assert await journey.ping()


@pytest.mark.redis
async def test_redis_unreachable_raises_store_unavailable(redis_server: RedisServer) -> None:
    journey = RedisJourney(client_from_url(redis_server.url), owns_client=True)
    await journey.put("r1", rec("plan", "p1"))
    redis_server.kill()
    assert not await journey.ping()
    for call in (
        journey.put("r1", rec("plan", "p2")),
        journey.add("r1", rec("plan", "p2"), limit=3),
        journey.get("r1", "plan", "p1"),
        journey.list("r1", "plan"),
        journey.count("r1", "plan", owner="s1"),
        journey.delete("r1", "plan", "p1"),
        journey.sweep(1000.0),
        journey.session_number("r1", "a"),
        journey.last_session_number("r1"),
    ):
        with pytest.raises(StoreUnavailable):
            await call
    await journey.close()


@pytest.mark.redis
async def test_redis_sweep_spares_a_kept_kind_even_if_listed_for_the_sweep(redis_server: RedisServer) -> None:
    """A sweep entry for a roster record (written by a version that did not keep that kind yet)
    is dropped, and the record stays."""
    client = client_from_url(redis_server.url)
    journey = RedisJourney(client)
    await journey.put("r1", rec("member", "s1", created=1.0))
    await client.zadd(SWEEP_KEY, {b"r1\0member\0s1": 1.0})
    assert await journey.sweep(50.0) == 0
    assert await journey.get("r1", "member", "s1") is not None
    assert await client.zcard(SWEEP_KEY) == 0
    await client.aclose()

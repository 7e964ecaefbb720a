"""The chat through the live stores, with the real engine: memory and a real Redis.

On Redis the chat is a list of its own next to the state (``hearth:chat:{room}``): a command that
does not read the chat must neither read nor rewrite it, and the state key must not grow with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
import pytest
from redis.asyncio import Redis

from rooms import commands as c
from rooms.backends.memory_directory import MemoryDirectory
from rooms.backends.redis_store import RedisLiveStore
from rooms.errors import CommandError
from rooms.events import ChatDeleted, Delivery
from rooms.model import ChatMessage, ChatNotLoaded, Role, RoomState
from rooms.service import RoomService
from server.protocol import chat_message_id
from tests.backends.live_helpers import CONFIG, Node, RedisWorld, World, encode
from tests.conftest import RedisServer

ROOM = CONFIG.id
LIVE, CHAT = f"hearth:live:{ROOM}", f"hearth:chat:{ROOM}"
LIST_COMMANDS = {"lrange", "lindex", "llen", "lpush", "rpush", "lset", "lrem", "ltrim", "lpos", "lmove"}


async def service_on(node: Node) -> RoomService:
    directory = MemoryDirectory()
    await directory.create(msgspec.structs.replace(CONFIG, lobby=False))
    return RoomService(directory, node.store, node.bus)


def fran_joins(session_id: str) -> c.Join:
    return c.Join(actor="f1", name="Fran", role=Role.FACILITATOR, agree=True, session_id=session_id)


async def session(world: World) -> RoomService:
    """A live session on node "a": facilitator f1, members m1 and m2."""
    service = await service_on(await world.node("a"))
    await service.execute(ROOM, fran_joins("s1"))
    for pid in ("m1", "m2"):
        await service.execute(ROOM, c.Join(actor=pid, name=f"name-{pid}", role=Role.MEMBER, agree=True))
    return service


async def say(service: RoomService, actor: str, text: str, *, private: bool = False) -> None:
    """Post ``text``; its message id is ``id-{text}`` (the server makes random ones)."""
    chat = c.Chat(actor=actor, text=text, message_id=f"id-{text}", to_facilitators=private)
    await service.execute(ROOM, chat)


async def loaded(service: RoomService) -> RoomState:
    state = await service.state(ROOM)
    assert state is not None
    return state


def texts(state: RoomState) -> list[str]:
    return [m.text for m in state.chat]


# Both stores ---------------------------------------------------------------------------------


async def test_chat_survives_other_commands_and_loads(world: World) -> None:
    service = await session(world)
    await say(service, "m1", "one")
    await say(service, "m2", "two", private=True)
    await service.execute(ROOM, c.Hand(actor="m1", raised=True))
    await say(service, "m1", "three")
    await service.execute(ROOM, c.Hand(actor="m1", raised=False))
    state = await loaded(service)
    assert texts(state) == ["one", "two", "three"]
    assert [m.id for m in state.chat] == ["id-one", "id-two", "id-three"]
    assert [m.text for m in state.visible_chat(state.seats["m1"])] == ["one", "three"]
    assert [m.text for m in state.visible_chat(state.seats["m2"])] == ["one", "two", "three"]
    assert [m.text for m in state.visible_chat(state.seats["f1"])] == ["one", "two", "three"]
    other = await service_on(await world.node("b"))  # another node sees the same chat
    assert texts(await loaded(other)) == ["one", "two", "three"]
    await say(other, "m2", "four")
    assert texts(await loaded(service)) == ["one", "two", "three", "four"]
    service.close()


async def test_delete_chat(world: World) -> None:
    service = await session(world)
    await say(service, "m1", "one")
    await say(service, "m2", "two", private=True)
    await say(service, "m1", "three")
    out = await service.execute(ROOM, c.DeleteChat(actor="f1", message_id="id-two"))
    assert [(d.event, sorted(d.to or ())) for d in out] == [(ChatDeleted(id="id-two"), ["f1", "m2"])]
    assert texts(await loaded(service)) == ["one", "three"]
    with pytest.raises(CommandError) as refused:
        await service.execute(ROOM, c.DeleteChat(actor="f1", message_id="id-two"))
    assert refused.value.code == "invalid_target"
    await say(service, "m1", "four")
    out = await service.execute(ROOM, c.DeleteChat(actor="f1", message_id="id-one"))
    assert [type(d.event) for d in out] == [ChatDeleted] and out[0].to is None
    state = await loaded(service)
    assert texts(state) == ["three", "four"] and [m.id for m in state.chat] == ["id-three", "id-four"]
    await say(service, "m2", "five")
    assert texts(await loaded(service)) == ["three", "four", "five"]
    service.close()


async def test_delete_chat_by_the_ids_the_server_makes(world: World) -> None:
    """The server's random ids (``protocol.chat_message_id``) go through the store unchanged."""
    service = await session(world)
    ids = [chat_message_id() for _ in range(3)]
    for message_id, (actor, private) in zip(ids, [("m1", False), ("m2", True), ("m1", False)], strict=True):
        await service.execute(
            ROOM, c.Chat(actor=actor, text=message_id, message_id=message_id, to_facilitators=private)
        )
    state = await loaded(service)
    assert [m.id for m in state.chat] == [m.text for m in state.chat] == ids
    await service.execute(ROOM, c.DeleteChat(actor="f1", message_id=ids[1]))
    await service.execute(ROOM, c.DeleteChat(actor="f1", message_id=ids[0]))
    assert [m.id for m in (await loaded(service)).chat] == [ids[2]]
    service.close()


async def test_a_state_loaded_without_its_chat(world: World) -> None:
    service = await session(world)
    await say(service, "m1", "one")
    await say(service, "m1", "two")
    state = await (await world.node("a")).store.load(ROOM, with_chat=False)
    assert state is not None and set(state.seats) == {"f1", "m1", "m2"} and state.chat.total == 2
    if state.chat.loaded:  # memory: it costs nothing to give it
        assert texts(state) == ["one", "two"]
    else:
        with pytest.raises(ChatNotLoaded):
            texts(state)
    service.close()


async def test_the_end_of_the_session_takes_the_chat(world: World) -> None:
    service = await session(world)
    await say(service, "m1", "one")
    await service.execute(ROOM, c.EndSession(actor="f1"))
    assert await service.state(ROOM) is None
    assert await (await world.node("a")).store.room_ids() == []
    await service.execute(ROOM, fran_joins("s2"))
    await say(service, "f1", "new session")
    state = await loaded(service)
    assert texts(state) == ["new session"] and state.chat[0].id == "id-new session"
    service.close()


async def test_chats_and_deletions_from_two_nodes_at_once(world: World) -> None:
    a, b = await session(world), await service_on(await world.node("b"))
    await say(a, "m1", "first")
    chats = [say(a, "m1", f"a{n}") for n in range(25)] + [say(b, "m2", f"b{n}") for n in range(25)]
    deletion = b.execute(ROOM, c.DeleteChat(actor="f1", message_id="id-first"))
    await asyncio.wait_for(asyncio.gather(*chats[:10], deletion, *chats[10:]), 30)
    state = await loaded(a)
    assert sorted(texts(state)) == sorted([f"a{n}" for n in range(25)] + [f"b{n}" for n in range(25)])
    assert [m.id for m in state.chat] == [f"id-{text}" for text in texts(state)], "each id with its message"
    assert [t for t in texts(state) if t.startswith("a")] == [f"a{n}" for n in range(25)]
    a.close()
    b.close()


# Redis: the chat list next to the state ------------------------------------------------------------

redis_only = pytest.mark.redis


@pytest.fixture
async def redis_world(redis_server: RedisServer) -> AsyncIterator[RedisWorld]:
    made = RedisWorld(redis_server.url, ttl_seconds=5.0)
    yield made
    await made.close()


async def list_commands(client: Redis) -> set[str]:
    """The list commands Redis ran since the last call (``CONFIG RESETSTAT``)."""
    stats = await client.info("commandstats")
    await client.config_resetstat()
    return {name.removeprefix("cmdstat_") for name in stats} & LIST_COMMANDS


@redis_only
async def test_only_commands_that_read_the_chat_read_the_list(redis_world: RedisWorld, client: Redis) -> None:
    service = await session(redis_world)
    for n in range(5):
        await say(service, "m1", f"message {n}")
    stored = await client.lrange(CHAT, 0, -1)
    await list_commands(client)

    await service.execute(ROOM, c.Hand(actor="m1", raised=True))
    await service.execute(ROOM, c.Hand(actor="m1", raised=False))
    await service.execute(ROOM, c.Lock(actor="f1", locked=True))
    assert await list_commands(client) == set(), "a command that does not touch the chat"
    assert await client.lrange(CHAT, 0, -1) == stored
    await client.config_resetstat()  # forget the test's own LRANGE

    await say(service, "m2", "appended")
    assert await list_commands(client) == {"rpush"}, "a message is appended, nothing is read"
    await service.execute(ROOM, c.DeleteChat(actor="f1", message_id="id-message 1"))
    assert await list_commands(client) == {"lrange", "lset"}, "a deletion reads and overwrites one entry"
    assert (await client.lrange(CHAT, 0, -1))[1] == b"", "the deleted text is gone from Redis"
    assert await client.llen(CHAT) == 6
    await client.config_resetstat()

    store = (await redis_world.node("a")).store
    assert (await store.load(ROOM, with_chat=False)) is not None
    assert await list_commands(client) == set()
    assert len((await store.load(ROOM)).chat) == 5  # type: ignore[union-attr]
    assert await list_commands(client) == {"lrange"}
    service.close()


@redis_only
async def test_the_state_key_does_not_grow_with_the_chat(redis_world: RedisWorld, client: Redis) -> None:
    """What each command reads and writes (the state key) stays the same size however long the
    chat: the regression check for per-command cost growing with the session's chat."""
    service = await session(redis_world)
    for n in range(20):
        await say(service, "m1", f"an ordinary message, number {n}")
    small = await client.strlen(LIVE)
    for n in range(480):
        await say(service, "m1", f"an ordinary message, number {n}")
    assert await client.llen(CHAT) == 500, "as many as the default cap holds"
    # seq, the chat counter and the number of entries take a few more bytes each past 127
    assert await client.strlen(LIVE) <= small + 8
    service.close()


@redis_only
async def test_the_chat_list_expires_with_the_state(redis_world: RedisWorld, client: Redis) -> None:
    service = await session(redis_world)
    await say(service, "m1", "one")
    ttl_ms = 5000
    assert 0 < await client.pttl(CHAT) <= ttl_ms
    assert abs(await client.pttl(CHAT) - await client.pttl(LIVE)) < 100
    await client.pexpire(CHAT, 1000)
    await service.execute(ROOM, c.Hand(actor="m1", raised=True))  # every write of the state...
    assert await client.pttl(CHAT) > 4000, "...sets the chat list's TTL too"
    await client.pexpire(CHAT, 1000)
    await client.pexpire(LIVE, 1000)
    store = (await redis_world.node("a")).store
    assert isinstance(store, RedisLiveStore)
    await store.touch([ROOM])
    assert await client.pttl(CHAT) > 4000 and await client.pttl(LIVE) > 4000
    await service.execute(ROOM, c.EndSession(actor="f1"))
    assert [key async for key in client.scan_iter(f"hearth:*{ROOM}*")] == []
    service.close()


@redis_only
async def test_a_step_that_reads_the_chat_is_run_again_once(redis_world: RedisWorld) -> None:
    store = (await redis_world.node("a")).store
    runs: list[bool] = []

    def reads_chat(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
        assert state is not None
        runs.append(state.chat.loaded)
        list(state.chat)
        return state, []

    await store.apply(ROOM, lambda state: (RoomState(room=CONFIG), []), encode)
    await store.apply(ROOM, lambda state: (_with_a_message(state), []), encode)
    await store.apply(ROOM, reads_chat, encode)
    assert runs == [False, True]

    def never_loaded(state: RoomState | None) -> tuple[RoomState | None, list[Delivery]]:
        raise ChatNotLoaded("a bug")

    with pytest.raises(ChatNotLoaded):  # a bug, not an endless loop
        await store.apply(ROOM, never_loaded, encode)


def _with_a_message(state: RoomState | None) -> RoomState:
    assert state is not None
    new = state.clone()
    new.chat = new.chat.with_message(ChatMessage(id="m1", sender="p1", name="Ana", text="hi", ts=1.0))
    return new


@redis_only
async def test_a_state_with_its_chat_inside_still_works(redis_world: RedisWorld, client: Redis) -> None:
    """A live state written before the chat had its own list (an upgrade during a session)."""
    service = await session(redis_world)
    state = await loaded(service)
    old_message = {"id": "m4", "from": "m1", "name": "Ana", "text": "old", "ts": 1.0, "private": False}
    old_format = msgspec.structs.asdict(state) | {"chat": [old_message], "chat_counter": 4}
    await client.set(LIVE, msgspec.msgpack.encode(old_format))
    await say(service, "m1", "new")
    state = await loaded(service)
    assert texts(state) == ["new"] and state.chat[0].id == "id-new", "the old messages are dropped"
    service.close()


async def test_the_chat_stays_within_its_caps(world: World) -> None:
    """Past a cap the oldest messages leave (a ring); the rest read back, deletions still work,
    on every node."""
    service = await session(world)
    for n in range(60):
        chat = c.Chat(actor="m1", text=f"message {n}", message_id=f"m{n}", max_messages=20, max_bytes=10**6)
        await service.execute(ROOM, chat)
        state = await loaded(service)
        assert state.chat.held <= 20
    state = await loaded(service)
    assert texts(state)[-1] == "message 59" and texts(state) == [
        f"message {n}" for n in range(60 - len(texts(state)), 60)
    ]
    oldest = state.chat[0].id
    await service.execute(ROOM, c.DeleteChat(actor="f1", message_id=oldest))
    other = await service_on(await world.node("b"))
    assert texts(await loaded(other)) == texts(state)[1:]
    for _n in range(40):
        chat = c.Chat(actor="m2", text="z" * 1000, message_id=f"z{_n}", max_messages=500, max_bytes=8000)
        await service.execute(ROOM, chat)
    state = await loaded(other)
    assert state.chat.size <= 8_000 and texts(state)[-1] == "z" * 1_000 and len(texts(state)) >= 6
    assert state.chat.size == sum(len(m.text) + len(m.name) for m in state.chat)
    service.close()
    other.close()


@redis_only
async def test_the_chat_list_is_trimmed_with_the_state(redis_world: RedisWorld, client: Redis) -> None:
    service = await session(redis_world)
    for n in range(50):
        chat = c.Chat(actor="m1", text=f"message {n}", message_id=f"m{n}", max_messages=20, max_bytes=10**6)
        await service.execute(ROOM, chat)
    state = await loaded(service)
    assert await client.llen(CHAT) == state.chat.held <= 20
    assert texts(state) == [f"message {n}" for n in range(50 - state.chat.held, 50)]
    service.close()

"""server/requests.py, the message handling, with a real node on the memory backends and no
socket: the dispatch table serves every declared message, repeated ``sync`` requests coalesce into
one snapshot built from the latest state, and ``chat_history`` pages hold only what the asker may
read. The one stand-in is the socket itself: a ``Connection`` gets an ASGI ``send`` that records
(and can hold) what it writes, as the real-server tests get from uvicorn."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rooms import commands as c
from rooms.backends.memory_bus import MemoryBus
from rooms.backends.memory_directory import MemoryDirectory
from rooms.backends.memory_presence import MemoryPresence
from rooms.backends.memory_store import MemoryLiveStore
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.service import RoomService
from server import protocol, requests
from server.config import Settings
from server.connection import Connection
from server.hub import Hub
from server.node import Node
from tests.polling import eventually
from tests.rooms.engine_helpers import config, fjoin, join

ROOM = "room-1"


@dataclass
class Socket:
    """The ASGI side of one connection: what was written, and a gate that can hold writes."""

    sent: list[MutableMapping[str, Any]] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    views: list[str] = field(default_factory=list)  # the welcome/snapshot builds asked for

    async def send(self, message: MutableMapping[str, Any]) -> None:
        await self.gate.wait()
        self.sent.append(message)

    async def receive(self) -> MutableMapping[str, Any]:
        raise AssertionError("nothing reads in these tests")

    def frames(self, kind: str | None = None) -> list[dict[str, Any]]:
        texts = [json.loads(m["text"]) for m in self.sent if m["type"] == "websocket.send"]
        return [t for t in texts if kind is None or t.get("type") == kind]


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    bus = MemoryBus()
    directory = MemoryDirectory()
    service = RoomService(directory, MemoryLiveStore(bus), bus)
    await directory.create(config(lobby=True))
    presence = MemoryPresence()
    settings = Settings(
        data_dir=tmp_path, secret="s" * 32, chat_page=3, max_chat_chars=20, chat_max_messages=10
    )
    yield Node(settings, service, Hub(bus, presence), presence, "local")


async def session(node: Node) -> None:
    """Facilitator f1, admitted members m1 and m2, and w1 waiting in the lobby."""
    await node.service.execute(ROOM, fjoin("f1"))
    for pid in ("m1", "m2"):
        await node.service.execute(ROOM, join(pid))
        await node.service.execute(ROOM, c.Admit(actor="f1", target=pid))
    await node.service.execute(ROOM, join("w1"))


def connect(node: Node, pid: str, *, open_gate: bool = True) -> tuple[Connection, Socket]:
    socket = Socket()
    if open_gate:
        socket.gate.set()

    async def views(room_id: str, who: str, conn_id: str, kind: str) -> tuple[str, int] | None:
        socket.views.append(kind)
        return await node.views(room_id, who, conn_id, kind)

    conn = Connection(socket.send, socket.receive, node.settings, views, f"conn-{pid}")
    conn.room_id, conn.pid, conn.admitted = ROOM, pid, pid != "w1"
    return conn, socket


async def handle(node: Node, conn: Connection, frame: dict[str, Any]) -> None:
    await requests.handle_message(conn, node, protocol.decode(json.dumps(frame)))


def test_the_dispatch_table_serves_every_declared_message() -> None:
    assert set(requests._DISPATCH) == {route.message for route in protocol.ROUTES.values()}
    for wire, route in protocol.ROUTES.items():
        handler = requests._DISPATCH[route.message]
        if wire in requests.SERVER_HANDLERS:
            assert handler is requests.SERVER_HANDLERS[wire], wire
        else:  # a room command with nothing more to it than the engine
            assert route.command is not None, f"{wire}: no command and no server handler"
            assert handler is requests._command, wire


async def test_repeated_syncs_coalesce_into_one_snapshot_of_the_latest_state(node: Node) -> None:
    await session(node)
    conn, socket = connect(node, "m1", open_gate=False)
    conn.reply(protocol.PONG)  # the socket is busy writing this: what comes next waits
    for _ in range(5):
        await handle(node, conn, {"type": "sync"})
    # A change after the requests: the snapshot built when the writer gets there includes it.
    await node.service.execute(ROOM, c.Lock(actor="f1", locked=True))
    socket.gate.set()
    await eventually(lambda: socket.frames("snapshot"), "the snapshot")
    await conn.stop()
    assert socket.views == ["snapshot"]  # built once for five requests
    [snapshot] = socket.frames("snapshot")
    assert snapshot["locked"] is True


async def test_sync_in_the_lobby_answers_with_the_lobby_state(node: Node) -> None:
    await session(node)
    conn, socket = connect(node, "w1")
    await handle(node, conn, {"type": "sync"})
    await conn.stop()
    assert socket.frames() == [{"type": "lobby", "state": "waiting_for_admission"}]
    assert socket.views == []


async def test_sync_from_someone_no_longer_seated_is_session_ended(node: Node) -> None:
    await session(node)
    conn, _ = connect(node, "gone")
    with pytest.raises(CommandError) as refused:
        await handle(node, conn, {"type": "sync"})
    assert refused.value.code == ErrorCode.SESSION_ENDED


async def chat(node: Node, pid: str, text: str, *, private: bool = False) -> None:
    conn, _ = connect(node, pid)
    frame: dict[str, Any] = {"type": "chat", "text": text}
    if private:
        frame["to"] = "facilitators"
    await handle(node, conn, frame)
    await conn.stop()


async def history(node: Node, pid: str, **paging: Any) -> dict[str, Any]:
    conn, socket = connect(node, pid)
    await handle(node, conn, {"type": "chat_history", "id": 9, **paging})
    await conn.stop()
    [page] = socket.frames("chat_history")
    return page


async def test_chat_history_holds_only_what_the_asker_may_read(node: Node) -> None:
    await session(node)
    await chat(node, "m1", "public one")
    await chat(node, "m2", "to the facilitators", private=True)
    await chat(node, "m1", "public two")

    def texts(page: dict[str, Any]) -> list[str]:
        return [m["text"] for m in page["messages"]]

    assert texts(await history(node, "m1")) == ["public one", "public two"]
    assert texts(await history(node, "m2")) == ["public one", "to the facilitators", "public two"]
    assert texts(await history(node, "f1")) == ["public one", "to the facilitators", "public two"]


async def test_chat_history_never_pages_from_a_message_the_asker_cannot_read(node: Node) -> None:
    await session(node)
    await chat(node, "m2", "private", private=True)
    private_id = (await history(node, "f1"))["messages"][0]["id"]
    conn, _ = connect(node, "m1")
    with pytest.raises(CommandError) as refused:  # the same answer as for no such message
        await handle(node, conn, {"type": "chat_history", "before": private_id})
    assert refused.value.code == ErrorCode.INVALID_TARGET


async def test_chat_history_is_capped_by_the_page_size_and_says_whether_more_remain(node: Node) -> None:
    await session(node)
    for n in range(5):
        await chat(node, "m1", f"message {n}")
    first = await history(node, "m1", limit=100)  # more than the node's page of 3
    assert [m["text"] for m in first["messages"]] == ["message 2", "message 3", "message 4"]
    assert first["more"] is True and first["ref"] == 9
    older = await history(node, "m1", before=first["messages"][0]["id"])
    assert [m["text"] for m in older["messages"]] == ["message 0", "message 1"]
    assert older["more"] is False


async def test_chat_history_is_refused_in_the_lobby(node: Node) -> None:
    await session(node)
    await chat(node, "m1", "not for the lobby")
    conn, socket = connect(node, "w1")
    with pytest.raises(CommandError) as refused:
        await handle(node, conn, {"type": "chat_history"})
    assert refused.value.code == ErrorCode.FORBIDDEN and socket.sent == []


async def test_chat_carries_this_nodes_limits_to_the_engine(node: Node) -> None:
    """The node's chat length and ring size (``HEARTH_MAX_CHAT_CHARS``, ``HEARTH_CHAT_MAX_MESSAGES``)
    hold, not the engine's defaults."""
    await session(node)
    await chat(node, "m1", "x" * 20)
    with pytest.raises(CommandError) as refused:
        await chat(node, "m1", "x" * 21)
    assert refused.value.code == ErrorCode.TOO_LARGE
    for n in range(12):
        await chat(node, "m1", f"n{n}")
    state = await node.service.state(ROOM)
    assert state is not None
    kept = [m.text for m in state.chat_page(state.seats["m1"], 100)[0]]
    assert len(kept) <= 10 and kept[-1] == "n11" and "n0" not in kept  # the oldest left the ring

"""server/hub.py with the memory bus and presence (rooms/backends/memory_*.py), no sockets: who
gets a frame (every admitted connection, or only the one named), joins that wait (pending) get
nothing but their own frames, a seat taken by a newer socket closes the old one with 4009, and
attach/detach keep the bus subscription and presence in step.

The connections are a small recording fake of the hub's ``Connection`` protocol: a real
``server.connection.Connection`` needs a live websocket (the real-server tests cover it)."""

from __future__ import annotations

import pytest

from rooms.backends.base import Frame, StoreUnavailable
from rooms.backends.memory_bus import MemoryBus
from rooms.backends.memory_presence import MemoryPresence
from rooms.codes import Close
from server.acks import ACK
from server.hub import Hub

ROOM = "room1"


class FakeConnection:
    """Records what the hub does to it."""

    def __init__(self, conn_id: str, pid: str, *, admitted: bool = True) -> None:
        self.conn_id = conn_id
        self.pid = pid
        self.admitted = admitted
        self.got: list[str] = []
        self.closed: list[int] = []
        self.resyncs = 0

    def push(self, frame: Frame, text: str) -> None:
        self.got.append(text)

    def close_soon(self, code: int) -> None:
        self.closed.append(code)

    def resync(self) -> None:
        self.resyncs += 1


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
def presence() -> MemoryPresence:
    return MemoryPresence("node-a")


@pytest.fixture
def hub(bus: MemoryBus, presence: MemoryPresence) -> Hub:
    return Hub(bus, presence)


async def seated(hub: Hub, conn: FakeConnection) -> FakeConnection:
    """``conn`` joined and was accepted: it holds its participant's seat on this node."""
    await hub.prepare(ROOM, conn.pid, conn)
    assert hub.accepted(ROOM, conn.pid, conn)
    return conn


def frame(text: str, to: tuple[str, ...] | None = None, conn: str = "", kind: str = "chat") -> Frame:
    return Frame(text.encode(), to, 0, None, None, kind, 0.0, conn)


async def test_a_room_frame_goes_to_every_admitted_connection_only(hub: Hub, bus: MemoryBus) -> None:
    ann = await seated(hub, FakeConnection("c1", "ann"))
    bob = await seated(hub, FakeConnection("c2", "bob"))
    waiting = await seated(hub, FakeConnection("c3", "cal", admitted=False))  # in the lobby
    pending = FakeConnection("c4", "dee")
    await hub.prepare(ROOM, "dee", pending)  # joining, not accepted yet
    bus.deliver(ROOM, [frame("everyone")])
    assert ann.got == ["everyone"] and bob.got == ["everyone"]
    assert waiting.got == [] and pending.got == []


async def test_a_targeted_frame_goes_only_to_the_named_participants(hub: Hub, bus: MemoryBus) -> None:
    ann = await seated(hub, FakeConnection("c1", "ann"))
    bob = await seated(hub, FakeConnection("c2", "bob"))
    cal = await seated(hub, FakeConnection("c3", "cal", admitted=False))
    bus.deliver(ROOM, [frame("to ann", ("ann",)), frame("to cal", ("cal", "nobody"))])
    assert ann.got == ["to ann"] and bob.got == [] and cal.got == ["to cal"]  # a targeted lobby frame


async def test_a_frame_for_a_seats_connection_reaches_that_connection_only(hub: Hub, bus: MemoryBus) -> None:
    ann = await seated(hub, FakeConnection("c1", "ann"))
    newer = FakeConnection("c2", "ann")
    await hub.prepare(ROOM, "ann", newer)  # Ann's second socket, trying to resume
    bus.deliver(ROOM, [frame("for the seat", ("ann",))])  # no connection named: the seat's holder
    assert ann.got == ["for the seat"] and newer.got == []
    bus.deliver(ROOM, [frame("old socket", ("ann",), conn="c1")])
    assert ann.got[-1] == "old socket" and newer.got == [] and ann.closed == []


async def test_a_pending_join_gets_its_own_frames_and_takes_the_seat_closing_the_old_socket_4009(
    hub: Hub, bus: MemoryBus
) -> None:
    old = await seated(hub, FakeConnection("c1", "ann"))
    newer = FakeConnection("c2", "ann")
    await hub.prepare(ROOM, "ann", newer)
    bus.deliver(ROOM, [frame("welcome", ("ann",), conn="c2", kind="welcome")])
    assert newer.got == ["welcome"] and old.got == []
    assert old.closed == [Close.REPLACED]
    assert hub.connection(ROOM, "ann") is newer
    bus.deliver(ROOM, [frame("next", ("ann",))])
    assert newer.got == ["welcome", "next"] and old.got == []


async def test_a_pending_connection_never_gets_frames_for_the_participant_it_claims(
    hub: Hub, bus: MemoryBus
) -> None:
    impostor = FakeConnection("c9", "ann")
    await hub.prepare(ROOM, "ann", impostor)  # nobody holds Ann's seat here yet
    bus.deliver(ROOM, [frame("private", ("ann",)), frame("everyone")])
    assert impostor.got == []
    # A frame for the connection id of someone else's pending socket is not delivered either.
    bus.deliver(ROOM, [frame("for c9 as bob", ("bob",), conn="c9")])
    assert impostor.got == []


async def test_a_seat_taken_on_another_node_closes_the_local_socket_4009(hub: Hub, bus: MemoryBus) -> None:
    ann = await seated(hub, FakeConnection("c1", "ann"))
    bus.deliver(ROOM, [frame("welcome elsewhere", ("ann",), conn="c-other-node", kind="welcome")])
    assert ann.got == [] and ann.closed == [Close.REPLACED]


async def test_an_ack_reaches_the_exact_socket_and_changes_no_seat(hub: Hub, bus: MemoryBus) -> None:
    old = await seated(hub, FakeConnection("c1", "ann"))
    newer = FakeConnection("c2", "ann")
    await hub.prepare(ROOM, "ann", newer)
    bus.deliver(ROOM, [frame("ack for c2", ("ann",), conn="c2", kind=ACK)])
    assert newer.got == ["ack for c2"] and old.got == [] and old.closed == []
    assert hub.connection(ROOM, "ann") is old  # still the seat's holder
    bus.deliver(ROOM, [frame("ack for a socket gone", ("ann",), conn="c7", kind=ACK)])
    assert old.closed == [] and old.got == [] and newer.got == ["ack for c2"]


async def test_prepare_subscribes_once_and_attaches_presence(
    hub: Hub, bus: MemoryBus, presence: MemoryPresence
) -> None:
    ann, bob = FakeConnection("c1", "ann"), FakeConnection("c2", "bob")
    await hub.prepare(ROOM, "ann", ann)
    await hub.prepare(ROOM, "bob", bob)
    assert len(bus._handlers[ROOM]) == 1  # one subscription per room on this node
    assert await presence.where(ROOM, "ann", "c1") == "node-a"
    assert hub.holds(ROOM, "ann", "c1") and not hub.holds(ROOM, "ann", "c2")
    assert hub.connection(ROOM, "ann") is None  # pending: no seat yet


async def test_detach_forgets_the_socket_and_unsubscribes_when_the_room_is_empty(
    hub: Hub, bus: MemoryBus, presence: MemoryPresence
) -> None:
    ann = await seated(hub, FakeConnection("c1", "ann"))
    pending = FakeConnection("c2", "bob")
    await hub.prepare(ROOM, "bob", pending)
    assert await hub.detach(ROOM, "ann", ann)  # it held the seat
    assert not await hub.detach(ROOM, "bob", pending)  # pending: held none
    assert await presence.where(ROOM, "ann", "c1") is None
    assert await presence.where(ROOM, "bob", "c2") is None
    assert ROOM not in hub.rooms and ROOM not in bus._handlers
    assert not await hub.detach(ROOM, "ann", ann)  # twice: nothing more


async def test_detaching_a_replaced_socket_keeps_the_newer_ones_seat_and_presence(
    hub: Hub, presence: MemoryPresence
) -> None:
    old = await seated(hub, FakeConnection("c1", "ann"))
    newer = await seated(hub, FakeConnection("c2", "ann"))
    assert old.closed == [Close.REPLACED]
    assert not await hub.detach(ROOM, "ann", old)
    assert hub.connection(ROOM, "ann") is newer
    assert await presence.where(ROOM, "ann", "c2") == "node-a"
    assert await presence.where(ROOM, "ann", "c1") is None


async def test_accepted_is_false_for_a_connection_no_longer_here(hub: Hub) -> None:
    conn = FakeConnection("c1", "ann")
    assert not hub.accepted(ROOM, "ann", conn)  # no room here
    await hub.prepare(ROOM, "ann", conn)
    other = FakeConnection("c2", "bob")
    await hub.prepare(ROOM, "bob", other)
    await hub.detach(ROOM, "ann", conn)
    assert not hub.accepted(ROOM, "ann", conn)
    assert hub.accepted(ROOM, "bob", other) and hub.accepted(ROOM, "bob", other)  # idempotent


async def test_prepare_refuses_while_the_bus_is_away_and_changes_nothing(
    hub: Hub, bus: MemoryBus, presence: MemoryPresence
) -> None:
    bus.available = False
    with pytest.raises(StoreUnavailable):
        await hub.prepare(ROOM, "ann", FakeConnection("c1", "ann"))
    assert hub.rooms == {} and await presence.where(ROOM, "ann", "c1") is None


async def test_a_failing_presence_undoes_the_prepare(
    hub: Hub, bus: MemoryBus, presence: MemoryPresence
) -> None:
    async def away(room_id: str, pid: str, conn: str) -> None:
        raise StoreUnavailable("away")

    presence.attach = away  # type: ignore[method-assign]
    with pytest.raises(StoreUnavailable):
        await hub.prepare(ROOM, "ann", FakeConnection("c1", "ann"))
    assert hub.rooms == {} and ROOM not in bus._handlers


async def test_resync_asks_every_seated_connection_for_a_snapshot(hub: Hub) -> None:
    ann = await seated(hub, FakeConnection("c1", "ann"))
    pending = FakeConnection("c2", "bob")
    await hub.prepare(ROOM, "bob", pending)
    hub.resync()
    assert (ann.resyncs, pending.resyncs) == (1, 0)
    assert hub.connections() == [ann]

"""The browser's negotiation scheme between two Python meshes, wired directly (no server): glare,
the polite side's fallback offer, and a new connection from one side replacing the other's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from server.peers import LocalMedia
from server.peers import negotiation as negotiation_module
from server.peers.mesh import Mesh
from server.peers.receive import Receiver
from tests.peers.conftest import SMALL
from tests.polling import eventually

POLITE, IMPOLITE = "p0000000000000001", "p0000000000000002"  # the id that sorts first is polite


class Switchboard:
    """Delivers each signal to the other mesh soon after, in order (like the server's relay);
    ``drop`` can lose chosen signals."""

    def __init__(self) -> None:
        self.meshes: dict[str, Mesh] = {}
        self.receivers: dict[str, Receiver] = {}
        self.drop: Callable[[dict[str, Any]], bool] = lambda data: False

    def add(self, self_id: str) -> Mesh:
        async def send_to(remote_id: str, data: dict[str, Any]) -> None:
            if not self.drop(data):
                asyncio.get_running_loop().call_soon(self.meshes[remote_id].handle_signal, self_id, data)

        receiver = Receiver()
        mesh = Mesh(send_to, LocalMedia(**SMALL), receiver)
        mesh.reset(self_id, [], "all")
        self.meshes[self_id], self.receivers[self_id] = mesh, receiver
        return mesh

    def frames(self, at: str, sender: str) -> int:
        media = self.receivers[at].media.get(sender)
        return media.frames if media else 0

    async def both_ways(self) -> None:
        """Video flows both ways, and keeps flowing."""
        start = {(a, b): self.frames(a, b) for a, b in ((POLITE, IMPOLITE), (IMPOLITE, POLITE))}
        await eventually(
            lambda: all(self.frames(a, b) > n + 5 for (a, b), n in start.items()),
            "video both ways",
            timeout=20,
        )

    async def close(self) -> None:
        for self_id, mesh in self.meshes.items():
            await mesh.close()
            await self.receivers[self_id].close()
            mesh.media.stop()


@pytest.fixture
async def board() -> AsyncIterator[Switchboard]:
    switchboard = Switchboard()
    yield switchboard
    await asyncio.wait_for(switchboard.close(), 15)


async def test_colliding_offers_the_polite_side_starts_over_and_answers(board: Switchboard) -> None:
    polite, impolite = board.add(POLITE), board.add(IMPOLITE)
    a = polite.create_link(IMPOLITE, None, spontaneous=False)
    b = impolite.create_link(POLITE, None, spontaneous=False)
    first_pc, their_pc = a.pc, b.pc
    for link in (a, b):  # both offer at once
        link.jobs.put_nowait(link._offer_with_tracks)

    await board.both_ways()
    assert polite.links[IMPOLITE] is a and impolite.links[POLITE] is b
    assert a.pc is not first_pc, "the polite side answered on a fresh connection"
    assert b.pc is their_pc, "the impolite side kept its own offer"


async def test_the_polite_side_offers_when_no_offer_comes(
    board: Switchboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(negotiation_module, "POLITE_FALLBACK_SECONDS", 0.3)
    board.drop = lambda data: bool(data.get("hello"))  # the other side never hears the hello
    polite = board.add(POLITE)
    board.add(IMPOLITE)
    polite.reconcile([{"id": IMPOLITE, "connected": True}])

    await board.both_ways()


async def test_a_new_connection_from_one_side_replaces_the_other_sides(board: Switchboard) -> None:
    polite, impolite = board.add(POLITE), board.add(IMPOLITE)
    polite.reconcile([{"id": IMPOLITE, "connected": True}])
    impolite.reconcile([{"id": POLITE, "connected": True}])
    await board.both_ways()
    old = impolite.links[POLITE]

    fresh = polite.create_link(IMPOLITE, None, spontaneous=True)  # what a stuck connection does

    await eventually(lambda: impolite.links[POLITE] is not old, "the other side to start over", timeout=5)
    assert impolite.links[POLITE].remote_tag == fresh.tag
    await board.both_ways()
    assert fresh.pc.connectionState == "connected"

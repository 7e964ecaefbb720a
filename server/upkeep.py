"""Background upkeep of one node: liveness, session TTLs, the clock's backstop, orphaned seats.

Every ``interval`` seconds a node says it is alive, refreshes the time-to-live of the rooms it
serves (so a session's live state and presence outlive its last node by at most the grace
period), and looks at every live room: a turn or grace deadline that passed gets its ``Tick``
(the room timers of whichever node last changed the room normally do this; this is the
backstop when that node died), and seats still marked connected whose socket no live node
holds (their node was killed, or their socket closed here while the store was away) are
disconnected, which starts their grace period. It also starts the journey's retention sweeper
(``server/retention.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from rooms.backends.base import StoreUnavailable
from rooms.commands import Disconnect
from rooms.errors import CommandError
from server.node import Node
from server.retention import run_retention

log = logging.getLogger("hearth.upkeep")


async def upkeep_once(node: Node, others: bool = True) -> None:
    """One round. ``others``: also judge other nodes' liveness (false while their alive keys may
    be missing only because the store was away)."""
    service = node.service
    await node.presence.heartbeat()
    held = list(node.hub.rooms)
    await service.store.touch(held)
    await node.presence.touch(held)
    for room_id in await service.store.room_ids():
        state = await service.store.load(room_id, with_chat=False)
        if state is None:
            continue
        deadline = service.deadline(state)
        if deadline is not None and deadline <= time.time():
            with contextlib.suppress(CommandError):
                await service.execute(room_id, service.tick())
        connected = [(s.id, s.conn) for s in state.seats.values() if s.person.connected]
        lost = await node.presence.orphans(room_id, connected) if connected and others else []
        lost += await _unheld(node, room_id, [seat for seat in connected if seat[0] not in lost])
        for pid in lost:
            with contextlib.suppress(CommandError):
                await service.execute(room_id, Disconnect(actor=pid, conn=state.seats[pid].conn))
                log.info("orphaned seat disconnected", extra={"room": room_id, "participant": pid})


async def _unheld(node: Node, room_id: str, seats: list[tuple[str, str]]) -> list[str]:
    """Seats said to be held by this node that it holds no socket of: the socket closed while
    the store was away, so neither its presence entry nor its disconnection could be written.
    A socket whose join was accepted but not yet promoted here still counts as held: presence
    was written before the join ran, so an accepted seat is never without its entry."""
    unheld = []
    for pid, conn in seats:
        if node.hub.holds(room_id, pid, conn):
            continue
        if await node.presence.where(room_id, pid, conn) == node.node_id:
            unheld.append(pid)
    return unheld


async def run_upkeep(node: Node, interval: float) -> None:
    # Every node's alive key may expire during a store outage longer than its TTL: until the
    # others have had the time to renew theirs (after an outage, or this node's start), their
    # participants are not taken for orphans.
    settle = node.presence.alive_ttl + interval
    trust_others_at = time.monotonic() + settle
    # The journey's retention sweeper: its own task, so that a long sweep never delays a beat.
    settings = node.settings
    retention = asyncio.create_task(
        run_retention(node.journey, settings.retention_days, settings.retention_sweep_seconds)
    )
    try:
        while True:
            try:
                await upkeep_once(node, others=time.monotonic() >= trust_others_at)
            except StoreUnavailable:
                # the store is away: commands answer `unavailable` meanwhile; try again later
                trust_others_at = time.monotonic() + settle
            except Exception:
                log.exception("upkeep failed")
            await asyncio.sleep(interval)
    finally:
        retention.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await retention

"""Background upkeep of one node: liveness, session TTLs, the clock's backstop, orphaned seats.

Every ``interval`` seconds a node says it is alive, refreshes the time-to-live of the rooms it
serves (so a session's live state outlives its last node by at most the grace period), and
looks at every live room: a turn or grace deadline that passed gets its ``Tick`` (the room
timers of whichever node last changed the room normally do this; this is the backstop when that
node died), and seats still marked connected whose socket no live node holds (their node was
killed) are disconnected, which starts their grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from rooms import engine
from rooms.backends.base import StoreUnavailable
from rooms.commands import Disconnect, Tick
from rooms.errors import CommandError
from server.node import Node

log = logging.getLogger("hearth.upkeep")


async def upkeep_once(node: Node) -> None:
    service = node.service
    await node.presence.heartbeat()
    touch = getattr(service.store, "touch", None)
    if touch is not None:
        await touch(list(node.hub.rooms))
    for room_id in await service.store.room_ids():
        state = await service.store.load(room_id)
        if state is None:
            continue
        deadline = engine.next_deadline(state, service.grace_seconds)
        if deadline is not None and deadline <= time.time():
            with contextlib.suppress(CommandError):
                await service.execute(room_id, Tick(grace_seconds=service.grace_seconds))
        connected = [s.id for s in state.seats.values() if s.person.connected]
        for pid in await node.presence.orphans(room_id, connected) if connected else []:
            with contextlib.suppress(CommandError):
                await service.execute(room_id, Disconnect(actor=pid, conn=state.seats[pid].conn))
                log.info("orphaned seat disconnected", extra={"room": room_id, "participant": pid})


async def run_upkeep(node: Node, interval: float) -> None:
    while True:
        try:
            await upkeep_once(node)
        except StoreUnavailable:
            pass  # the store is away: commands answer `unavailable` meanwhile; try again later
        except Exception:
            log.exception("upkeep failed")
        await asyncio.sleep(interval)

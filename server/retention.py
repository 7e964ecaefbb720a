"""Retention of the group's journey: what is older than ``HEARTH_RETENTION_DAYS`` is deleted.

A journey holds health data (check-in cards, plans, posts), kept no longer than the operator
says. Each node sweeps once at start and then every ``HEARTH_RETENTION_SWEEP_SECONDS`` (an hour
by default): ``JourneyStore.sweep`` deletes, in every room, the records made before now minus the
retention, except the roster (``KEPT_BY_SWEEP``). On Redis every node sweeps the same data: a
sweep is idempotent, so two at once delete each record once. The sweeper runs as its own task
(started by the upkeep task), so a long sweep never delays a node's liveness beat.
"""

from __future__ import annotations

import asyncio
import logging
import time

from rooms.backends.base import StoreUnavailable
from rooms.backends.journey_base import JourneyStore

log = logging.getLogger("hearth.retention")

DAY_SECONDS = 86400


async def sweep_once(journey: JourneyStore, retention_days: int, now: float | None = None) -> int:
    """Delete what is past retention; how many records went."""
    now = time.time() if now is None else now
    return await journey.sweep(now - retention_days * DAY_SECONDS)


async def run_retention(journey: JourneyStore, retention_days: int, interval: float) -> None:
    """Sweep now and every ``interval`` seconds, until cancelled. A store that cannot be reached
    is tried again at the next round; the log says how many records went, never what they were."""
    while True:
        try:
            gone = await sweep_once(journey, retention_days)
        except StoreUnavailable:
            log.warning("journey retention sweep skipped: store unavailable")
        except Exception:
            log.exception("journey retention sweep failed")
        else:
            if gone:
                log.info("journey records past retention deleted", extra={"count": gone})
        await asyncio.sleep(interval)

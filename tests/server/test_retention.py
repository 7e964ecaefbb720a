"""Retention on the embedded default: a real server sweeps its SQLite file (read directly here)."""

from __future__ import annotations

import sqlite3
import time

from rooms.backends.journey_base import Record
from rooms.backends.sqlite_journey import SqliteJourney
from tests.polling import eventually
from tests.server.conftest import StartServer

DAY = 86400.0


def stored_ids(path: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT id FROM journey_records")}


async def test_a_sweep_deletes_journey_records_past_retention_from_the_sqlite_file(
    start_server: StartServer,
) -> None:
    server = await start_server(retention_days=30, retention_sweep_seconds=0.2)
    path = server.settings.sqlite_path()
    now = time.time()
    # Another connection to the server's own file, as `hearth` commands beside it would be.
    writer = SqliteJourney(path)
    await writer.open()
    try:
        for record_id, age, kind in [
            ("old-plan", 40, "plan"),
            ("old-card", 31, "checkin"),
            ("young-plan", 29, "plan"),
            ("fresh-post", 0, "post"),
            ("old-member", 400, "member"),  # the roster is never swept
        ]:
            await writer.put(
                "r1", Record(kind=kind, id=record_id, owner="s1", created=now - age * DAY, data=b"{}")
            )
    finally:
        await writer.close()
    await eventually(lambda: "old-plan" not in stored_ids(str(path)), "the sweep of old records")
    assert stored_ids(str(path)) == {"young-plan", "fresh-post", "old-member"}
    assert await server.node.journey.count("r1", "plan") == 1  # the node reads the same file

"""A group meets twice on the embedded default, with a server restart between the sessions: the
journey lives in the SQLite file (read directly here), and "delete my data" empties it."""

from __future__ import annotations

import sqlite3

from tests.server.conftest import StartServer
from tests.server.journey_story import first_session, second_session


async def test_two_sessions_of_one_group_survive_a_restart_and_delete_my_data_empties_the_file(
    start_server: StartServer,
) -> None:
    first = await start_server()
    group = await first_session(first)
    await first.stop()

    again = await start_server(data_dir=first.settings.data_dir)  # the same SQLite file
    path = again.settings.sqlite_path()
    with sqlite3.connect(path) as db:
        kinds = {
            kind for (kind,) in db.execute("SELECT kind FROM journey_records WHERE owner = ?", (group.sub,))
        }
    assert kinds == {"member", "plan", "post", "checkin"}

    await second_session(again, group)
    with sqlite3.connect(path) as db:
        left = db.execute(
            "SELECT kind FROM journey_records WHERE room = ? AND owner = ?", (group.room.id, group.sub)
        ).fetchall()
    assert left == [("member",)], "only the roster entry stays"

"""The group's journey in SQLite (stdlib ``sqlite3``): the embedded default's ``JourneyStore``.

Its tables live in the same file as the room directory (``SqliteDirectory``), so a group's
definition and its journey are backed up together; this class has its own connection to it.
The file and its connection (worker threads, a lock, WAL) are ``sqlite_common.SqliteFile``'s.
Every write that reads first (``add``, ``session_number``) is one ``BEGIN IMMEDIATE``
transaction, which also holds against another process writing the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rooms.backends.journey_base import KEPT_BY_SWEEP, Record
from rooms.backends.sqlite_common import SqliteFile

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS journey_records (
        room TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, owner TEXT,
        created REAL NOT NULL, data BLOB NOT NULL, PRIMARY KEY (room, kind, id))""",
    "CREATE INDEX IF NOT EXISTS journey_records_owner ON journey_records (room, owner)",
    "CREATE INDEX IF NOT EXISTS journey_records_created ON journey_records (created)",
    # The session counter: never swept (numbers go on from where they were, whatever retention
    # deleted), gone only with the room's journey.
    """CREATE TABLE IF NOT EXISTS journey_sessions (
        room TEXT NOT NULL, session TEXT NOT NULL, number INTEGER NOT NULL,
        PRIMARY KEY (room, session))""",
    "CREATE TABLE IF NOT EXISTS journey_counters (room TEXT PRIMARY KEY, last INTEGER NOT NULL)",
)
_COLUMNS = "kind, id, owner, created, data"


class SqliteJourney:
    """``JourneyStore`` in the SQLite file at ``path`` (``settings.sqlite_path()``)."""

    def __init__(self, path: Path | str) -> None:
        self._file = SqliteFile(path, _SCHEMA, "SqliteJourney")
        self.path = self._file.path
        self._run = self._file.run

    async def open(self) -> None:
        await self._file.open()

    async def close(self) -> None:
        await self._file.close()

    async def put(self, room_id: str, record: Record) -> None:
        await self._run(lambda db: _write(db, room_id, record))

    async def add(self, room_id: str, record: Record, *, limit: int, per_owner: bool = False) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            exists = db.execute(
                "SELECT 1 FROM journey_records WHERE room = ? AND kind = ? AND id = ?",
                (room_id, record.kind, record.id),
            ).fetchone()
            if exists is None:
                owner = record.owner if per_owner else None
                if _count(db, room_id, record.kind, owner) >= limit:
                    return False
            _write(db, room_id, record)
            return True

        return await self._run(work, transaction=True)

    async def get(self, room_id: str, kind: str, record_id: str) -> Record | None:
        row = await self._run(
            lambda db: db.execute(
                f"SELECT {_COLUMNS} FROM journey_records WHERE room = ? AND kind = ? AND id = ?",
                (room_id, kind, record_id),
            ).fetchone()
        )
        return None if row is None else _record(row)

    async def list(self, room_id: str, kind: str, *, owner: str | None = None) -> list[Record]:
        query = f"SELECT {_COLUMNS} FROM journey_records WHERE room = ? AND kind = ?"
        args: tuple[object, ...] = (room_id, kind)
        if owner is not None:
            query += " AND owner = ?"
            args += (owner,)
        rows = await self._run(lambda db: db.execute(query + " ORDER BY created, id", args).fetchall())
        return [_record(row) for row in rows]

    async def count(self, room_id: str, kind: str, *, owner: str | None = None) -> int:
        return await self._run(lambda db: _count(db, room_id, kind, owner))

    async def delete(self, room_id: str, kind: str, record_id: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "DELETE FROM journey_records WHERE room = ? AND kind = ? AND id = ?",
                (room_id, kind, record_id),
            )
            return cursor.rowcount > 0

        return await self._run(work)

    async def delete_owner(self, room_id: str, owner: str, *, keep: frozenset[str] = frozenset()) -> int:
        kept = sorted(keep)
        marks = ", ".join("?" for _ in kept)
        query = "DELETE FROM journey_records WHERE room = ? AND owner = ?"
        if kept:
            query += f" AND kind NOT IN ({marks})"
        return await self._run(lambda db: db.execute(query, (room_id, owner, *kept)).rowcount)

    async def delete_room(self, room_id: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            gone = db.execute("DELETE FROM journey_records WHERE room = ?", (room_id,)).rowcount
            db.execute("DELETE FROM journey_sessions WHERE room = ?", (room_id,))
            db.execute("DELETE FROM journey_counters WHERE room = ?", (room_id,))
            return gone

        return await self._run(work, transaction=True)

    async def sweep(self, before: float) -> int:
        kept = sorted(KEPT_BY_SWEEP)
        marks = ", ".join("?" for _ in kept)
        query = f"DELETE FROM journey_records WHERE created < ? AND kind NOT IN ({marks})"
        return await self._run(lambda db: db.execute(query, (before, *kept)).rowcount)

    async def session_number(self, room_id: str, session_id: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            row = db.execute(
                "SELECT number FROM journey_sessions WHERE room = ? AND session = ?", (room_id, session_id)
            ).fetchone()
            if row is not None:
                return int(row[0])
            number = _last(db, room_id) + 1
            db.execute(
                "INSERT INTO journey_counters (room, last) VALUES (?, ?)"
                " ON CONFLICT (room) DO UPDATE SET last = excluded.last",
                (room_id, number),
            )
            db.execute(
                "INSERT INTO journey_sessions (room, session, number) VALUES (?, ?, ?)",
                (room_id, session_id, number),
            )
            return number

        return await self._run(work, transaction=True)

    async def last_session_number(self, room_id: str) -> int:
        return await self._run(lambda db: _last(db, room_id))

    async def ping(self) -> bool:
        return await self._file.ping()


def _write(db: sqlite3.Connection, room_id: str, record: Record) -> None:
    db.execute(
        "INSERT OR REPLACE INTO journey_records (room, kind, id, owner, created, data)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (room_id, record.kind, record.id, record.owner, record.created, record.data),
    )


def _count(db: sqlite3.Connection, room_id: str, kind: str, owner: str | None) -> int:
    query = "SELECT COUNT(*) FROM journey_records WHERE room = ? AND kind = ?"
    args: tuple[object, ...] = (room_id, kind)
    if owner is not None:
        query += " AND owner = ?"
        args += (owner,)
    return int(db.execute(query, args).fetchone()[0])


def _last(db: sqlite3.Connection, room_id: str) -> int:
    row = db.execute("SELECT last FROM journey_counters WHERE room = ?", (room_id,)).fetchone()
    return 0 if row is None else int(row[0])


def _record(row: tuple[str, str, str | None, float, bytes]) -> Record:
    kind, record_id, owner, created, data = row
    return Record(kind=kind, id=record_id, owner=owner, created=float(created), data=bytes(data))

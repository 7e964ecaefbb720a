"""Room definitions in one SQLite file (stdlib ``sqlite3``): the default, single-node directory.

The file and its connection (worker threads, a lock, WAL) are ``sqlite_common.SqliteFile``'s.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec

from rooms.backends.sqlite_common import SqliteFile
from rooms.model import RoomConfig

_SCHEMA = ("CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, data BLOB NOT NULL)",)


class SqliteDirectory:
    """``RoomDirectory`` on SQLite. ``create`` refuses an existing id (``ValueError``); ``update``
    refuses an unknown one (``KeyError``)."""

    def __init__(self, path: Path | str) -> None:
        self._file = SqliteFile(path, _SCHEMA, "SqliteDirectory")
        self.path = self._file.path
        self._run = self._file.run
        self._decoder = msgspec.json.Decoder(RoomConfig)

    async def open(self) -> None:
        await self._file.open()

    async def close(self) -> None:
        await self._file.close()

    async def create(self, config: RoomConfig) -> None:
        await self._run(lambda db: self._insert(db, config))

    async def get(self, room_id: str) -> RoomConfig | None:
        row = await self._run(
            lambda db: db.execute("SELECT data FROM rooms WHERE id = ?", (room_id,)).fetchone()
        )
        return None if row is None else self._decoder.decode(row[0])

    async def update(self, config: RoomConfig) -> None:
        def write(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "UPDATE rooms SET data = ? WHERE id = ?", (msgspec.json.encode(config), config.id)
            )
            return cursor.rowcount

        if await self._run(write) == 0:
            raise KeyError(config.id)

    async def all(self) -> list[RoomConfig]:
        rows = await self._run(lambda db: db.execute("SELECT data FROM rooms ORDER BY rowid").fetchall())
        return [self._decoder.decode(data) for (data,) in rows]

    async def ping(self) -> bool:
        return await self._file.ping()

    @staticmethod
    def _insert(db: sqlite3.Connection, config: RoomConfig) -> None:
        try:
            db.execute("INSERT INTO rooms (id, data) VALUES (?, ?)", (config.id, msgspec.json.encode(config)))
        except sqlite3.IntegrityError:
            raise ValueError(f"room {config.id!r} already exists") from None

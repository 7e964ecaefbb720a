"""Room definitions in one SQLite file (stdlib ``sqlite3``): the default, single-node directory.

sqlite3 blocks, so every call runs in a worker thread (``asyncio.to_thread``). There is one
connection, shared by those threads under a lock; WAL mode lets a second process (``hearth rooms
create`` beside a running server) read and write the same file safely.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from rooms.model import RoomConfig

T = TypeVar("T")

_SCHEMA = "CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, data BLOB NOT NULL)"
_BUSY_TIMEOUT_MS = 5000


class SqliteDirectory:
    """``RoomDirectory`` on SQLite. ``create`` refuses an existing id (``ValueError``); ``update``
    refuses an unknown one (``KeyError``)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._decoder = msgspec.json.Decoder(RoomConfig)

    async def open(self) -> None:
        if self._connection is None:
            self._connection = await asyncio.to_thread(self._connect)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.to_thread(self._close, connection)

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
        if self._connection is None:
            return False
        try:
            await self._run(lambda db: db.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    # In worker threads

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit; every statement here is a single-row write.
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _close(self, db: sqlite3.Connection) -> None:
        with self._lock:
            db.close()

    @staticmethod
    def _insert(db: sqlite3.Connection, config: RoomConfig) -> None:
        try:
            db.execute("INSERT INTO rooms (id, data) VALUES (?, ?)", (config.id, msgspec.json.encode(config)))
        except sqlite3.IntegrityError:
            raise ValueError(f"room {config.id!r} already exists") from None

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection
        if connection is None:
            raise RuntimeError("SqliteDirectory is not open")

        def locked() -> T:
            with self._lock:
                return work(connection)

        return await asyncio.to_thread(locked)

"""One connection to the embedded default's SQLite file, as the room directory and the journey
each hold it (``SqliteDirectory``, ``SqliteJourney``).

sqlite3 blocks, so every call runs in a worker thread (``asyncio.to_thread``), under a lock: the
connection is shared by those threads. WAL mode lets a second process (``hearth rooms create``
beside a running server) read and write the same file safely. The connection is in autocommit
mode; a write that reads first asks ``run(..., transaction=True)``: one ``BEGIN IMMEDIATE``
transaction, which also holds against another process writing the file.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_BUSY_TIMEOUT_MS = 5000


class SqliteFile:
    def __init__(self, path: Path | str, schema: Sequence[str], owner: str) -> None:
        self.path = Path(path)
        self._schema = tuple(schema)
        self._owner = owner  # the class that holds it, for the "not open" error
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        if self._connection is None:
            self._connection = await asyncio.to_thread(self._connect)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.to_thread(self._close, connection)

    async def ping(self) -> bool:
        if self._connection is None:
            return False
        try:
            await self.run(lambda db: db.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    async def run(self, work: Callable[[sqlite3.Connection], T], *, transaction: bool = False) -> T:
        connection = self._connection
        if connection is None:
            raise RuntimeError(f"{self._owner} is not open")

        def locked() -> T:
            with self._lock:
                if not transaction:
                    return work(connection)
                connection.execute("BEGIN IMMEDIATE")
                try:
                    result = work(connection)
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
                return result

        return await asyncio.to_thread(locked)

    # In worker threads

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            for statement in self._schema:
                db.execute(statement)
        except BaseException:
            db.close()
            raise
        return db

    def _close(self, db: sqlite3.Connection) -> None:
        with self._lock:
            db.close()

"""Which answer each client message gets: the one owner of request/ack correlation.

The rules (docs/protocol.md §1.3):

- A message with an ``id`` gets exactly one answer: an ``ack`` once it took effect, or an
  ``error`` when it was refused. A message without one gets no ack (a refusal is still told).
- The frames a message causes come before its ack. A room command's ack is not sent from here:
  it is one more frame published *with* the command's own frames (``carry``), addressed to the
  socket that sent it, so it travels the same way they do: straight through on one node, in the
  same pub/sub message on Redis. It therefore comes after them by construction, on every node.
- A message that closes the sender's own socket (``leave``, ``end_session``) gets its frame,
  then its ack, then the close.

Should a carried ack not arrive (the bus lost the message: its connection broke between the
write and the delivery), the answer does not wait forever: once the command is known to have
been written, the socket gets a ``snapshot`` (built from the state after the write, so it
covers the command's frames) and then the ack, at the bus's reconnection or after
``ACK_WAIT_SECONDS``, whichever comes first. A carried ack that arrives after that is dropped.

The socket loop (``server.ws``) handles one message at a time, so one request at most is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Protocol

from rooms.backends.base import Frame
from rooms.codes import ErrorCode
from server import metrics, protocol
from server.protocol import Id

# A frame of this kind carries the ack of the message its socket sent (``Requests.carry``).
ACK = "ack"

# How long the socket loop waits for a carried ack before answering in its place (a snapshot
# then the ack). It only matters when the bus lost the message; its reconnection answers sooner.
ACK_WAIT_SECONDS = 5.0


class Answering(Protocol):
    """What answering needs of a connection (``server.connection.Connection`` is one)."""

    conn_id: str
    pid: str

    def reply(self, data: bytes) -> None: ...
    def request_snapshot(self, *, asked: bool = True) -> None: ...
    def close_soon(self, code: int) -> None: ...


class Requests:
    """The open request of one socket, and its answer."""

    __slots__ = ("_arrived", "_carried", "_close", "_conn", "_open", "_written", "ref")

    def __init__(self, conn: Answering) -> None:
        self._conn = conn
        self._open = False  # a message is being handled and was not answered yet
        self.ref: Id | None = None  # its id (``None``: it expects no ack)
        self._carried: bytes | None = None  # its ack, travelling with its frames
        self._written = False  # its command was written: a lost carried ack may be answered here
        self._arrived: asyncio.Future[None] | None = None  # made only if someone waits
        self._close: int | None = None  # close code once it is answered (``close_when_answered``)

    def begin(self, ref: Id | None) -> None:
        """A message is being handled; ``ref`` its id (``None``: it expects no ack)."""
        self._open, self.ref, self._carried, self._written = True, ref, None, False
        self._arrived = None
        self._close = None

    @property
    def unanswered(self) -> bool:
        """An ack is still due (the open request has an id)."""
        return self._open and self.ref is not None

    def carry(self) -> Frame | None:
        """The ack of the open request as a frame to publish after the command's own frames, for
        this socket only; ``None`` when no ack is due."""
        ref = self.ref
        if not self._open or ref is None:
            return None
        self._carried = protocol.ack(ref)
        conn = self._conn
        return Frame(self._carried, (conn.pid,), 0, None, None, ACK, time.time(), conn.conn_id)

    def arrived(self, data: bytes) -> None:
        """A carried ack came back for this socket: send it, unless it is not (or no longer) the
        open request's (already answered, say by a ``snapshot`` in its place)."""
        if self._open and data == self._carried:
            self._answer(data)

    def refuse(self, code: ErrorCode, message: str) -> None:
        """The open request was refused: its error, unless it was answered already."""
        if not self._open:
            return  # answered: its ack went out (with its frames, or before a close)
        self._open = False
        self.error(code, message, self.ref)
        self._close_if_asked()

    def error(self, code: ErrorCode, message: str, ref: Id | None) -> None:
        """An error frame for a message (``ref`` its id, if it could be read)."""
        metrics.ERRORS.labels(code).inc()
        self._conn.reply(protocol.error(code, message, ref))

    async def finish(self) -> None:
        """The open request was handled: its ack, now, or (when it travels with the command's
        frames) once it arrived; see the module's docstring for when it does not."""
        if not self._open:
            return
        if self.ref is None:
            self._open = False
            self._close_if_asked()
        elif self._carried is None:
            self._answer(protocol.ack(self.ref))
        else:
            self._written = True
            self._arrived = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._arrived), ACK_WAIT_SECONDS)
            self.lost()

    def lost(self) -> None:
        """The bus may have lost frames (it reconnected, or the ack is late): if the open request
        was written, answer it here: a fresh ``snapshot``, then the ack."""
        ref = self.ref
        if self._open and ref is not None and self._written:
            self._conn.request_snapshot(asked=False)
            self._answer(protocol.ack(ref))

    def close_when_answered(self, code: int) -> None:
        """Close the socket once the open request is answered (``leave``): its ack comes first."""
        self._close = code
        if not self._open or self._carried is None:
            self._close_if_asked()  # a close answers what is still open first (``before_close``)

    def before_close(self) -> None:
        """The socket is about to close (its own command closes it, or another's): the open
        request gets its ack first, so the client still gets the one answer it was promised."""
        ref = self.ref
        if self._open and ref is not None:
            self._answer(protocol.ack(ref))

    def _answer(self, data: bytes) -> None:
        self._open = False
        self._conn.reply(data)
        if self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(None)
        self._close_if_asked()

    def _close_if_asked(self) -> None:
        code, self._close = self._close, None
        if code is not None:
            self._conn.close_soon(code)

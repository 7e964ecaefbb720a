"""One participant's socket: a bounded outbox and the single writer that drains it.

Everything sent to the client goes through ``push``/``reply`` into the outbox; only ``writer``
touches the socket for sending. A client that stops reading fills its outbox and is closed with
4011; nobody else waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

from rooms.backends.base import Frame, StoreUnavailable
from server import metrics, protocol
from server.protocol import Id

if TYPE_CHECKING:
    from server.node import Node

log = logging.getLogger("hearth.ws")

CLOSE_TOO_SLOW = 4011

# Outbox items: (seq, text, close code, marker). A marker ("welcome" or "snapshot") asks the
# writer to build that message from the latest state when it gets there.
Item = tuple[int, str, int | None, str]
WELCOME = "welcome"
SNAPSHOT = "snapshot"


class Connection:
    def __init__(self, ws: WebSocket, node: Node, conn_id: str) -> None:
        self.ws = ws
        self.node = node
        self.conn_id = conn_id  # opaque, for logs
        self.room_id = ""
        self.pid = ""
        self.admitted = False
        self.seq = 0
        self.closing: int | None = None
        self.outbox: asyncio.Queue[Item] = asyncio.Queue(node.settings.outbox_size)
        self.writer_task: asyncio.Task[None] | None = None
        self.pending_ref: Id | None = None  # the id of the message being handled, not yet acked

    def start(self) -> asyncio.Task[None]:
        self.writer_task = asyncio.create_task(self.writer())
        return self.writer_task

    # Producers (never await) -------------------------------------------------------------------

    def push(self, frame: Frame, text: str) -> None:
        if frame.admit is not None:
            self.admitted = True
        self._put((frame.seq, text, frame.close, WELCOME if frame.admit is not None else ""))

    def reply(self, data: bytes) -> None:
        self._put((0, data.decode(), None, ""))

    def resync(self) -> None:
        """Send a fresh ``snapshot`` (after the bus was away and may have lost frames)."""
        if self.admitted:
            self._put((0, "", None, SNAPSHOT))

    def close_soon(self, code: int) -> None:
        """Close after what is already queued (e.g. 4009 replaced, 4008 flood)."""
        self._put((0, "", code, ""))

    def acknowledge(self) -> None:
        """Ack the message being handled (unless an error or a close already answered it)."""
        ref, self.pending_ref = self.pending_ref, None
        if ref is not None:
            self.reply(protocol.ack(ref))

    def _put(self, item: Item) -> None:
        if self.closing is not None:
            return
        seq, text, close, marker = item
        if close is not None and self.pending_ref is not None:
            # This socket's own command closes it (leave, end_session): the frame, then the
            # ack, then the close, so the client still gets the one answer it was promised.
            if text or marker:
                self._enqueue((seq, text, None, marker))
            self.acknowledge()
            item = (0, "", close, "")
        self._enqueue(item)

    def _enqueue(self, item: Item) -> None:
        if self.closing is not None:
            return
        try:
            self.outbox.put_nowait(item)
        except asyncio.QueueFull:
            self._too_slow()
        else:
            if item[2] is not None:
                self.closing = item[2]

    def _too_slow(self) -> None:
        self.closing = CLOSE_TOO_SLOW
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox.put_nowait((0, "", CLOSE_TOO_SLOW, ""))
        # The writer may be stuck in a send to a peer that reads nothing: give it a moment to
        # deliver the close, then stop writing for good (the socket is then dropped).
        asyncio.get_running_loop().call_later(self.node.settings.slow_close_seconds, self._abort)
        log.info("closing slow client", extra={"conn": self.conn_id, "code": CLOSE_TOO_SLOW})

    def _abort(self) -> None:
        if self.writer_task is not None and not self.writer_task.done():
            self.writer_task.cancel()

    # The writer ---------------------------------------------------------------------------------

    async def writer(self) -> None:
        try:
            await self._write()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-send: the reader sees the disconnect
            log.debug("writer stopped", extra={"conn": self.conn_id, "type": type(exc).__name__})

    async def _write(self) -> None:
        send = self.ws.send
        while True:
            seq, text, close, marker = await self.outbox.get()
            if marker:
                text = await self._room_text(marker)
                if not text:
                    continue
            elif seq:
                if seq <= self.seq:
                    continue  # already part of the welcome/snapshot this client got
                self.seq = seq
            if text:
                await send({"type": "websocket.send", "text": text})
            if close is not None:
                await self.close(close)
                return

    async def _room_text(self, kind: str) -> str:
        """A ``welcome`` or ``snapshot`` from the latest state; numbered frames it covers are
        skipped after it."""
        from server.welcome import welcome_for

        delay = 0.05
        while True:
            try:
                state = await self.node.service.state(self.room_id)
                break
            except StoreUnavailable:
                # Never dropped: the bus can be back before the store answers again (a pooled
                # connection broken by the outage fails once). What follows waits behind this
                # message in the outbox; the reader stops this writer if the socket goes.
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        seat = state.seats.get(self.pid) if state is not None else None
        if state is None or seat is None or not seat.admitted:
            return ""
        self.seq = state.seq
        return welcome_for(self.node, state, seat, kind).decode()

    async def close(self, code: int) -> None:
        self.closing = code
        metrics.CLOSES.labels(str(code)).inc()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.ws.send({"type": "websocket.close", "code": code, "reason": ""}),
                self.node.settings.slow_close_seconds,
            )

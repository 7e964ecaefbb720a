"""One participant's socket: a bounded outbox, written to the socket in order.

Everything sent to the client goes through ``push``/``reply``. While nothing is queued, a frame
is written at once, inside the call (``_write_now``): the ASGI send of a websocket text frame
completes without suspending unless the transport has paused writing, so fan-out to an idle
socket costs no task switch. Anything that must wait (a send that suspended because the client
reads slowly, a ``welcome``/``snapshot`` built from the store, a close) goes into the outbox,
and one drain task writes it, in order; later frames queue behind it until it is empty. A
client that stops reading fills its outbox and is closed with 4011; nobody else waits for it.

The outbox is bounded in frames (``outbox_size``) and in bytes (``outbox_bytes``). Frames
another member relays (``signal``) never count towards closing the receiver: once the outbox is
half full they are dropped instead, so a sender flooding someone cannot get them closed as too
slow. A ``snapshot`` waits in the outbox as a marker, at most one per connection (repeated
``sync`` requests coalesce into it), is built only when the writer gets there (never for a
socket that is closing or gone), and costs its requester rate tokens by its size.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import Receive, Send

from rooms.backends.base import Frame
from rooms.codes import Close
from server import eager_send, metrics
from server.acks import ACK, Requests
from server.config import Settings
from server.ratelimit import TokenBucket

# Builds the text of a ``welcome`` or ``snapshot`` for (room, participant, connection, kind), and
# the ``seq`` it covers: ``None`` when the session is gone, ``("", 0)`` when there is nothing of
# the room for this socket (``server.welcome.Views``).
ViewBuilder = Callable[[str, str, str, str], Awaitable[tuple[str, int] | None]]

log = logging.getLogger("hearth.ws")

# Outbox items: (seq, text, close code, marker). A marker ("welcome" or "snapshot") asks the
# writer to build that message from the latest state when it gets there.
Item = tuple[int, str, int | None, str]
WELCOME = "welcome"
SNAPSHOT = "snapshot"


class Connection:
    __slots__ = (
        "_drain",
        "_eager",
        "_on_stop",
        "admitted",
        "closing",
        "conn_id",
        "outbox",
        "outbox_bytes",
        "outbox_max_bytes",
        "outbox_size",
        "pid",
        "rate",
        "reader",
        "receive",
        "requests",
        "room_id",
        "send",
        "seq",
        "settings",
        "snapshot_charged",
        "snapshot_pending",
        "stopped",
        "views",
    )

    def __init__(
        self, send: Send, receive: Receive, settings: Settings, views: ViewBuilder, conn_id: str
    ) -> None:
        self.send = send  # the ASGI server's own: only the writing below calls it
        # A coroutine can be started inside the call and finished later if it suspends; any
        # other awaitable is always written by the drain task.
        self._eager = inspect.iscoroutinefunction(send)
        self.receive = receive  # only the socket loop (server.ws) calls it
        self.settings = settings  # its limits: outbox size and bytes, rate cost, slow close
        self.views = views  # builds its welcome and snapshots, from the latest state
        self.conn_id = conn_id  # opaque, for logs
        self.room_id = ""
        self.pid = ""
        self.admitted = False
        self.seq = 0
        self.closing: int | None = None
        self.outbox: deque[Item] | None = None  # made when something has to wait
        self.outbox_size = settings.outbox_size
        self.outbox_max_bytes = settings.outbox_bytes
        self.outbox_bytes = 0  # the text queued in the outbox
        self.snapshot_pending = False  # a snapshot marker waits in the outbox
        self.snapshot_charged = False  # ... and the client asked for it: its size is charged
        self.rate: TokenBucket | None = None  # the reader's bucket for ordinary messages, once joined
        self.requests = Requests(self)  # the message being handled, and its one answer
        # True once nothing more will be written: the close frame went out, a send failed (the
        # peer is gone), or the writing was stopped. A future for it is made only if someone
        # waits (``wait_stopped``): most sockets never need one.
        self.stopped = False
        self._on_stop: asyncio.Future[None] | None = None
        self._drain: asyncio.Task[None] | None = None  # exists while the outbox is not empty
        self.reader: asyncio.Task[Any] | None = None  # the task reading this socket, once joined

    # Producers (never await) -------------------------------------------------------------------

    def push(self, frame: Frame, text: str) -> None:
        if frame.admit is not None:
            self.admitted = True
            self._put((frame.seq, text, frame.close, WELCOME))
        elif frame.kind == ACK:  # this socket's own command's ack, after the command's frames
            self.requests.arrived(frame.data)
        elif self._drain is None and self._eager and frame.close is None and self.closing is None:
            self._write_now(frame.seq, text)  # the common case: a frame to an idle socket
        elif frame.kind == "signal" and self._crowded(len(text)):
            # Another member's frame must never be what closes this one as too slow: drop it
            # (the sender's negotiation times out and restarts; a reading client soon has room).
            metrics.SIGNALS_DROPPED.inc()
        else:
            self._put((frame.seq, text, frame.close, ""))

    def _crowded(self, size: int) -> bool:
        """Whether the outbox is half full, in frames or in bytes (with ``size`` more)."""
        outbox = self.outbox
        if outbox is None:
            return False
        return len(outbox) * 2 >= self.outbox_size or (self.outbox_bytes + size) * 2 > self.outbox_max_bytes

    def reply(self, data: bytes) -> None:
        self._put((0, data.decode(), None, ""))

    def resync(self) -> None:
        """Send a fresh ``snapshot`` (after the bus was away and may have lost frames)."""
        if self.admitted:
            self.request_snapshot(asked=False)
        self.requests.lost()  # an ack that travelled with lost frames is answered now

    def request_snapshot(self, *, asked: bool = True) -> None:
        """Queue a ``snapshot``, unless one already waits in the outbox: it will be built from the
        latest state when the writer gets to it, so one answers every request made meanwhile.
        ``asked``: the client asked (``sync``), so it pays for its size; a resync is on us."""
        if self.closing is not None or self.stopped:
            return
        self.snapshot_charged = self.snapshot_charged or asked
        if self.snapshot_pending:
            return
        self.snapshot_pending = True
        self._put((0, "", None, SNAPSHOT))

    def charge(self, size: int) -> None:
        """Charge this connection's rate bucket for a reply of ``size`` bytes it asked for: one
        token per ``rate_cost_bytes``, so asking for big replies in a loop is throttled by what
        they cost to build and send, not by how many messages asked."""
        if self.rate is not None:
            self.rate.charge(size / self.settings.rate_cost_bytes)

    def close_soon(self, code: int) -> None:
        """Close after what is already queued (e.g. 4009 replaced, 4008 flood)."""
        self._put((0, "", code, ""))

    def _put(self, item: Item) -> None:
        if self.closing is not None:
            return
        seq, text, close, marker = item
        if close is not None and self.requests.unanswered:
            # A close while a message is being handled (its own command closes the socket:
            # leave, end_session): the frame, then the ack, then the close (``server.acks``).
            if text or marker:
                self._enqueue((seq, text, None, marker))
            self.requests.before_close()
            item = (0, "", close, "")
        self._enqueue(item)

    def _enqueue(self, item: Item) -> None:
        if self.closing is not None or self.stopped:
            return
        seq, text, close, marker = item
        if self._drain is None and self._eager and close is None and not marker:
            self._write_now(seq, text)
            return
        if self.outbox is None:
            self.outbox = deque()
        elif len(self.outbox) >= self.outbox_size or (
            self.outbox and self.outbox_bytes + len(text) > self.outbox_max_bytes
        ):
            self._too_slow()
            return
        self.outbox.append(item)
        self.outbox_bytes += len(text)
        if close is not None:
            self.closing = close
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_task(self._drain_outbox(None))

    def _write_now(self, seq: int, text: str) -> None:
        """Write one frame inside this call; if the send suspends (the transport paused
        writing), a drain task finishes it and everything after it queues behind."""
        if seq:
            if seq <= self.seq:
                return  # already part of the welcome/snapshot this client got
            self.seq = seq
        if not text or self.stopped:
            return
        # a coroutine (``_eager``); no typing.cast here: it is a call per frame
        send: eager_send.Send = self.send({"type": "websocket.send", "text": text})  # type: ignore[assignment]
        try:
            waiting = eager_send.start(send)
        except Exception as exc:  # the peer went away mid-send: the reader sees the disconnect
            self._stop(exc)
            return
        if waiting is not eager_send.DONE:
            self._drain = asyncio.get_running_loop().create_task(self._drain_outbox((send, waiting)))

    def _too_slow(self) -> None:
        self.closing = Close.TOO_SLOW
        self.outbox = deque([(0, "", Close.TOO_SLOW, "")])
        self.outbox_bytes = 0
        # The drain task is stuck in a send to a peer that reads nothing: give it a moment to
        # deliver the close, then stop writing for good (the socket is then dropped).
        asyncio.get_running_loop().call_later(self.settings.slow_close_seconds, self._abort)
        log.info("closing slow client", extra={"conn": self.conn_id, "code": Close.TOO_SLOW})

    def _abort(self) -> None:
        if self.stopped:
            return  # the close frame went out in time: the reader sees the disconnect
        if self._drain is not None:
            self._drain.cancel()
        self._stop(None)
        if self.reader is not None:
            self.reader.cancel()  # nothing more will come from a peer that reads nothing

    def _stop(self, exc: BaseException | None) -> None:
        if exc is not None:
            log.debug("writer stopped", extra={"conn": self.conn_id, "type": type(exc).__name__})
        self.stopped = True
        if self._on_stop is not None and not self._on_stop.done():
            self._on_stop.set_result(None)

    async def wait_stopped(self, timeout: float) -> None:
        """Until the writing stopped (say, the close frame went out), at most ``timeout`` s."""
        if self.stopped:
            return
        if self._on_stop is None:
            self._on_stop = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._on_stop), timeout)

    async def stop(self) -> None:
        """Stop writing for good (the socket is gone or going)."""
        drain = self._drain
        if drain is not None and not drain.done():
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await drain
        self._stop(None)

    # The drain task -----------------------------------------------------------------------------

    async def _drain_outbox(self, suspended: tuple[eager_send.Send, Any] | None) -> None:
        try:
            if suspended is not None:
                await eager_send.finish(*suspended)
            await self._write_queued()
        except asyncio.CancelledError:
            self._stop(None)
            raise
        except Exception as exc:  # the peer went away mid-send: the reader sees the disconnect
            self._stop(exc)
        finally:
            self._drain = None
            self.outbox = None
            self.outbox_bytes = 0
            self.snapshot_pending = self.snapshot_charged = False

    async def _write_queued(self) -> None:
        send = self.send
        while self.outbox:
            seq, text, close, marker = self.outbox.popleft()  # items added meanwhile come next
            self.outbox_bytes -= len(text)
            if marker:
                charged = marker == SNAPSHOT and self.snapshot_charged
                if marker == SNAPSHOT:
                    self.snapshot_pending = self.snapshot_charged = False  # later: a newer one
                    if self.closing is not None:
                        continue  # no work for a socket that is going
                room = await self._room_text(marker)
                if room is None:  # the session is gone from the store (see _room_text)
                    close = Close.SESSION_ENDED
                elif not room:
                    continue
                text = room or ""
                if text and marker == SNAPSHOT:
                    metrics.SNAPSHOTS.inc()
                    if charged:
                        self.charge(len(text))
            elif seq:
                if seq <= self.seq:
                    continue  # already part of the welcome/snapshot this client got
                self.seq = seq
            if text:
                await send({"type": "websocket.send", "text": text})
            if close is not None:
                await self.close(close)
                self._stop(None)
                return

    async def _room_text(self, kind: str) -> str | None:
        """A ``welcome`` or ``snapshot`` from the latest state (see ``server.welcome.Views``)."""
        view = await self.views(self.room_id, self.pid, self.conn_id, kind)
        if view is None:
            return None
        text, seq = view
        if text:
            self.seq = seq
        return text

    async def close(self, code: int) -> None:
        self.closing = code
        metrics.CLOSES.labels(str(code)).inc()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(
                self.send({"type": "websocket.close", "code": code, "reason": ""}),
                self.settings.slow_close_seconds,
            )

"""An asynchronous client of Janus's WebSocket API (``janus-protocol``), for the VideoRoom plugin.

One :class:`Janus` is one WebSocket to one instance; every Janus session Hearth opens there shares
it. Requests carry a ``transaction`` and the API secret; the reader task matches answers to
transactions and routes unsolicited messages to the handle named by their ``sender``.

Failure is explicit because failover depends on it: every wait is bounded, and when the socket
closes (the instance died, the network went, a keepalive found no answer) every pending request
fails at once with :class:`JanusGone` and the ``on_lost`` callbacks run, once. Janus drops a
session that sends no keepalive for 60 s: each session sends one every 20 s by itself.

Event callbacks run one at a time per handle, in order, on a task of their own (a callback may
return an awaitable, which is awaited there): a slow callback never holds up the reader, so
answers to other requests keep arriving. Nothing here logs SDP or candidates.

Limits: an answer waits at most ``timeout`` (5 s; ``message`` takes its own, 10 s); a message
from Janus is at most 1 MiB (an SDP or a room list is far smaller: a larger one means something
is wrong, and the connection is closed and counted as lost); a handle queues at most 1000 events
for a slow callback (then drops, with a warning).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from server.sfu.janus_session import (
    EventCallback,
    JanusError,
    JanusGone,
    JanusHandle,
    JanusSession,
    SignalCallback,
)

__all__ = [
    "EventCallback",
    "Janus",
    "JanusError",
    "JanusGone",
    "JanusHandle",
    "JanusSession",
    "SignalCallback",
]

log = logging.getLogger("hearth.sfu.janus")

SUBPROTOCOL = websockets.Subprotocol("janus-protocol")
KEEPALIVE_SECONDS = 20.0  # Janus drops a session after 60 s without one
MAX_MESSAGE_BYTES = 1 << 20  # one answer (an SDP, a room list) is far smaller
SIGNALS = frozenset({"webrtcup", "media", "hangup", "slowlink", "detached"})


class _Pending:
    """A request waiting for its answer; ``until_event``: an asynchronous plugin request,
    answered by an ``event`` after the ``ack``."""

    def __init__(self, future: asyncio.Future[dict[str, Any]], until_event: bool) -> None:
        self.future = future
        self.until_event = until_event


class Janus:
    """One WebSocket to one Janus instance; see the module docstring."""

    def __init__(self, url: str, secret: str, ws: ClientConnection, timeout: float, keepalive: float) -> None:
        self.url = url
        self._secret = secret
        self._ws = ws
        self._timeout = timeout
        self.keepalive_interval = keepalive
        self._pending: dict[str, _Pending] = {}
        self.handles: dict[int, JanusHandle] = {}
        self.sessions: dict[int, JanusSession] = {}
        self._lost_callbacks: list[Callable[[], None]] = []
        self._alive = True
        self._admin: JanusHandle | None = None
        self._admin_lock = asyncio.Lock()
        self._closing: asyncio.Task[None] | None = None
        self._reader = asyncio.create_task(self._read(), name=f"janus-reader {url}")

    @classmethod
    async def connect(
        cls,
        url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        keepalive: float = KEEPALIVE_SECONDS,
        max_message: int = MAX_MESSAGE_BYTES,
    ) -> Janus:
        """Open the WebSocket (bounded by ``timeout``); :class:`JanusGone` if it cannot.

        ``timeout`` bounds every request's answer (and each socket ping); ``keepalive`` is the
        seconds between a session's keepalives and between pings; a message larger than
        ``max_message`` bytes closes the connection (the instance is then lost)."""
        try:
            ws = await websockets.connect(
                url,
                subprotocols=[SUBPROTOCOL],
                open_timeout=timeout,
                max_size=max_message,
                proxy=None,  # a private address: never through an HTTP proxy from the environment
                compression=None,
                ping_interval=keepalive,
                ping_timeout=timeout,
                close_timeout=timeout,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake) as exc:
            raise JanusGone(f"cannot connect to Janus: {type(exc).__name__}") from None
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            raise JanusGone("the server did not accept the janus-protocol subprotocol")
        return cls(url, secret, ws, timeout, keepalive)

    @property
    def alive(self) -> bool:
        return self._alive

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once when the instance is lost (not after :meth:`close`)."""
        self._lost_callbacks.append(callback)

    async def close(self) -> None:
        """Close the socket; pending requests fail with :class:`JanusGone`."""
        self._lost_callbacks.clear()
        await self._ws.close()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reader), self._timeout)
        self._lose()

    def abort(self) -> None:
        """Give the instance up as lost: fail what is pending, run ``on_lost``, close the socket."""
        self._lose()
        self._closing = asyncio.create_task(self._ws.close(), name=f"janus-close {self.url}")

    async def create_session(self) -> JanusSession:
        answer = await self.call({"janus": "create"})
        session = JanusSession(self, int(answer["data"]["id"]))
        self.sessions[session.id] = session
        return session

    async def admin_handle(self) -> JanusHandle:
        """A long-lived handle (on a session of its own) for room-level requests."""
        async with self._admin_lock:
            if self._admin is None or self._admin.gone:
                session = await self.create_session()
                self._admin = await session.attach()
            return self._admin

    # Requests

    async def call(
        self, request: dict[str, Any], *, until_event: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send ``request`` and return its answer (an ``event`` when ``until_event``); for sessions
        and handles (``server.sfu.janus_session``)."""
        if not self._alive:
            raise JanusGone("the Janus connection is closed")
        transaction = secrets.token_hex(8)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = _Pending(future, until_event)
        try:
            await self._ws.send(
                json.dumps({**request, "transaction": transaction, "apisecret": self._secret})
            )
            answer = await asyncio.wait_for(future, timeout or self._timeout)
        except websockets.ConnectionClosed:
            raise JanusGone("the Janus connection closed") from None
        except TimeoutError:
            raise JanusGone(f"no answer from Janus to {request['janus']!r} in time") from None
        finally:
            self._pending.pop(transaction, None)
        if answer.get("janus") == "error":
            error = answer.get("error") or {}
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
        return answer

    # The reader

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    log.warning("Janus sent something that is not JSON; ignored")
                    continue
                if isinstance(message, dict):
                    self._route(message)
        except websockets.ConnectionClosed:
            pass
        except Exception:  # a bug here must still fail the pending requests
            log.exception("the Janus reader failed")
        finally:
            self._lose()

    def _route(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        pending = self._pending.get(str(message.get("transaction", "")))
        if pending is not None and not (kind == "ack" and pending.until_event):
            if not pending.future.done():
                pending.future.set_result(message)
            return
        if kind == "timeout":  # Janus dropped a session (no keepalive)
            session = self.sessions.pop(int(message.get("session_id", 0)), None)
            if session is not None:
                session.gone = True
                session.stop()
                for dropped in [h for h in self.handles.values() if h.session is session]:
                    dropped.close()
            return
        handle = self.handles.get(int(message.get("sender", 0) or 0))
        if handle is None:
            return
        if kind == "event":
            data = (message.get("plugindata") or {}).get("data") or {}
            handle.dispatch(("event", data, message.get("jsep")))
        elif kind in SIGNALS:
            if kind == "detached":
                handle.gone = True
            handle.dispatch(("signal", message, None))

    def _lose(self) -> None:
        if not self._alive:
            return
        self._alive = False
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(JanusGone("the Janus connection closed"))
        self._pending.clear()
        for session in list(self.sessions.values()):
            session.gone = True
            session.stop()
        for handle in list(self.handles.values()):
            handle.close()
        callbacks, self._lost_callbacks = self._lost_callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("an on_lost callback failed")

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
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

log = logging.getLogger("hearth.sfu.janus")

PLUGIN = "janus.plugin.videoroom"
SUBPROTOCOL = websockets.Subprotocol("janus-protocol")
KEEPALIVE_SECONDS = 20.0  # Janus drops a session after 60 s without one
MAX_MESSAGE_BYTES = 1 << 20  # one answer (an SDP, a room list) is far smaller
MAX_QUEUED_EVENTS = 1000  # per handle, waiting for a slow callback

EventCallback = Callable[[dict[str, Any], dict[str, Any] | None], Awaitable[None] | None]
SignalCallback = Callable[[dict[str, Any]], Awaitable[None] | None]
SIGNALS = frozenset({"webrtcup", "media", "hangup", "slowlink", "detached"})


class JanusError(Exception):
    """Janus or the VideoRoom plugin refused a request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusGone(Exception):
    """The instance stopped answering (socket closed, or no answer in time)."""


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
        self._keepalive = keepalive
        self._pending: dict[str, _Pending] = {}
        self._handles: dict[int, JanusHandle] = {}
        self._sessions: dict[int, JanusSession] = {}
        self._lost_callbacks: list[Callable[[], None]] = []
        self._alive = True
        self._admin: JanusHandle | None = None
        self._admin_lock = asyncio.Lock()
        self._closing: asyncio.Task[None] | None = None
        self._reader = asyncio.create_task(self._read(), name=f"janus-reader {url}")

    @classmethod
    async def connect(
        cls, url: str, secret: str, *, timeout: float = 5.0, keepalive: float = KEEPALIVE_SECONDS
    ) -> Janus:
        """Open the WebSocket (bounded by ``timeout``); :class:`JanusGone` if it cannot."""
        try:
            ws = await websockets.connect(
                url,
                subprotocols=[SUBPROTOCOL],
                open_timeout=timeout,
                max_size=MAX_MESSAGE_BYTES,
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
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(self._reader), self._timeout)
        self._lose()

    def abort(self) -> None:
        """Give the instance up as lost: fail what is pending, run ``on_lost``, close the socket."""
        self._lose()
        self._closing = asyncio.create_task(self._ws.close(), name=f"janus-close {self.url}")

    async def create_session(self) -> JanusSession:
        answer = await self._call({"janus": "create"})
        session = JanusSession(self, int(answer["data"]["id"]))
        self._sessions[session.id] = session
        return session

    async def admin_handle(self) -> JanusHandle:
        """A long-lived handle (on a session of its own) for room-level requests."""
        async with self._admin_lock:
            if self._admin is None or self._admin.gone:
                session = await self.create_session()
                self._admin = await session.attach()
            return self._admin

    # Requests

    async def _call(
        self, request: dict[str, Any], *, until_event: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send ``request`` and return its answer (an ``event`` when ``until_event``)."""
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
            session = self._sessions.pop(int(message.get("session_id", 0)), None)
            if session is not None:
                session.gone = True
                session.stop()
                for dropped in [h for h in self._handles.values() if h.session is session]:
                    dropped.close()
            return
        handle = self._handles.get(int(message.get("sender", 0) or 0))
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
        for session in list(self._sessions.values()):
            session.gone = True
            session.stop()
        for handle in list(self._handles.values()):
            handle.close()
        callbacks, self._lost_callbacks = self._lost_callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("an on_lost callback failed")


class JanusSession:
    """A Janus session; keeps itself alive until destroyed or lost."""

    def __init__(self, janus: Janus, session_id: int) -> None:
        self.janus = janus
        self.id = session_id
        self.gone = False
        self._keepalive = asyncio.create_task(self._keep_alive(), name=f"janus-keepalive {session_id}")

    async def attach(self) -> JanusHandle:
        """A handle on the VideoRoom plugin."""
        answer = await self.janus._call({"janus": "attach", "session_id": self.id, "plugin": PLUGIN})
        handle = JanusHandle(self, int(answer["data"]["id"]))
        self.janus._handles[handle.id] = handle
        return handle

    async def destroy(self) -> None:
        """Destroy the session and its handles; never raises if it is already gone."""
        self.stop()
        self.janus._sessions.pop(self.id, None)
        if not self.gone:
            self.gone = True
            with contextlib.suppress(JanusGone, JanusError):
                await self.janus._call({"janus": "destroy", "session_id": self.id})
        for handle in [h for h in self.janus._handles.values() if h.session is self]:
            handle.close()

    def stop(self) -> None:
        self._keepalive.cancel()

    async def _keep_alive(self) -> None:
        while not self.gone:
            await asyncio.sleep(self.janus._keepalive)
            try:
                await self.janus._call({"janus": "keepalive", "session_id": self.id})
            except JanusError:  # Janus no longer knows the session
                self.gone = True
            except JanusGone:
                # No answer in time: the instance is hung or unreachable. Close the socket, so
                # every request fails now and on_lost runs (a closed socket does both anyway).
                if self.janus.alive:
                    log.warning("Janus did not answer a keepalive; closing the connection")
                    self.janus.abort()
                return


class JanusHandle:
    """A handle on the VideoRoom plugin; see ``request``, ``message`` and the callbacks."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        self.gone = False
        self._on_event: list[EventCallback] = []
        self._on_signal: list[SignalCallback] = []
        self._queue: asyncio.Queue[tuple[str, dict[str, Any], Any]] = asyncio.Queue(MAX_QUEUED_EVENTS)
        self._dispatcher = asyncio.create_task(self._dispatch_loop(), name=f"janus-events {handle_id}")

    def _base(self, kind: str) -> dict[str, Any]:
        return {"janus": kind, "session_id": self.session.id, "handle_id": self.id}

    async def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous plugin request: its ``plugindata.data``; :class:`JanusError` if refused."""
        answer = await self.session.janus._call({**self._base("message"), "body": body})
        return _plugin_data(answer)

    async def message(
        self, body: dict[str, Any], jsep: dict[str, Any] | None = None, *, timeout: float = 10.0
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """An asynchronous plugin request: waits for its event and returns ``(data, jsep)``."""
        request = {**self._base("message"), "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        answer = await self.session.janus._call(request, until_event=True, timeout=timeout)
        return _plugin_data(answer), answer.get("jsep")

    async def trickle(self, candidate: dict[str, Any] | None) -> None:
        """One ICE candidate of the peer, or ``None`` once it has no more."""
        trickled = candidate if candidate is not None else {"completed": True}
        await self.session.janus._call({**self._base("trickle"), "candidate": trickled})

    def on_event(self, callback: EventCallback) -> None:
        """Unsolicited plugin events, as ``(data, jsep)``."""
        self._on_event.append(callback)

    def on_signal(self, callback: SignalCallback) -> None:
        """``webrtcup``, ``media``, ``hangup``, ``slowlink`` and ``detached`` messages, raw."""
        self._on_signal.append(callback)

    async def detach(self) -> None:
        """Detach from the plugin; never raises if the handle or instance is already gone."""
        if not self.gone:
            self.gone = True
            with contextlib.suppress(JanusGone, JanusError):
                await self.session.janus._call(self._base("detach"))
        self.close()

    def close(self) -> None:
        self.gone = True
        self.session.janus._handles.pop(self.id, None)
        self._dispatcher.cancel()

    def dispatch(self, item: tuple[str, dict[str, Any], Any]) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning(
                "a Janus handle's event callbacks are %d events behind; event dropped", MAX_QUEUED_EVENTS
            )

    async def _dispatch_loop(self) -> None:
        while True:
            kind, message, jsep = await self._queue.get()
            callbacks: list[Callable[..., Awaitable[None] | None]]
            args: tuple[Any, ...]
            if kind == "event":
                callbacks, args = list(self._on_event), (message, jsep)
            else:
                callbacks, args = list(self._on_signal), (message,)
            for callback in callbacks:
                try:
                    result = callback(*args)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("a Janus %s callback failed", kind)


def _plugin_data(answer: dict[str, Any]) -> dict[str, Any]:
    data = (answer.get("plugindata") or {}).get("data")
    if not isinstance(data, dict):
        raise JanusError(0, f"Janus answered {answer.get('janus')!r} without plugin data")
    if "error_code" in data:
        raise JanusError(int(data["error_code"]), str(data.get("error", "")))
    return data

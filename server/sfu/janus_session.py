"""Janus sessions and VideoRoom handles, and the client's two errors (``server.sfu.janus``
re-exports all of them: import from there).

A session keeps itself alive (a keepalive every ``keepalive`` seconds) until destroyed or lost;
a keepalive left unanswered gives the whole instance up (``Janus.abort``). A handle's events run
its callbacks one at a time, in order, on a task of its own, so a slow callback holds up only
that handle's later events, never the connection's reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

log = logging.getLogger("hearth.sfu.janus")

PLUGIN = "janus.plugin.videoroom"
MAX_QUEUED_EVENTS = 1000  # per handle, waiting for a slow callback

EventCallback = Callable[[dict[str, Any], dict[str, Any] | None], Awaitable[None] | None]
SignalCallback = Callable[[dict[str, Any]], Awaitable[None] | None]


class Connection(Protocol):
    """What sessions and handles use of their ``server.sfu.janus.Janus`` (no import circle)."""

    handles: dict[int, JanusHandle]
    sessions: dict[int, JanusSession]
    keepalive_interval: float

    @property
    def alive(self) -> bool: ...

    def abort(self) -> None: ...

    async def call(
        self, request: dict[str, Any], *, until_event: bool = False, timeout: float | None = None
    ) -> dict[str, Any]: ...


class JanusError(Exception):
    """Janus or the VideoRoom plugin refused a request."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusGone(Exception):
    """The instance stopped answering (socket closed, or no answer in time)."""


class JanusSession:
    """A Janus session; keeps itself alive until destroyed or lost."""

    def __init__(self, janus: Connection, session_id: int) -> None:
        self.janus = janus
        self.id = session_id
        self.gone = False
        self._keepalive = asyncio.create_task(self._keep_alive(), name=f"janus-keepalive {session_id}")

    async def attach(self) -> JanusHandle:
        """A handle on the VideoRoom plugin."""
        answer = await self.janus.call({"janus": "attach", "session_id": self.id, "plugin": PLUGIN})
        handle = JanusHandle(self, int(answer["data"]["id"]))
        self.janus.handles[handle.id] = handle
        return handle

    async def destroy(self) -> None:
        """Destroy the session and its handles; never raises if it is already gone."""
        self.stop()
        self.janus.sessions.pop(self.id, None)
        if not self.gone:
            self.gone = True
            with contextlib.suppress(JanusGone, JanusError):
                await self.janus.call({"janus": "destroy", "session_id": self.id})
        for handle in [h for h in self.janus.handles.values() if h.session is self]:
            handle.close()

    def stop(self) -> None:
        self._keepalive.cancel()

    async def _keep_alive(self) -> None:
        while not self.gone:
            await asyncio.sleep(self.janus.keepalive_interval)
            try:
                await self.janus.call({"janus": "keepalive", "session_id": self.id})
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
        answer = await self.session.janus.call({**self._base("message"), "body": body})
        return _plugin_data(answer)

    async def message(
        self, body: dict[str, Any], jsep: dict[str, Any] | None = None, *, timeout: float = 10.0
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """An asynchronous plugin request: waits for its event and returns ``(data, jsep)``."""
        request = {**self._base("message"), "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        answer = await self.session.janus.call(request, until_event=True, timeout=timeout)
        return _plugin_data(answer), answer.get("jsep")

    async def trickle(self, candidate: dict[str, Any] | None) -> None:
        """One ICE candidate of the peer, or ``None`` once it has no more."""
        trickled = candidate if candidate is not None else {"completed": True}
        await self.session.janus.call({**self._base("trickle"), "candidate": trickled})

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
                await self.session.janus.call(self._base("detach"))
        self.close()

    def close(self) -> None:
        self.gone = True
        self.session.janus.handles.pop(self.id, None)
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

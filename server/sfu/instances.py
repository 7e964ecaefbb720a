"""This node's connections to the configured Janus instances (``HEARTH_JANUS_URLS``).

One WebSocket per instance, made on first use and made again on the next use after it was lost,
so an instance that was restarted is used again by itself. Every node keeps its own: instances
are stateless towards Hearth apart from the rooms and sessions made on them, and the placement
(which instance a session's media uses) is part of the room's live state, so every node agrees.

Losing an instance (its socket closed, or a request that timed out) is reported once per
connection through ``on_lost``, which is how the coordinator starts a failover.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from server.sfu.janus import Janus, JanusError, JanusGone, JanusHandle

log = logging.getLogger("hearth.sfu")

CONNECT_SECONDS = 3.0
"""How long connecting to an instance may take before it counts as not answering."""

LOAD_SECONDS = 3.0
"""How long an instance may take to say how busy it is before placement skips it."""


class Instances:
    def __init__(self, urls: tuple[str, ...], secret: str, on_lost: Callable[[str], None]) -> None:
        self.urls = urls
        self._secret = secret
        self._on_lost = on_lost
        self._janus: dict[str, Janus] = {}
        self._admin: dict[str, JanusHandle] = {}
        self._connecting: dict[str, asyncio.Task[Janus]] = {}

    def index(self, url: str) -> int:
        """The instance's position in the configuration (for logs: never its address)."""
        return self.urls.index(url) if url in self.urls else -1

    def known_lost(self, url: str) -> bool:
        """Whether this node held a connection to ``url`` that is gone and not made again yet."""
        janus = self._janus.get(url)
        return janus is not None and not janus.alive

    async def connect(self, url: str) -> Janus:
        """The connection to ``url``, made if needed; ``JanusGone`` when the instance does not
        answer. Concurrent callers share one attempt."""
        janus = self._janus.get(url)
        if janus is not None and janus.alive:
            return janus
        task = self._connecting.get(url)
        if task is None:
            task = self._connecting[url] = asyncio.create_task(self._open(url))
            task.add_done_callback(lambda _: self._connecting.pop(url, None))
        return await asyncio.shield(task)

    async def _open(self, url: str) -> Janus:
        try:
            janus = await Janus.connect(url, self._secret, timeout=CONNECT_SECONDS)
        except JanusGone:
            raise
        except (OSError, TimeoutError, JanusError) as exc:
            raise JanusGone(f"instance {self.index(url)} does not answer ({type(exc).__name__})") from None
        old = self._janus.get(url)
        self._janus[url] = janus
        self._admin.pop(url, None)
        if old is not None:
            with contextlib.suppress(Exception):
                await old.close()
        janus.on_lost(lambda: self._lost(url, janus))
        return janus

    def _lost(self, url: str, janus: Janus) -> None:
        if self._janus.get(url) is not janus:
            return
        self._admin.pop(url, None)
        log.warning("janus instance lost", extra={"instance": self.index(url)})
        self._on_lost(url)

    async def admin(self, url: str) -> JanusHandle:
        """A long-lived handle on ``url`` for room-level requests (create, destroy, list)."""
        janus = await self.connect(url)
        handle = self._admin.get(url)
        if handle is None:
            handle = self._admin[url] = await janus.admin_handle()
        return handle

    async def request(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request on ``url``'s admin handle."""
        return await (await self.admin(url)).request(body)

    async def load(self, url: str) -> int | None:
        """How many participants ``url``'s rooms hold now; None if it does not answer."""
        try:
            # Hearth's rooms are private: only listed with the admin key.
            body = {"request": "list", "admin_key": self._secret}
            answer = await asyncio.wait_for(self.request(url, body), LOAD_SECONDS)
        except (JanusGone, JanusError, TimeoutError):
            return None
        rooms = answer.get("list")
        if not isinstance(rooms, list):
            return None
        return sum(int(r.get("num_participants", 0)) for r in rooms if isinstance(r, dict))

    async def least_loaded(self) -> str | None:
        """The live instance with the fewest participants (the first configured on a tie);
        None when none answers."""
        loads = await asyncio.gather(*(self.load(url) for url in self.urls))
        live = [(load, index) for index, load in enumerate(loads) if load is not None]
        return self.urls[min(live)[1]] if live else None

    async def close(self) -> None:
        for task in list(self._connecting.values()):
            task.cancel()
        connections = list(self._janus.values())
        self._janus.clear()  # closing them is no loss to report
        self._admin.clear()
        for janus in connections:
            with contextlib.suppress(Exception):
                await janus.close()

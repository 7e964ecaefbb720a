"""Frames between nodes over Redis pub/sub: one connection, one reader, reconnects on its own.

A node subscribes to ``hearth:room:{room}`` while it holds connections of that room, and always
to its own ``hearth:node:{node}`` for point-to-point frames (WebRTC signals). Every message is an
``Envelope``: the reader decodes it once and hands its frames, in order, to the local handlers of
its room. Frames written by the store come through here too, also on the node that wrote them:
Redis is the one place that orders them.

Outages are handled here and nowhere else. When the connection fails, ``available`` turns false
and the reader reconnects with backoff (0.1 s doubling to 2 s, jittered), subscribes again to
every channel it needs, turns ``available`` true and calls the ``on_reconnect`` callbacks: frames
published meanwhile are lost, so the server sends every client a fresh snapshot then.

redis-py's ``PubSub`` can reconnect and resubscribe by itself inside a later call; this class
does not rely on that. Its client has driver retries off, and a failed ``PubSub`` is thrown away
and replaced, so there is exactly one reconnect path and it is this one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError

from rooms.backends.base import Frame, FrameHandler, StoreUnavailable
from rooms.backends.redis_common import (
    UNREACHABLE,
    client_from_url,
    encode_envelope,
    envelope_decoder,
    node_channel,
    room_channel,
    unavailable,
)

log = logging.getLogger("hearth.bus")

SUBSCRIBE_TIMEOUT = 2.0  # how long subscribe() waits for Redis to confirm


class RedisBus:
    """``Bus`` on Redis pub/sub, plus ``publish_node``, ``available`` and ``on_reconnect``.

    ``open`` fails with ``StoreUnavailable`` if Redis cannot be reached; later outages are
    handled inside. ``subscribe`` returns once Redis confirmed the subscription (or, during an
    outage, at once: the reconnect subscribes). Handlers are sync and must not block; one that
    raises is logged (its exception type only) and the others still run.
    """

    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        backoff_initial: float = 0.1,
        backoff_max: float = 2.0,
        keepalive: float = 5.0,
    ) -> None:
        self.url = url
        self.node_id = node_id
        self.available = False
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.keepalive = keepalive  # ping after this much silence; reconnect after twice as much
        self._client: Redis | None = None
        self._pubsub: PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._handlers: dict[str, list[FrameHandler]] = {}
        self._callbacks: list[Callable[[], None]] = []
        # Per channel, one future per SUBSCRIBE sent, resolved by its confirmation (in order).
        self._confirmations: dict[bytes, deque[asyncio.Future[None]]] = {}
        # Held while deciding which channels to (un)subscribe and sending that, so the commands
        # reach Redis in the order the handler lists changed.
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        if self._reader is not None:
            return
        self._client = client_from_url(self.url)
        try:
            await self._connect()
        except BaseException as exc:
            await self._client.aclose()
            self._client = None
            if isinstance(exc, UNREACHABLE):
                raise unavailable(exc) from exc
            raise
        self.available = True
        self._reader = asyncio.create_task(self._run(), name=f"hearth-bus-{self.node_id}")

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            await asyncio.wait([reader])
        await self._drop()
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self._handlers.clear()

    def on_reconnect(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` each time the bus is back after an outage."""
        self._callbacks.append(callback)

    async def subscribe(self, room_id: str, handler: FrameHandler) -> None:
        async with self._lock:
            handlers = self._handlers.setdefault(room_id, [])
            handlers.append(handler)
            if len(handlers) > 1 or self._pubsub is None:
                return
            try:
                confirmed = await self._send_subscribe(self._pubsub, [room_channel(room_id)])
            except UNREACHABLE:
                return  # the connection is gone: the reader reconnects and subscribes then
        await asyncio.wait(confirmed, timeout=SUBSCRIBE_TIMEOUT)

    async def unsubscribe(self, room_id: str, handler: FrameHandler) -> None:
        async with self._lock:
            handlers = self._handlers.get(room_id)
            if not handlers or handler not in handlers:
                return
            handlers.remove(handler)
            if handlers:
                return
            del self._handlers[room_id]
            if self._pubsub is not None:
                # A failure here means the connection is gone: the reader reconnects without it.
                with contextlib.suppress(*UNREACHABLE):
                    await self._pubsub.unsubscribe(room_channel(room_id))

    async def publish(self, room_id: str, frames: list[Frame]) -> None:
        """Frames that skip the store, to every node subscribed to the room."""
        await self._publish(room_channel(room_id), room_id, frames)

    async def publish_node(self, node_id: str, room_id: str, frames: list[Frame]) -> None:
        """Frames for the local handlers of ``room_id`` on one node only."""
        await self._publish(node_channel(node_id), room_id, frames)

    async def _publish(self, channel: str, room_id: str, frames: list[Frame]) -> None:
        if not frames:
            return
        if self._client is None:
            raise StoreUnavailable("the bus is not open")
        try:
            await self._client.publish(channel, encode_envelope(self.node_id, room_id, frames))
        except UNREACHABLE as exc:
            raise unavailable(exc) from exc

    # The reader ------------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.backoff_initial
        while True:
            pubsub = self._pubsub
            if pubsub is not None:
                try:
                    await self._read(pubsub)
                except Exception as exc:  # any failure: start over on a fresh connection
                    log.warning("redis bus: connection lost (%s)", type(exc).__name__)
                    await self._drop()
            await asyncio.sleep(random.uniform(delay / 2, delay))
            try:
                await self._connect()
            except Exception as exc:
                log.warning("redis bus: reconnect failed (%s)", type(exc).__name__)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            self.available = True
            log.info("redis bus: reconnected")
            self._notify_reconnected()

    async def _connect(self) -> None:
        """A fresh PubSub subscribed to this node's channel and every room with handlers; returns
        once Redis confirmed them all (messages arriving meanwhile are dispatched)."""
        assert self._client is not None
        pubsub = self._client.pubsub()
        try:
            async with self._lock:
                channels = [node_channel(self.node_id)] + [room_channel(r) for r in self._handlers]
                self._pubsub = pubsub
                confirmed = await self._send_subscribe(pubsub, channels)
            async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
                while not all(future.done() for future in confirmed):
                    self._handle(await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT))
        except TimeoutError as exc:
            await self._drop()
            raise RedisConnectionError("subscriptions not confirmed") from exc
        except BaseException:
            await self._drop()
            raise

    async def _send_subscribe(self, pubsub: PubSub, channels: list[str]) -> list[asyncio.Future[None]]:
        """Send one SUBSCRIBE (with ``self._lock`` held); its confirmations resolve the futures."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        for channel in channels:
            future: asyncio.Future[None] = loop.create_future()
            self._confirmations.setdefault(channel.encode(), deque()).append(future)
            futures.append(future)
        try:
            await pubsub.subscribe(*channels)
        except BaseException:
            for channel, future in zip(channels, futures, strict=True):  # no confirmation will come
                future.cancel()
                waiting = self._confirmations.get(channel.encode())
                if waiting is not None and future in waiting:
                    waiting.remove(future)
            raise
        return futures

    async def _read(self, pubsub: PubSub) -> None:
        loop = asyncio.get_running_loop()
        last_heard = loop.time()
        pinged = False
        while True:
            message = await pubsub.get_message(timeout=self.keepalive)
            now = loop.time()
            if message is not None:
                last_heard, pinged = now, False
                self._handle(message)
            elif now - last_heard >= 2 * self.keepalive:
                raise RedisConnectionError("no answer to a keepalive ping")
            elif not pinged:
                await pubsub.ping()
                pinged = True

    def _handle(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        kind = message["type"]
        if kind == "message":
            self._dispatch(message["data"])
        elif kind == "subscribe":
            waiting = self._confirmations.get(message["channel"])
            if waiting:
                future = waiting.popleft()
                if not waiting:
                    del self._confirmations[message["channel"]]
                if not future.done():
                    future.set_result(None)

    def _dispatch(self, data: bytes) -> None:
        try:
            envelope = envelope_decoder.decode(data)
        except msgspec.DecodeError:
            log.warning("redis bus: undecodable message dropped")
            return
        for handler in tuple(self._handlers.get(envelope.room, ())):
            for frame in envelope.frames:
                try:
                    handler(frame)
                except Exception as exc:
                    log.warning("bus handler failed: %s", type(exc).__name__)

    def _notify_reconnected(self) -> None:
        for callback in tuple(self._callbacks):
            try:
                callback()
            except Exception as exc:
                log.warning("on_reconnect callback failed: %s", type(exc).__name__)

    async def _drop(self) -> None:
        """Forget the current PubSub (after a failure, or at close)."""
        self.available = False
        pubsub, self._pubsub = self._pubsub, None
        for waiting in self._confirmations.values():
            for future in waiting:
                future.cancel()
        self._confirmations.clear()
        if pubsub is not None:
            with contextlib.suppress(*UNREACHABLE):
                await pubsub.aclose()

"""A lean websocket client on asyncio Protocols, so the load generator is not the bottleneck.

One ``WsClient`` is one connection, made with ``loop.create_connection``. It does the HTTP
upgrade itself (and checks ``Sec-WebSocket-Accept``), sends masked text frames and parses the
server's frames in ``data_received`` from one ``bytearray``: every length encoding (7 bits, 16
bits after 126, 64 bits after 127), fragmented messages, ping (answered with pong) and close
(echoed, then the socket is closed). No extensions are offered, so frames are never compressed.

Method, per delivered chat: a text frame that starts with ``{"type":"chat"`` is not parsed as
JSON; the send time the sender put in its ``text`` (``time.time()`` as a float, comparable
across processes on one machine) is found with ``bytearray.find(b'"text":"')`` and read with
``float``. The receive time is read once per ``data_received`` call, so a batch of frames that
arrived together shares it. Deliveries go into one ``Stats`` per process: a count and a latency
histogram (10 µs buckets up to 2 s), cheap to fill and to merge across processes. JSON is
parsed only for other frames while someone waits for them (``expect``: the join handshake).

The masking key is fixed (the server cannot tell, and unpredictability only matters against
proxies in browsers); the XOR runs as one big-integer operation with the mask precomputed per
length.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import json
import os
import time
from typing import Any

MASK_KEY = b"\x5a\x13\xc7\x2e"
CHAT_PREFIX = b'{"type":"chat"'
ERROR_PREFIX = b'{"type":"error"'
TEXT_FIELD = b'"text":"'
BUCKET_SECONDS = 1e-5  # latency histogram: 10 µs buckets ...
BUCKETS = 200_000  # ... up to 2 s; later deliveries land in the last bucket
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class Refused(Exception):
    """The server answered an expected message with an ``error`` frame."""


@functools.cache
def _mask_int(length: int) -> int:
    return int.from_bytes((MASK_KEY * (length // 4 + 1))[:length], "big")


def encode_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """One final, masked client frame."""
    length = len(payload)
    if length < 126:
        header = bytes((0x80 | opcode, 0x80 | length))
    elif length < 1 << 16:
        header = bytes((0x80 | opcode, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        header = bytes((0x80 | opcode, 0x80 | 127)) + length.to_bytes(8, "big")
    masked = (int.from_bytes(payload, "big") ^ _mask_int(length)).to_bytes(length, "big")
    return header + MASK_KEY + masked


class Stats:
    """Chat deliveries to every client of one process, during one step.

    A delivery counts if it was sent at or after ``since`` (the step's start); earlier ones are
    late arrivals of a previous step, counted apart as ``stale``."""

    def __init__(self) -> None:
        self.reset(float("inf"))

    def reset(self, since: float) -> None:
        self.since = since
        self.delivered = 0
        self.stale = 0
        self.errors = 0  # error frames received outside a join
        self.error_sample = ""  # the first of them
        self.last = 0.0  # receive time of the last counted delivery
        self.histogram = [0] * BUCKETS

    def sparse_histogram(self) -> list[tuple[int, int]]:
        return [(bucket, count) for bucket, count in enumerate(self.histogram) if count]


class WsClient(asyncio.Protocol):
    """One websocket connection: the upgrade, frames in and out, the chat hot path."""

    def __init__(self, host: str, port: int, path: str, stats: Stats) -> None:
        loop = asyncio.get_running_loop()
        self.request_head = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        )
        self.key = base64.b64encode(os.urandom(16))
        self.stats = stats
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.is_open = False
        self.closed = False
        self.close_code: int | None = None
        self.fragments: bytearray | None = None  # a fragmented message being reassembled
        self.fragment_opcode = OP_TEXT
        self.wanted: frozenset[str] = frozenset()
        self.last_seen = ""  # type of the last message read while waiting (for error messages)
        self.waiter: asyncio.Future[tuple[dict[str, Any], float]] | None = None

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        request = (
            f"{self.request_head}Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        transport.write(request.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.is_open = False
        error = ConnectionError(f"connection closed (code {self.close_code})")
        if not self.upgraded.done():
            self.upgraded.set_exception(error)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(error)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.is_open and not self._upgrade():
            return
        now = time.time()
        pos, size = 0, len(buf)
        while size - pos >= 2:
            first, length = buf[pos], buf[pos + 1]
            if length & 0x80:
                self._fail("the server masked a frame")
                return
            start = pos + 2
            if length == 126:
                if size - start < 2:
                    break
                length = int.from_bytes(buf[start : start + 2], "big")
                start += 2
            elif length == 127:
                if size - start < 8:
                    break
                length = int.from_bytes(buf[start : start + 8], "big")
                start += 8
            end = start + length
            if end > size:
                break
            if first == 0x80 | OP_TEXT:  # a whole text frame: the hot path
                self._text(buf, start, end, now)
            else:
                self._other(first, bytes(buf[start:end]), now)
            if self.closed:
                return
            pos = end
        if pos:
            del buf[:pos]

    # frames in

    def _upgrade(self) -> bool:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > 16384:
                self._fail("no end to the upgrade response")
            return False
        head = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        del self.buffer[: end + 4]
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        accept = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
        if not head[0].startswith("HTTP/1.1 101") or headers.get("sec-websocket-accept") != accept:
            self._fail(f"upgrade refused: {head[0]!r}")
            return False
        self.is_open = True
        self.upgraded.set_result(None)
        return True

    def _text(self, buf: bytes | bytearray, start: int, end: int, now: float) -> None:
        if buf.startswith(CHAT_PREFIX, start, end):
            at = buf.find(TEXT_FIELD, start, end)
            if at < 0:
                return
            at += len(TEXT_FIELD)
            stats = self.stats
            try:
                sent = float(buf[at : buf.find(b'"', at, end)])
            except ValueError:
                return  # a chat that is not ours
            if sent < stats.since:
                stats.stale += 1
                return
            stats.delivered += 1
            stats.last = now
            bucket = int((now - sent) * 1e5)
            if bucket >= BUCKETS:
                bucket = BUCKETS - 1
            elif bucket < 0:
                bucket = 0
            stats.histogram[bucket] += 1
        elif self.waiter is not None:
            self._answer(bytes(buf[start:end]), now)
        elif buf.startswith(ERROR_PREFIX, start, end):  # e.g. a chat refused: a missing delivery
            self.stats.errors += 1
            self.stats.error_sample = self.stats.error_sample or bytes(buf[start:end][:300]).decode(
                errors="replace"
            )

    def _other(self, first: int, payload: bytes, now: float) -> None:
        opcode, final = first & 0x0F, bool(first & 0x80)
        if opcode == OP_PING:
            self._write(encode_frame(payload, OP_PONG))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            self._write(encode_frame(payload[:2], OP_CLOSE))
            self._close_transport()
        elif opcode in (OP_TEXT, OP_BINARY):  # the first fragment of a message
            self.fragments, self.fragment_opcode = bytearray(payload), opcode
        elif opcode == OP_CONTINUATION and self.fragments is not None:
            self.fragments += payload
            if final:
                message, self.fragments = bytes(self.fragments), None
                if self.fragment_opcode == OP_TEXT:
                    self._text(message, 0, len(message), now)
        # pongs, binary frames and anything else: nothing to do

    def _answer(self, payload: bytes, now: float) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        self.last_seen = str(kind)
        if kind in self.wanted:
            waiter.set_result((message, now))
        elif kind == "error":
            waiter.set_exception(Refused(f"{message.get('code')}: {message.get('message')}"))

    # frames out

    def send_text(self, payload: bytes) -> None:
        self._write(encode_frame(payload))

    async def expect(self, kinds: frozenset[str], timeout: float) -> tuple[dict[str, Any], float]:
        """The next text message whose ``type`` is in ``kinds``, and the time it was received;
        an ``error`` frame meanwhile raises ``Refused``."""
        if self.closed:
            raise ConnectionError(f"connection closed (code {self.close_code})")
        self.wanted = kinds
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(self.waiter, timeout)
        finally:
            self.waiter = None

    def close(self) -> None:
        if not self.closed and self.is_open:
            self._write(encode_frame((1000).to_bytes(2, "big"), OP_CLOSE))
        self._close_transport()

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def _close_transport(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, reason: str) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError(reason))
        self.close_code = 1002
        self._close_transport()


async def connect(host: str, port: int, path: str, stats: Stats, timeout: float) -> WsClient:
    """An open websocket (TCP connect and upgrade within ``timeout``)."""
    loop = asyncio.get_running_loop()

    async def opened() -> WsClient:
        _, client = await loop.create_connection(lambda: WsClient(host, port, path, stats), host, port)
        try:
            await client.upgraded
        except BaseException:
            client.close()
            raise
        return client

    return await asyncio.wait_for(opened(), timeout)

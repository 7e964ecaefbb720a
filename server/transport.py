"""Limits at the connection level, below ASGI: a deadline for request headers and a cap on open
connections per client address. uvicorn has neither (its keep-alive timeout only covers idle
connections between requests, and a client that sends one byte at a time cancels it), so a bare
node could be held by a few clients trickling headers (slowloris) or opening thousands of
sockets.

``protocols(settings)`` returns uvicorn's HTTP (h11) and websocket (websockets-sansio) protocol
classes, extended, with one ``ConnectionLimits`` shared by both: a websocket starts as an HTTP
connection and is handed over to the websocket protocol on the same transport, so the count
follows the transport, not the protocol object. Client addresses are held in memory only for
that count and are never logged.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.config import Settings

TOO_MANY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 37\r\n\r\ntoo many connections from one address"
)


class ConnectionLimits:
    """Open transports per client address; ``per_address`` 0 means no cap."""

    def __init__(self, per_address: int) -> None:
        self.per_address = per_address
        self.open: dict[str, set[asyncio.BaseTransport]] = {}

    @staticmethod
    def address(transport: asyncio.BaseTransport) -> str | None:
        peer = transport.get_extra_info("peername")
        return str(peer[0]) if isinstance(peer, tuple) and peer else None  # None: a unix socket

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Count ``transport`` in, unless its address already has ``per_address`` open."""
        if self.per_address == 0:
            return True
        address = self.address(transport)
        if address is None:
            return True
        held = self.open.setdefault(address, set())
        if transport not in held and len(held) >= self.per_address:
            return False
        held.add(transport)
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        address = self.address(transport)
        if address is None or address not in self.open:
            return
        held = self.open[address]
        held.discard(transport)
        if not held:
            del self.open[address]


def protocols(settings: Settings) -> tuple[type[H11Protocol], type[WebSocketsSansIOProtocol]]:
    """uvicorn ``http=`` and ``ws=`` classes enforcing ``settings.header_timeout`` and
    ``settings.max_connections_per_address`` (one count per server)."""
    limits = ConnectionLimits(settings.max_connections_per_address)
    header_timeout = settings.header_timeout

    class HttpProtocol(H11Protocol):
        """uvicorn's h11 protocol, closing a connection whose request headers are not complete
        within ``header_timeout`` (from connect, or from the end of the previous response), and
        refusing one beyond the per-address cap with a 503."""

        header_timer: asyncio.TimerHandle | None = None
        admitted = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if not limits.admit(transport):
                transport.write(TOO_MANY)
                transport.close()
                return
            self.admitted = True
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            if self.admitted and self.transport.get_protocol() is self:  # else the websocket releases it
                limits.release(self.transport)
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()  # the next request's headers get the same deadline

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._cancel_header_timer()
            super().handle_websocket_upgrade(event)

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            self.header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _cancel_header_timer(self) -> None:
            if self.header_timer is not None:
                self.header_timer.cancel()
                self.header_timer = None

        def _headers_too_slow(self) -> None:
            self.header_timer = None
            # IDLE: h11 has not seen a whole request head since the connection or the last response.
            if self.transport.get_protocol() is self and self.conn.their_state is h11.IDLE:
                self.transport.close()

    class SocketProtocol(WebSocketsSansIOProtocol):
        """uvicorn's websocket protocol, giving the connection's place back when it ends."""

        def connection_lost(self, exc: Exception | None) -> None:
            limits.release(self.transport)
            super().connection_lost(exc)

    return HttpProtocol, SocketProtocol

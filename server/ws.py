"""The socket loop: origin check, the join handshake, then one reader per socket (writing is
``server.connection``'s).

Keepalive pings (every ``heartbeat_interval``, dead after ``heartbeat_timeout`` more) are sent
by uvicorn at the protocol level, so browsers and bots need no application pings to stay alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from rooms.backends.base import StoreUnavailable
from rooms.codes import SEAT_GONE, Close, ErrorCode
from rooms.commands import Disconnect
from rooms.errors import CommandError
from server import metrics, protocol
from server.connection import Connection
from server.joining import JoinRefused, join
from server.node import Node
from server.ratelimit import Strikes, TokenBucket
from server.requests import handle_message
from server.signals import frame_bytes

log = logging.getLogger("hearth.ws")


def origin_allowed(headers: Headers, node: Node) -> bool:
    origin = headers.get("origin")
    if origin is None:
        return True  # not a browser: tokens still decide who gets in
    host = headers.get("host", "")
    own = {f"http://{host}", f"https://{host}", node.settings.public_url}
    return origin in own or origin in node.settings.allowed_origins


async def serve_socket(scope: Scope, receive: Receive, send: Send) -> None:
    """``/ws`` as a plain ASGI app. Every frame in and out is on the hot path, so the loop uses
    the server's own ``receive``/``send`` instead of Starlette's ``WebSocket`` wrapper (a state
    check and an extra coroutine per frame; nothing here needs them). The reading loop is in this
    coroutine itself, not a helper: it stays suspended for the whole session of every socket, so
    each level of nesting is memory per socket."""
    node: Node = scope["app"].state.node
    conn = await _open(scope, receive, send, node)
    if conn is None:
        return
    metrics.CONNECTIONS.inc()
    try:
        if not await _handshake(conn, node):
            return
        settings = node.settings
        ordinary = conn.rate = TokenBucket(settings.rate_per_second, settings.rate_burst)
        signals = TokenBucket(settings.signal_rate_per_second, settings.signal_burst)
        strikes = Strikes(settings.rate_strikes)
        # The close frame we send, or the peer going, ends the reading with a disconnect; only a
        # peer that reads nothing (4011) is cut off, by cancelling this task.
        task = conn.reader = asyncio.current_task()
        try:
            while conn.closing is None:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    text = _text(message)
                    msg = protocol.decode(text)
                except protocol.ProtocolError as exc:
                    metrics.count_in("invalid")
                    _error(conn, exc.code, exc.message, exc.ref)
                    if strikes.add():
                        conn.close_soon(Close.RATE_LIMIT)
                    continue
                bucket = signals if isinstance(msg, protocol.SignalMsg | protocol.SfuMsg) else ordinary
                if not bucket.take() or (bucket is signals and not _signal_budget(node, conn, text)):
                    _error(conn, ErrorCode.RATE_LIMITED, "slow down a little", msg.id)
                    if strikes.add():
                        extra = {"conn": conn.conn_id, "code": Close.RATE_LIMIT}
                        log.info("closing flooding client", extra=extra)
                        conn.close_soon(Close.RATE_LIMIT)
                    continue
                metrics.count_in(type(msg).__struct_config__.tag)  # type: ignore[arg-type]
                await _handle(conn, node, msg)
        except asyncio.CancelledError:
            if task is None or not conn.stopped or task.uncancel() > 0:
                raise  # not (only) the connection's own cut-off
        finally:
            conn.reader = None
    finally:
        metrics.CONNECTIONS.dec()
        await _finish(conn, node)


async def _open(scope: Scope, receive: Receive, send: Send, node: Node) -> Connection | None:
    """Accept the socket if its origin may connect (else refuse the handshake: 403)."""
    if (await receive())["type"] != "websocket.connect":
        return None
    if not origin_allowed(Headers(scope=scope), node):
        metrics.ERRORS.labels(ErrorCode.FORBIDDEN_ORIGIN).inc()
        await send({"type": "websocket.close", "code": Close.UNAUTHORIZED, "reason": ""})
        return None
    await send({"type": "websocket.accept"})
    return Connection(send, receive, node.settings, node.views, secrets.token_hex(8))


async def _handle(conn: Connection, node: Node, msg: Any) -> None:
    """One message of a joined participant: its one answer (``server.acks``)."""
    requests = conn.requests
    requests.begin(msg.id)
    try:
        await handle_message(conn, node, msg)
    except CommandError as exc:
        requests.refuse(exc.code, exc.message)
    except protocol.ProtocolError as exc:
        requests.refuse(exc.code, exc.message)
    except StoreUnavailable:
        requests.refuse(ErrorCode.UNAVAILABLE, "the room service is unavailable; try again shortly")
    except Exception:
        log.exception("internal error", extra={"conn": conn.conn_id, "type": type(msg).__name__})
        requests.refuse(ErrorCode.INTERNAL, "something went wrong on our side")
    else:
        await requests.finish()


async def _handshake(conn: Connection, node: Node) -> bool:
    """Wait for a valid ``join``; fixable mistakes get an error and another chance."""
    deadline = asyncio.get_running_loop().time() + node.settings.join_timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        try:
            message = await asyncio.wait_for(conn.receive(), max(0.0, remaining))
        except TimeoutError:
            _refuse(conn, ErrorCode.UNAUTHORIZED, "send join first", None, Close.UNAUTHORIZED)
            return False
        if message["type"] == "websocket.disconnect":
            return False
        ref: protocol.Id | None = None  # the failing message's id, once it could be read
        try:
            msg = protocol.decode(_text(message))
            ref = msg.id
            if not isinstance(msg, protocol.JoinMsg):
                raise protocol.ProtocolError(ErrorCode.UNAUTHORIZED, "the first message must be join", msg.id)
            metrics.count_in("join")
            conn.requests.begin(msg.id)
            await join(conn, node, msg)
            await conn.requests.finish()
            return True
        except protocol.ProtocolError as exc:
            if exc.kind != "join":  # not a join at all: the contract closes with 4001
                why = "the first message must be join"
                _refuse(conn, ErrorCode.UNAUTHORIZED, why, exc.ref, Close.UNAUTHORIZED)
                return False
            _error(conn, exc.code, exc.message, exc.ref)  # a join with a fixable mistake
        except JoinRefused as exc:
            if exc.close is not None:
                _refuse(conn, exc.code, exc.message, exc.ref, exc.close)
                return False
            _error(conn, exc.code, exc.message, exc.ref)
        except Exception:
            log.exception("internal error during join", extra={"conn": conn.conn_id})
            _refuse(conn, ErrorCode.INTERNAL, "something went wrong on our side", ref, Close.INTERNAL)
            return False


async def _finish(conn: Connection, node: Node) -> None:
    """The socket is gone or going: stop writing, and keep the seat for the grace period
    unless the participant left, was removed, or was replaced by a newer connection."""
    if not conn.stopped:
        if conn.closing is not None:  # let it send what is queued and the close frame
            with contextlib.suppress(asyncio.CancelledError):
                await conn.wait_stopped(node.settings.slow_close_seconds)
        await conn.stop()
    if not conn.pid:
        return
    current = await node.hub.detach(conn.room_id, conn.pid, conn)
    if current and conn.closing not in SEAT_GONE:
        with contextlib.suppress(CommandError, StoreUnavailable):
            await node.service.execute(conn.room_id, Disconnect(actor=conn.pid, conn=conn.conn_id))
    log.info("connection closed", extra={"conn": conn.conn_id, "room": conn.room_id, "code": conn.closing})


def _signal_budget(node: Node, conn: Connection, text: str | bytes) -> bool:
    """Charge a signal's bytes to its sender's budget (server.signals)."""
    size = len(text) if isinstance(text, bytes) else frame_bytes(text)
    return node.signal_budgets.take(conn.room_id, conn.pid, size)


def _text(message: Any) -> str | bytes:
    text = message.get("text")
    if text is None:
        raise protocol.ProtocolError(ErrorCode.BAD_MESSAGE, "send text frames holding JSON")
    return text  # type: ignore[no-any-return]


def _error(conn: Connection, code: ErrorCode, message: str, ref: protocol.Id | None) -> None:
    """The error of a message: the open request's if it is the one refused, else one of its own
    (a message that could not be read or was not let in, before any handling)."""
    requests = conn.requests
    if requests.unanswered and requests.ref == ref:
        requests.refuse(code, message)
    else:
        requests.error(code, message, ref)


def _refuse(conn: Connection, code: ErrorCode, message: str, ref: protocol.Id | None, close: Close) -> None:
    _error(conn, code, message, ref)
    conn.close_soon(close)

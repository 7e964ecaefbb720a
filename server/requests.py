"""What a joined participant's messages do: a small table of server-level handlers, and the
room commands that go to the engine through the room service."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import msgspec

from rooms import commands as c
from rooms.backends.base import Frame
from rooms.codes import Close, ErrorCode
from rooms.engine import authorize, lobby_state
from rooms.errors import CommandError
from rooms.events import Lobby
from rooms.handlers import HANDLERS
from rooms.model import MediaPath, RoomState, SessionState
from rooms.permissions import Capability
from server import protocol
from server.connection import Connection
from server.node import Node
from server.sfu.peer import SfuPeer
from server.signals import check_sizes, filter_signal

Handler = Callable[[Connection, Node, Any], Awaitable[None]]


async def _ping(conn: Connection, node: Node, msg: protocol.PingMsg) -> None:
    conn.reply(protocol.PONG)


async def _sync(conn: Connection, node: Node, msg: protocol.SyncMsg) -> None:
    # The state without its chat (cheap, whatever the chat's length): who is asking, and an
    # honest `unavailable` while the store is away.
    state = await node.service.state(conn.room_id, with_chat=False)
    seat = state.seats.get(conn.pid) if state is not None else None
    if state is None or seat is None:
        raise CommandError(ErrorCode.SESSION_ENDED, "you are no longer in this session")
    if not seat.admitted:
        conn.reply(protocol.encode(Lobby(state=lobby_state(state))))
        return
    # Not built here: a snapshot built from the state read above could reach the client after
    # newer frames written meanwhile, taking its view back in time (and the frames in between
    # would be skipped as covered). The writer builds it in its place in the outbox, from the
    # latest state, so it covers every frame sent before it; frames it covers are skipped.
    # Repeated requests meanwhile coalesce into it, nothing is built for a socket that goes,
    # and its size is charged.
    conn.request_snapshot()


async def _chat_history(conn: Connection, node: Node, msg: protocol.ChatHistoryMsg) -> None:
    """A page of older chat the requester may see, charged by its size like a snapshot."""
    state = await node.service.state(conn.room_id)
    seat = state.seats.get(conn.pid) if state is not None else None
    if state is None or seat is None:
        raise CommandError(ErrorCode.SESSION_ENDED, "you are no longer in this session")
    if not seat.admitted:
        raise CommandError(ErrorCode.FORBIDDEN, "you are waiting to be let in")
    page = node.settings.chat_page
    try:
        messages, more = state.chat_page(seat, min(msg.limit or page, page), msg.before)
    except KeyError:
        why = "no chat message with that id (deleted, or too old)"
        raise CommandError(ErrorCode.INVALID_TARGET, why) from None
    reply = protocol.encode(
        {"type": "chat_history", "ref": msg.id, "before": msg.before, "messages": messages, "more": more}
    )
    conn.reply(reply)
    conn.charge(len(reply))


async def _join_again(conn: Connection, node: Node, msg: protocol.JoinMsg) -> None:
    raise protocol.ProtocolError(ErrorCode.BAD_MESSAGE, "already joined")


async def _leave(conn: Connection, node: Node, msg: protocol.Msg) -> None:
    await node.service.execute(conn.room_id, protocol.to_command(msg, conn.pid), conn.requests.carry())
    conn.requests.close_when_answered(Close.NORMAL)


async def _signal(conn: Connection, node: Node, msg: protocol.SignalMsg) -> None:
    check_sizes(msg.data, node.settings)  # limits first, before any I/O
    state = await node.service.state(conn.room_id, with_chat=False)
    if state is None:
        raise CommandError(ErrorCode.FORBIDDEN, "you are not in this room")
    authorize(state, conn.pid, Capability.TAKE_PART)  # the rule the engine checks for commands
    if state.media is MediaPath.SFU:
        # Media goes through the media server only: a direct connection would tell members each
        # other's addresses and carry sound the media server could not stop (server.sfu).
        raise CommandError(ErrorCode.FORBIDDEN, "in this session media passes through the media server")
    target = state.seats.get(msg.to)
    if target is None or not target.admitted or msg.to == conn.pid:
        raise CommandError(ErrorCode.INVALID_TARGET, "nobody with that id is in this session")
    data = filter_signal(msg.data, node.settings.ice_policy == "relay")
    if data is None:
        return
    where = await node.presence.where(conn.room_id, msg.to, target.conn)
    if where is None:
        return  # the recipient is reconnecting: it renegotiates once back
    payload = protocol.encode({"type": "signal", "from": conn.pid, "data": data})
    # Only the socket the seat names gets it, not one still trying to take the seat.
    frame = Frame(payload, (msg.to,), 0, None, None, "signal", time.time(), target.conn)
    await node.service.relay(conn.room_id, frame, where)


async def _sfu_session(conn: Connection, node: Node) -> RoomState:
    """The state of a live SFU session this participant is let in to; ``forbidden`` otherwise
    (a mesh room, a lobby member, no media server on this deployment)."""
    state = await node.service.state(conn.room_id, with_chat=False) if node.sfu is not None else None
    if state is None or state.session is not SessionState.LIVE or state.media is not MediaPath.SFU:
        raise CommandError(ErrorCode.FORBIDDEN, "this session's media does not pass through a media server")
    authorize(state, conn.pid, Capability.TAKE_PART)
    return state


async def _sfu(conn: Connection, node: Node, msg: protocol.SfuMsg) -> None:
    """The participant's side of its two media server connections (server.sfu): sizes checked
    like a ``signal`` (and charged to the same byte budget, in server.ws), then handed to its
    peer, whose own task talks to Janus: the socket never waits for the media server."""
    if isinstance(msg.description, protocol.SessionDescription):
        check_sizes(protocol.SignalData(description=msg.description), node.settings)
    elif isinstance(msg.candidate, protocol.IceCandidate):
        check_sizes(protocol.SignalData(candidate=msg.candidate), node.settings)
    state = await _sfu_session(conn, node)
    assert node.sfu is not None
    peer: SfuPeer = node.sfu.peer_for(conn.room_id, conn.pid, conn.conn_id, state)
    description = msg.description
    if isinstance(description, protocol.SessionDescription):
        expected = "offer" if msg.pc == "pub" else "answer"
        if description.type != expected:
            raise protocol.ProtocolError(
                ErrorCode.BAD_MESSAGE, f"the {msg.pc} connection sends an {expected}"
            )
        if msg.pc == "pub":
            peer.client_offer({"type": description.type, "sdp": description.sdp})
        else:
            peer.client_answer({"type": description.type, "sdp": description.sdp})
        return
    candidate = msg.candidate
    if isinstance(candidate, protocol.IceCandidate) and candidate.candidate:
        peer.client_candidate(msg.pc, msgspec.to_builtins(candidate))
    else:
        peer.client_candidate(msg.pc, None)  # the end of this connection's candidates


async def _sfu_view(conn: Connection, node: Node, msg: protocol.SfuViewMsg) -> None:
    state = await _sfu_session(conn, node)
    pinned = state.seats.get(msg.pin) if msg.pin is not None else None
    if msg.pin is not None and (pinned is None or not pinned.admitted):
        raise CommandError(ErrorCode.INVALID_TARGET, "nobody with that id is in this session")
    assert node.sfu is not None
    node.sfu.pin(conn.room_id, conn.pid, msg.pin)


async def _chat(conn: Connection, node: Node, msg: protocol.ChatMsg | protocol.AskHelpMsg) -> None:
    # The rules (not empty, not too long, the ring's caps) are the engine's: the command carries
    # this server's limits to it.
    limits = node.limits
    command = protocol.to_command(msg, conn.pid)
    caps = {
        "max_chars": limits.max_chat_chars,
        "max_messages": limits.chat_max_messages,
        "max_bytes": limits.chat_max_bytes,
    }
    await node.service.execute(conn.room_id, msgspec.structs.replace(command, **caps), conn.requests.carry())


async def _command(conn: Connection, node: Node, msg: Any) -> None:
    await node.service.execute(conn.room_id, protocol.to_command(msg, conn.pid), conn.requests.carry())


SERVER_HANDLERS: dict[str, Handler] = {
    "ping": _ping,
    "sync": _sync,
    "join": _join_again,
    "leave": _leave,
    "signal": _signal,
    "sfu": _sfu,
    "sfu_view": _sfu_view,
    "chat": _chat,
    "ask_help": _chat,
    "chat_history": _chat_history,
}
"""Client message type -> its server-level handler: every message without a room command (see
``protocol.ROUTES``), and the room messages that need more than the engine (``leave`` closes the
socket, ``chat`` and ``ask_help`` add the session's chat caps). Every other room message goes
to ``_command``."""

_DISPATCH: dict[type, Handler] = {
    route.message: SERVER_HANDLERS.get(wire, _command) for wire, route in protocol.ROUTES.items()
}


async def handle_message(conn: Connection, node: Node, msg: Any) -> None:
    await _DISPATCH[type(msg)](conn, node, msg)


class RouteRow(NamedTuple):
    """One client message, hop by hop: what a reader needs to answer "what does X do, who may"."""

    wire: str
    message: type
    command: type[c.Command] | None
    server_handler: Handler | None
    capability: Capability | None


def route_table() -> list[RouteRow]:
    """The registry joined with the server handlers and the engine's capabilities."""
    rows = []
    for wire, route in protocol.ROUTES.items():
        spec = HANDLERS.get(route.command) if route.command is not None else None
        capability = spec.capability if spec is not None else None
        rows.append(RouteRow(wire, route.message, route.command, SERVER_HANDLERS.get(wire), capability))
    return rows

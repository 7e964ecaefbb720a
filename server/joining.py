"""The join handshake: check the token (or resume token), pick the participant id, take a seat.

The role comes only from the signed token; whatever else a ``join`` claims is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from rooms import commands as c
from rooms import text as text_rules
from rooms.backends.base import StoreUnavailable
from rooms.codes import Close, ErrorCode
from rooms.errors import CommandError
from rooms.permissions import Capability, can
from rooms.service import RoomNotFound
from server import protocol, tokens
from server.connection import Connection
from server.node import Node
from server.personal_links import LinkRefused, link_member

log = logging.getLogger("hearth.ws")


# Refusals that another join on the same socket cannot fix close it.
_FATAL = {
    ErrorCode.BANNED: Close.REFUSED,
    ErrorCode.ROOM_LOCKED: Close.REFUSED,
    ErrorCode.ROOM_FULL: Close.REFUSED,
    ErrorCode.LOBBY_FULL: Close.REFUSED,
    ErrorCode.SESSION_ENDED: Close.SESSION_ENDED,
    ErrorCode.UNAUTHORIZED: Close.UNAUTHORIZED,
}

NO_ROOM = "this room does not exist"


class JoinRefused(Exception):
    def __init__(self, code: ErrorCode, message: str, ref: protocol.Id | None, close: Close | None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref, self.close = code, message, ref, close


def participant_id(secret: str, room: str, sub: str | None) -> str:
    """A personal invite (``sub``) always maps to the same id; a shared link gets a fresh one."""
    if sub is None:
        return "p" + secrets.token_hex(8)
    digest = hmac.new(secret.encode(), f"{room}\x00{sub}".encode(), hashlib.sha256).hexdigest()
    return "s" + digest[:16]


async def join(conn: Connection, node: Node, msg: protocol.JoinMsg) -> None:
    if msg.resume is not None and await _try_resume(conn, node, msg):
        return
    settings = node.settings
    try:
        claims = tokens.verify_invite(settings.secret, msg.token)
    except tokens.TokenError:
        raise JoinRefused(
            ErrorCode.UNAUTHORIZED, "this link is invalid or has expired", msg.id, Close.UNAUTHORIZED
        ) from None
    try:
        config = await node.service.current_config(claims.room)  # links may have just been revoked
    except RoomNotFound:
        raise JoinRefused(ErrorCode.UNAUTHORIZED, NO_ROOM, msg.id, Close.NOT_FOUND) from None
    except StoreUnavailable:
        raise _unavailable(msg.id) from None
    try:  # a personal link is honoured by its roster entry, any other by the room's versions
        await link_member(node.journey, claims, config)
    except LinkRefused as refused:
        raise JoinRefused(refused.code, refused.message, msg.id, _FATAL.get(refused.code)) from None
    except StoreUnavailable:
        raise _unavailable(msg.id) from None
    raw_name = msg.name if msg.name is not None else (claims.name or "")
    try:
        name = protocol.printable_name(raw_name, settings.max_name_chars)
    except protocol.ProtocolError as exc:
        raise JoinRefused(exc.code, exc.message, msg.id, None) from None
    posed = None if can(claims.role, Capability.ROLE_LIKE_NAME) else text_rules.imitates_role(name)
    if posed is not None:  # only those who speak for the room may look like they do
        raise JoinRefused(
            ErrorCode.BAD_MESSAGE,
            f'please choose another name: names like "{posed}" are kept for the people who hold that role',
            msg.id,
            None,
        )
    pid = participant_id(settings.secret, claims.room, claims.sub)
    command = c.Join(
        actor=pid,
        name=name,
        role=claims.role,
        agree=msg.agree,
        sub=claims.sub,
        device=msg.device,
        session_id="s" + secrets.token_hex(8),
        conn=conn.conn_id,
        lobby_max=settings.lobby_max,
        media=settings.media_path(config),  # the engine uses it only if this join starts a session
    )
    await _seat(conn, node, claims.room, pid, command, msg.id)
    log.info(
        "joined",
        extra={"conn": conn.conn_id, "room": claims.room, "participant": pid, "role": str(claims.role)},
    )


async def _try_resume(conn: Connection, node: Node, msg: protocol.JoinMsg) -> bool:
    """True when the resume worked; false to fall back to a fresh join."""
    assert msg.resume is not None
    try:
        claims = tokens.verify_resume(node.settings.secret, msg.resume)
    except tokens.TokenError:
        return False
    command = c.Resume(
        actor=claims.participant,
        session_id=claims.session,
        gen=claims.gen,
        grace_seconds=node.settings.grace_seconds,
        conn=conn.conn_id,
    )
    try:
        await _seat(conn, node, claims.room, claims.participant, command, msg.id)
    except JoinRefused as exc:
        if exc.code == ErrorCode.SESSION_ENDED:
            raise
        return False
    log.info("resumed", extra={"conn": conn.conn_id, "room": claims.room, "participant": claims.participant})
    return True


async def _seat(
    conn: Connection, node: Node, room: str, pid: str, command: c.Command, ref: protocol.Id | None
) -> None:
    """Run the join or resume; the connection takes the seat only once it was accepted.

    Before the command, the connection is only *pending* on this node (it hears the room, and
    presence has an entry for this socket of its own): the connection holding the seat keeps it
    and every frame addressed to it, so a replayed resume token cannot take a victim's private
    frames nor remove their presence, even for the moment the check takes. The welcome frame of
    an accepted command promotes the connection where it arrives; so does the success here."""
    conn.room_id, conn.pid = room, pid
    try:
        await node.hub.prepare(room, pid, conn)
    except StoreUnavailable:
        conn.room_id, conn.pid = "", ""
        raise _unavailable(ref) from None
    try:
        await node.service.execute(room, command, conn.requests.carry())
    except Exception as exc:
        if isinstance(exc, StoreUnavailable) and node.hub.connection(room, pid) is conn:
            # The connection broke after the write was sent, and the write happened: its
            # welcome arrived and seated this connection. The join stands.
            return
        await node.hub.detach(room, pid, conn)
        conn.room_id, conn.pid = "", ""
        if not isinstance(exc, CommandError | StoreUnavailable | RoomNotFound):
            raise
        if isinstance(exc, CommandError):
            raise JoinRefused(exc.code, exc.message, ref, _FATAL.get(exc.code)) from None
        if isinstance(exc, RoomNotFound):
            raise JoinRefused(ErrorCode.UNAUTHORIZED, NO_ROOM, ref, Close.NOT_FOUND) from None
        raise _unavailable(ref) from None
    node.hub.accepted(room, pid, conn)  # its ack travels with its welcome (server.acks)


def _unavailable(ref: protocol.Id | None) -> JoinRefused:
    """The store is away: a fixable refusal, the socket stays open for another ``join``."""
    return JoinRefused(ErrorCode.UNAVAILABLE, "the room service is unavailable; try again shortly", ref, None)

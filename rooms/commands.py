"""Commands: what someone (or the clock) asks of a room. Who acted is part of every command.

Client commands carry ``actor``, the participant id the server authenticated; nothing a client
writes can set it. System commands (``Join``, ``Resume``, ``Disconnect``, ``Tick``, ``PlaceSfu``)
come from the server after it has checked a token, seen a socket close or placed a session's media.

A client command names its wire message in ``wire``: that is its whole declaration. The codec
(``server.protocol``) derives the wire message from the command's fields (all but ``actor``),
with the limits written here (``Target``, ``Annotated`` lengths), so a command and its message
cannot drift apart. It also means every field of such a command is one a client sets: one with a
field only the server may set (``Chat``'s id and caps) or a wire shape of its own
(``SetFloor``) gets a hand-written message and conversion in the codec instead;
a command with ``wire = None`` is a system command no client message can produce.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

from rooms.limits import CHAT_MAX_BYTES, CHAT_MAX_MESSAGES, MAX_CHAT_CHARS
from rooms.model import FloorMode, MediaPath, Role, RoomConfig

Target = Annotated[str, Meta(min_length=1, max_length=64)]
"""A participant or chat message id as a client writes it (the limits apply when decoding)."""


class Command(msgspec.Struct, frozen=True, kw_only=True):
    actor: str
    wire: ClassVar[str | None] = None  # the client message type that asks for it, if any


# System commands -----------------------------------------------------------------------------


class Join(Command, frozen=True, kw_only=True):
    """A verified token asks for a seat. ``actor`` is the id the server chose for the newcomer."""

    name: str
    role: Role
    agree: bool
    sub: str | None = None
    device: str | None = None
    session_id: str = ""  # the id of the session this join starts, if it starts one
    conn: str = ""  # the socket taking the seat
    lobby_max: int | None = None  # how many may wait in the lobby at once (None: no cap)
    # The media path the server resolved for this room (``Settings.media_path``): used only when
    # this join starts the session, which keeps that path until it ends.
    media: MediaPath = MediaPath.MESH


class Resume(Command, frozen=True, kw_only=True):
    """Come back within the grace period with a resume token of generation ``gen``."""

    session_id: str | None
    gen: int
    grace_seconds: float = 30.0
    conn: str = ""  # the socket taking the seat back


class Disconnect(Command, frozen=True, kw_only=True):
    """The socket closed without ``leave``: keep the seat for the grace period. With ``conn``,
    only if that socket still holds the seat (a newer one, maybe on another node, may have
    taken it back meanwhile)."""

    conn: str = ""


class Tick(Command, frozen=True, kw_only=True):
    """The clock: expires grace periods and lobby waits, and sends ``floor_time_up``. ``actor`` is
    ignored. ``lobby_wait_seconds`` None: a lobby seat never times out."""

    actor: str = ""
    grace_seconds: float = 30.0
    lobby_wait_seconds: float | None = None


class PlaceSfu(Command, frozen=True, kw_only=True):
    """The server placed (or placed again) this session on a media server: ``instance`` is its
    private address, ``room`` the VideoRoom there. ``epoch`` must follow the current placement's
    (1 for the first), so two nodes racing to place the same session cannot both win."""

    actor: str = ""
    instance: str
    room: str
    epoch: int


# Anyone ----------------------------------------------------------------------------------------


class Leave(Command, frozen=True, kw_only=True):
    wire = "leave"


class Chat(Command, frozen=True, kw_only=True):
    """Post a message. ``message_id`` is made by the server (random, so the ids a member sees
    say nothing about private messages they cannot see); the engine takes it as given and stays
    deterministic. The text's length cap and the session's chat caps travel with the command
    (the server's ``Limits``), so the engine stays free of configuration."""

    wire = "chat"

    text: str
    message_id: str
    to_facilitators: bool = False
    to: str | None = None  # a private reply to this participant (needs ``ANSWER_HELP``)
    max_chars: int = MAX_CHAT_CHARS
    max_messages: int = CHAT_MAX_MESSAGES
    max_bytes: int = CHAT_MAX_BYTES


class AskHelp(Command, frozen=True, kw_only=True):
    """ "Need help now?": an open alert for whoever may answer help, and the same words as a
    private chat line to the facilitators, so the conversation has them. Carries the chat's id
    and caps as ``Chat`` does (the server sets them)."""

    wire = "ask_help"

    text: str
    message_id: str
    max_chars: int = MAX_CHAT_CHARS
    max_messages: int = CHAT_MAX_MESSAGES
    max_bytes: int = CHAT_MAX_BYTES


class React(Command, frozen=True, kw_only=True):
    wire = "react"
    emoji: Annotated[str, Meta(max_length=16)]


class Media(Command, frozen=True, kw_only=True):
    wire = "media"
    audio: bool
    video: bool


class Hand(Command, frozen=True, kw_only=True):
    wire = "hand"
    raised: bool


class Pass(Command, frozen=True, kw_only=True):
    wire = "pass"


class Away(Command, frozen=True, kw_only=True):
    wire = "away"
    away: bool


# Facilitators ----------------------------------------------------------------------------------


class Mute(Command, frozen=True, kw_only=True):
    wire = "mute"
    target: Target
    video: bool = False


class MuteAll(Command, frozen=True, kw_only=True):
    wire = "mute_all"


class AllowSpeak(Command, frozen=True, kw_only=True):
    wire = "allow_speak"
    target: Target


class GiveFloor(Command, frozen=True, kw_only=True):
    wire = "give_floor"
    target: Target


class NextFloor(Command, frozen=True, kw_only=True):
    wire = "next_floor"


class EndFloor(Command, frozen=True, kw_only=True):
    wire = "end_floor"


class SetFloor(Command, frozen=True, kw_only=True):
    wire = "set_floor"
    mode: FloorMode
    turn_seconds: int | None = None
    set_turn_seconds: bool = False
    order: tuple[str, ...] | None = None


class LowerHand(Command, frozen=True, kw_only=True):
    wire = "lower_hand"
    target: Target


class LowerAllHands(Command, frozen=True, kw_only=True):
    wire = "lower_all_hands"


class Admit(Command, frozen=True, kw_only=True):
    wire = "admit"
    target: Target


class AdmitAll(Command, frozen=True, kw_only=True):
    wire = "admit_all"


class Deny(Command, frozen=True, kw_only=True):
    wire = "deny"
    target: Target


class DenyAll(Command, frozen=True, kw_only=True):
    """Clear the lobby: everyone waiting is turned away (not banned: they may join again)."""

    wire = "deny_all"


class Lock(Command, frozen=True, kw_only=True):
    wire = "lock"
    locked: bool


class Remove(Command, frozen=True, kw_only=True):
    wire = "remove"
    target: Target
    ban: bool = False


class DeleteChat(Command, frozen=True, kw_only=True):
    wire = "delete_chat"
    message_id: Target


class AckHelp(Command, frozen=True, kw_only=True):
    """ "I'm on it": closes the open help alert of ``target`` (the asker's id, the alert's id;
    the wire's ``id`` is the request's own)."""

    wire = "ack_help"
    target: Target


class EndSession(Command, frozen=True, kw_only=True):
    wire = "end_session"


class UpdateRoom(Command, frozen=True, kw_only=True):
    """Settings changed over HTTP (``PATCH``): the live state takes the new definition."""

    actor: str = ""
    config: RoomConfig


class JourneyNotice(Command, frozen=True, kw_only=True):
    """The group's journey changed where others can see it (``what``: "board", "plans" or
    "checkins"): every admitted participant hears ``journey_changed`` and refetches over HTTP.
    Only while a session is live; the server runs it after the write (docs/journey.md)."""

    actor: str = ""
    what: str


# The run-sheet (rooms.handlers.phases) ----------------------------------------------------------


class SetPhase(Command, frozen=True, kw_only=True):
    """Begin phase ``index`` of the room's run-sheet (from 0), or end the run-sheet (``None``)."""

    wire = "set_phase"
    index: int | None  # out of the run-sheet's range: ``invalid_target`` (the engine checks)


class NextPhase(Command, frozen=True, kw_only=True):
    """One click: the first phase if none is under way, else the next; after the last, none."""

    wire = "next_phase"

"""Chat and reactions: posting (to the group, privately to the facilitators, or a private reply
to one participant), deleting, and the reaction set (``REACTIONS``, sent in ``welcome.reactions``)."""

from __future__ import annotations

import msgspec

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import ChatDeleted, ChatPosted, Delivery, Reaction
from rooms.handlers.registry import Context, rule
from rooms.handlers.seats import find_seat
from rooms.model import ChatMessage, RoomState
from rooms.permissions import Capability
from rooms.text import TextRefused, clean_chat_text

REACTIONS: tuple[str, ...] = ("💜", "👏", "🙏", "🤗", "👍", "🌱")


def check_text(cmd: c.Chat | c.AskHelp) -> None:
    """A chat message (or a help request) says something, within the server's length cap
    (``Limits.max_chat_chars``). Checked before anything else, whoever sends it: the text alone
    decides."""
    if not cmd.text.strip():
        raise CommandError(ErrorCode.BAD_MESSAGE, "a chat message cannot be empty")
    if len(cmd.text) > cmd.max_chars:
        raise CommandError(ErrorCode.TOO_LARGE, f"a chat message is at most {cmd.max_chars} characters")


def cleaned(text: str) -> str:
    """The text as stored: no direction controls or stray invisible characters."""
    try:
        return clean_chat_text(text)
    except TextRefused as refused:
        raise CommandError(ErrorCode.BAD_MESSAGE, str(refused)) from None


def post(state: RoomState, ctx: Context, message: ChatMessage, max_messages: int, max_bytes: int) -> None:
    """Store a message in the session's chat ring and deliver it to those who may see it."""
    state.chat = state.chat.with_message(message).capped(max_messages, max_bytes)
    if message.private:
        ctx.deliveries.append(Delivery(ChatPosted(message=message), to=_private_audience(state, message)))
    else:
        ctx.deliveries.append(Delivery(ChatPosted(message=message, seq=0)))


@rule(c.Chat, Capability.TAKE_PART, settles=False, check=check_text)
def chat(state: RoomState, cmd: c.Chat, ctx: Context) -> None:
    sender = state.seats[cmd.actor]
    if cmd.to is not None:  # a private reply to one person: only those who may answer help
        if not sender.can(Capability.ANSWER_HELP):
            why = f"only a facilitator may do this ({Capability.ANSWER_HELP})"
            raise CommandError(ErrorCode.FORBIDDEN, why)
        if cmd.to == cmd.actor:
            raise CommandError(ErrorCode.INVALID_TARGET, "a private reply goes to someone else")
        find_seat(state, cmd.to)
    text = cleaned(cmd.text)
    message = ChatMessage(
        id=cmd.message_id,
        sender=cmd.actor,
        name=sender.person.name,
        text=text,
        ts=ctx.now,
        private=cmd.to_facilitators or cmd.to is not None,
        role=sender.person.role,
        to=msgspec.UNSET if cmd.to is None else cmd.to,
    )
    post(state, ctx, message, cmd.max_messages, cmd.max_bytes)


def _private_audience(state: RoomState, message: ChatMessage) -> tuple[str, ...]:
    """A private message reaches the facilitators (those who may read private messages; for a
    reply to one person, also those who may answer help), its sender and its ``to``, if still here."""
    reply = isinstance(message.to, str)
    readers = [
        s.id
        for s in state.admitted()
        if s.can(Capability.READ_PRIVATE) or (reply and s.can(Capability.ANSWER_HELP))
    ]
    for pid in (message.sender, message.to):
        if isinstance(pid, str) and pid in state.seats:
            readers.append(pid)
    return tuple(dict.fromkeys(readers))


@rule(c.React, Capability.TAKE_PART, settles=False)
def react(state: RoomState, cmd: c.React, ctx: Context) -> None:
    if cmd.emoji not in REACTIONS:
        raise CommandError(ErrorCode.BAD_MESSAGE, "that reaction is not one of welcome.reactions")
    ctx.deliveries.append(Delivery(Reaction(sender=cmd.actor, emoji=cmd.emoji)))


@rule(c.DeleteChat, Capability.MODERATE_CHAT, settles=False)
def delete_chat(state: RoomState, cmd: c.DeleteChat, ctx: Context) -> None:
    message = state.chat.find(cmd.message_id)
    if message is None:
        raise CommandError(ErrorCode.INVALID_TARGET, "no chat message with that id")
    state.chat = state.chat.without_message(message.id)
    if message.private:  # only those who could see it learn that it is gone
        to = _private_audience(state, message)
        ctx.deliveries.append(Delivery(ChatDeleted(id=message.id), to=to))
    else:
        ctx.deliveries.append(Delivery(ChatDeleted(id=message.id)))

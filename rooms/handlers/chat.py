"""Chat and reactions: posting (to the group, or privately to the facilitators), deleting, and
the reaction set (``REACTIONS``, sent in ``welcome.reactions``)."""

from __future__ import annotations

from rooms import commands as c
from rooms.codes import ErrorCode
from rooms.errors import CommandError
from rooms.events import ChatDeleted, ChatPosted, Delivery, Reaction
from rooms.handlers.registry import Context, rule
from rooms.model import ChatMessage, RoomState
from rooms.permissions import Capability
from rooms.text import TextRefused, clean_chat_text

REACTIONS: tuple[str, ...] = ("💜", "👏", "🙏", "🤗", "👍", "🌱")


def check_chat_text(cmd: c.Chat) -> None:
    """A chat message says something, within the server's length cap (``Limits.max_chat_chars``).
    Checked before anything else, whoever sends it: the text alone decides."""
    if not cmd.text.strip():
        raise CommandError(ErrorCode.BAD_MESSAGE, "a chat message cannot be empty")
    if len(cmd.text) > cmd.max_chars:
        raise CommandError(ErrorCode.TOO_LARGE, f"a chat message is at most {cmd.max_chars} characters")


@rule(c.Chat, Capability.TAKE_PART, settles=False, check=check_chat_text)
def chat(state: RoomState, cmd: c.Chat, ctx: Context) -> None:
    sender = state.seats[cmd.actor]
    try:
        text = clean_chat_text(cmd.text)  # no direction controls or stray invisible characters
    except TextRefused as refused:
        raise CommandError(ErrorCode.BAD_MESSAGE, str(refused)) from None
    message = ChatMessage(
        id=cmd.message_id,
        sender=cmd.actor,
        name=sender.person.name,
        text=text,
        ts=ctx.now,
        private=cmd.to_facilitators,
        role=sender.person.role,
    )
    state.chat = state.chat.with_message(message).capped(cmd.max_messages, cmd.max_bytes)
    if cmd.to_facilitators:
        ctx.deliveries.append(Delivery(ChatPosted(message=message), to=_private_audience(state, message)))
    else:
        ctx.deliveries.append(Delivery(ChatPosted(message=message, seq=0)))


def _private_audience(state: RoomState, message: ChatMessage) -> tuple[str, ...]:
    """A private message reaches the facilitators and its sender, if still here."""
    readers = [s.id for s in state.admitted() if s.can(Capability.READ_PRIVATE)]
    if message.sender in state.seats:
        readers.append(message.sender)
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

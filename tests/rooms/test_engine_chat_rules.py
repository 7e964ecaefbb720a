"""The chat rules the engine owns: a message says something, within the length cap the command
carries (the server's ``Limits.max_chat_chars``). They were checked by the server's message
handling before; the codes and messages stayed the same."""

from __future__ import annotations

import pytest

from rooms import commands as c
from rooms.events import ChatPosted
from rooms.limits import MAX_CHAT_CHARS
from tests.rooms.engine_helpers import events, live_room


def chat(text: str, *, actor: str = "m1", max_chars: int = MAX_CHAT_CHARS, private: bool = False) -> c.Chat:
    return c.Chat(actor=actor, text=text, message_id="c1", to_facilitators=private, max_chars=max_chars)


# (case, text, max_chars, code, message)
REFUSED = [
    ("empty", "", MAX_CHAT_CHARS, "bad_message", "a chat message cannot be empty"),
    ("spaces", "   ", MAX_CHAT_CHARS, "bad_message", "a chat message cannot be empty"),
    ("newlines and tabs", "\n\t \n", MAX_CHAT_CHARS, "bad_message", "a chat message cannot be empty"),
    ("blank and too long", " " * 30, 10, "bad_message", "a chat message cannot be empty"),
    ("over the default cap", "x" * (MAX_CHAT_CHARS + 1), MAX_CHAT_CHARS, "too_large",
     f"a chat message is at most {MAX_CHAT_CHARS} characters"),
    ("over a configured cap", "hello!", 5, "too_large", "a chat message is at most 5 characters"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "text", "max_chars", "code", "message"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_refused_chat(case: str, text: str, max_chars: int, code: str, message: str) -> None:
    room = live_room()
    for private in (False, True):
        refused = room.refuse(chat(text, max_chars=max_chars, private=private), code)
        assert refused.message == message


AT_THE_CAP = [("x" * MAX_CHAT_CHARS, MAX_CHAT_CHARS), ("12345", 5), (" a ", 3)]


@pytest.mark.parametrize(("text", "max_chars"), AT_THE_CAP)
def test_chat_at_the_cap_is_posted(text: str, max_chars: int) -> None:
    room = live_room()
    out = room.do(chat(text, max_chars=max_chars))
    [posted] = events(out, ChatPosted)
    assert isinstance(posted.event, ChatPosted) and posted.event.message.text == text.strip()


def test_the_text_rules_come_before_who_may_send() -> None:
    # As before the move: an empty or oversized message is refused for what it is, even from
    # someone still in the lobby (who gets `forbidden` for a message that could be posted).
    room = live_room(lobby=True, waiting=1)
    room.refuse(chat("", actor="w1"), "bad_message")
    room.refuse(chat("hello!", actor="w1", max_chars=5), "too_large")
    room.refuse(chat("hello", actor="w1"), "forbidden")

"""The chat log: a persistent value. Old logs never change, whatever is done to newer ones."""

from __future__ import annotations

import pytest
from engine_helpers import FAC, live_room
from hypothesis import given, settings
from hypothesis import strategies as st

from rooms import commands as c
from rooms.engine import apply
from rooms.model import ChatLog, ChatMessage, ChatNotLoaded


def message(n: int, *, private: bool = False) -> ChatMessage:
    return ChatMessage(id=f"m{n}", sender="p1", name="Ana", text=f"text {n}", ts=float(n), private=private)


M1, M2, M3, M4 = (message(n) for n in range(1, 5))


def test_appending_at_the_tip_shares_the_backing_list_and_leaves_old_logs_alone() -> None:
    empty = ChatLog()
    one = empty.with_message(M1)
    two = one.with_message(M2)
    assert (list(empty), list(one), list(two)) == ([], [M1], [M1, M2])
    assert two._entries is one._entries is empty._entries, "appended in place, not copied"
    assert (empty.total, one.total, two.total) == (0, 1, 2)


def test_appending_to_an_older_log_branches_off_with_a_copy() -> None:
    one = ChatLog().with_message(M1)
    two = one.with_message(M2)
    other = one.with_message(M3)  # one is no longer the tip: this copies
    assert other._entries is not two._entries
    assert (list(one), list(two), list(other)) == ([M1], [M1, M2], [M1, M3])
    assert list(other.with_message(M4)) == [M1, M3, M4]
    assert list(two.with_message(M4)) == [M1, M2, M4]
    assert list(two) == [M1, M2] and list(other) == [M1, M3]


def test_deleting_leaves_a_tombstone_in_a_copy() -> None:
    log = ChatLog([M1, M2, M3])
    without = log.without_message("m2")
    assert list(log) == [M1, M2, M3], "the old log keeps the message"
    assert list(without) == [M1, M3] and len(without) == 2
    assert without.total == 3, "positions do not move"
    assert without.entries_from(0) == [M1, None, M3], "the text is gone"
    assert without.find("m2") is None and without.find("m3") is M3
    with pytest.raises(KeyError):
        without.without_message("m2")
    assert list(without.with_message(M4)) == [M1, M3, M4]
    assert list(log.with_message(M4)) == [M1, M2, M3, M4]


def test_reading_like_a_list() -> None:
    log = ChatLog([M1, M2, M3]).without_message("m1")
    assert log == [M2, M3] and log == ChatLog([None, M2, M3]) and log != ChatLog([M2, M3])
    assert log[-1] == M3 and log[-3:] == [M2, M3] and M2 in log and M1 not in log
    assert bool(log) and not ChatLog() and ChatLog() == []
    with pytest.raises(TypeError):
        hash(log)


def test_a_log_without_its_history_appends_but_cannot_be_read() -> None:
    stub = ChatLog.without_history(3)
    assert stub.total == 3 and not stub.loaded
    grown = stub.with_message(M4)
    assert grown.total == 4 and grown.entries_from(3) == [M4]
    for read in (list, len, lambda log: log.find("m1"), lambda log: log.without_message("m1")):
        with pytest.raises(ChatNotLoaded):
            read(grown)
    with pytest.raises(ChatNotLoaded):
        grown.entries_from(0)
    assert ChatLog.without_history(0).loaded and ChatLog.without_history(0) == []


def test_changes_since_an_older_log() -> None:
    base = ChatLog([M1, M2])
    appended = base.with_message(M3).with_message(M4)
    assert appended.changes_since(base) == ([], [M3, M4])
    assert base.changes_since(base) == ([], [])
    deleted = appended.without_message("m1")  # a copy: compared entry by entry
    assert deleted.changes_since(base) == ([0], [M3, M4])
    assert deleted.changes_since(appended) == ([0], [])
    assert base.changes_since(appended) is None, "shorter: did not grow from it"
    assert ChatLog([M1, M3]).changes_since(base) is None, "another message at a position"
    stub = ChatLog.without_history(2)
    assert stub.with_message(M3).changes_since(stub) == ([], [M3])
    assert ChatLog([M1, M2, M3]).changes_since(stub) is None, "not grown from the stored log"


# Any version, any order: every log keeps the messages it had when it was made ------------------


operations = st.lists(
    st.tuples(st.integers(0, 1_000), st.sampled_from(["append", "append", "delete"]), st.integers(0, 1_000)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_every_version_keeps_its_messages(ops: list[tuple[int, str, int]]) -> None:
    versions: list[tuple[ChatLog, list[ChatMessage]]] = [(ChatLog(), [])]
    for n, (which, op, pick) in enumerate(ops):
        log, expected = versions[which % len(versions)]
        if op == "append":
            new = message(n)
            versions.append((log.with_message(new), [*expected, new]))
        elif expected:
            gone = expected[pick % len(expected)]
            versions.append((log.without_message(gone.id), [m for m in expected if m is not gone]))
        for old, messages in versions:
            assert list(old) == messages


# In the engine ---------------------------------------------------------------------------------------


def test_a_clone_shares_the_log() -> None:
    room = live_room(1)
    room.do(c.Chat(actor="m1", text="hello", message_id="c1"))
    assert room.state.clone().chat is room.state.chat


def test_states_keep_their_chat_when_older_states_are_applied_to_again() -> None:
    """What an optimistic retry does: apply to a state whose log another result appended to."""
    room = live_room(1)
    room.do(c.Chat(actor="m1", text="one", message_id="m1"))
    base = room.state
    first, _ = apply(base, c.Chat(actor="m1", text="two", message_id="m2"), room.now + 1)
    second, _ = apply(base, c.Chat(actor="m1", text="deux", message_id="m2"), room.now + 1)
    deleted, _ = apply(first, c.DeleteChat(actor=FAC, message_id="m1"), room.now + 2)
    assert [m.text for m in base.chat] == ["one"]
    assert [m.text for m in first.chat] == ["one", "two"]
    assert [m.text for m in second.chat] == ["one", "deux"]
    assert [m.text for m in deleted.chat] == ["two"]
    assert [m.id for m in second.chat] == [m.id for m in first.chat] == ["m1", "m2"]

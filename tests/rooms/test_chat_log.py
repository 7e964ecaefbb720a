"""The chat log: a persistent value. Old logs never change, whatever is done to newer ones."""

from __future__ import annotations

import pytest
from engine_helpers import FAC, live_room
from hypothesis import given, settings
from hypothesis import strategies as st

from rooms import commands as c
from rooms.engine import apply
from rooms.model import ChatLog, ChatMessage, ChatNotLoaded, message_size


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
    assert appended.changes_since(base) == (0, [], [M3, M4])
    assert base.changes_since(base) == (0, [], [])
    deleted = appended.without_message("m1")  # a copy: compared entry by entry
    assert deleted.changes_since(base) == (0, [0], [M3, M4])
    assert deleted.changes_since(appended) == (0, [0], [])
    assert base.changes_since(appended) is None, "shorter: did not grow from it"
    assert ChatLog([M1, M3]).changes_since(base) is None, "another message at a position"
    stub = ChatLog.without_history(2)
    assert stub.with_message(M3).changes_since(stub) == (0, [], [M3])
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


# The caps: a ring of the newest messages -------------------------------------------------------


def sized(n: int, text_bytes: int) -> ChatMessage:
    return ChatMessage(id=f"m{n}", sender="p1", name="Ana", text="x" * text_bytes, ts=float(n))


def test_trimming_drops_the_oldest_and_keeps_positions() -> None:
    log = ChatLog([M1, M2, M3, M4])
    assert log.size == sum(message_size(m) for m in (M1, M2, M3, M4)) and log.held == 4
    trimmed = log.trimmed(2, 10_000)
    assert list(trimmed) == [M3, M4] and trimmed.dropped == 2 and trimmed.total == 4
    assert trimmed.size == message_size(M3) + message_size(M4) and trimmed.held == 2
    assert list(log) == [M1, M2, M3, M4], "the old log keeps its messages"
    assert trimmed.entries_from(0) == [M3, M4], "dropped positions are gone, not unloaded"
    assert list(trimmed.with_message(message(5))) == [M3, M4, message(5)]
    assert trimmed.without_message("m3").entries_from(2) == [None, M4]
    assert trimmed.changes_since(log) == (2, [], [])
    grown = trimmed.with_message(message(5))
    assert grown.changes_since(log) == (2, [], [message(5)])
    assert grown.without_message("m4").changes_since(log) == (2, [3], [message(5)])


def test_the_byte_cap_drops_until_the_rest_fits_but_keeps_the_newest() -> None:
    log = ChatLog([sized(1, 100), sized(2, 100), sized(3, 100)])
    each = message_size(sized(1, 100))
    assert log.trimmed(10, 2 * each) == ChatLog([sized(2, 100), sized(3, 100)], dropped=1)
    alone = log.trimmed(10, 10)
    assert list(alone) == [sized(3, 100)] and alone.size == each, "never the newest"


def test_capped_is_a_ring_with_room_for_a_tenth_more() -> None:
    log = ChatLog()
    for n in range(1, 1_001):
        log = log.with_message(sized(n, 10)).capped(100, 1_000_000)
        assert log.held <= 100
    assert log.total == 1_000 and [m.id for m in log][-1] == "m1000"
    log = ChatLog()
    each = message_size(sized(1, 1_000))
    for n in range(1, 200):
        log = log.with_message(sized(n, 1_000)).capped(10_000, 20 * each)
        assert log.size <= 20 * each
    assert 18 <= len(log) <= 20 and log.held == len(log)


def test_a_log_without_its_history_must_load_it_to_trim() -> None:
    stub = ChatLog.without_history(10, dropped=4, size=600)
    assert stub.held == 6 and stub.size == 600 and not stub.loaded
    assert stub.capped(100, 10_000) is stub, "below the caps: no need to read anything"
    with pytest.raises(ChatNotLoaded):
        stub.with_message(M1).capped(6, 10_000)


def test_the_engine_keeps_the_chat_within_the_caps_and_anyone_can_still_post() -> None:
    room = live_room(1)
    for n in range(30):
        chat = c.Chat(actor="m1", text=f"message {n}", message_id=f"m{n}", max_messages=10, max_bytes=100_000)
        room.do(chat)
    room.do(
        c.Chat(
            actor=FAC,
            text="the facilitator can always post",
            message_id="mf",
            max_messages=10,
            max_bytes=100_000,
        )
    )
    texts = [m.text for m in room.state.chat]
    assert len(texts) <= 10 and texts[-1] == "the facilitator can always post"
    assert room.state.chat.total == 31, "positions keep counting"
    for n in range(30):
        chat = c.Chat(actor="m1", text="y" * 2_000, message_id=f"y{n}", max_messages=1_000, max_bytes=10_000)
        room.do(chat)
    assert room.state.chat.size <= 10_000 and len(room.state.chat) >= 4


trims = st.lists(
    st.tuples(st.sampled_from(["append", "append", "append", "delete", "trim"]), st.integers(0, 1_000)),
    max_size=80,
)


@settings(max_examples=200, deadline=None)
@given(trims)
def test_changes_since_rebuild_the_stored_list(ops: list[tuple[str, int]]) -> None:
    """What a store does with ``changes_since``: drop the head, blank the deleted, append; the
    list it keeps is then exactly the newer log's entries, trims included."""
    log = ChatLog()
    stored = log.entries_from(0)
    for n, (op, pick) in enumerate(ops):
        if op == "append":
            new = log.with_message(sized(n, pick % 50))
        elif op == "delete" and len(log):
            new = log.without_message(log[pick % len(log)].id)
        elif op == "trim":
            new = log.trimmed(1 + pick % 8, 10_000)
        else:
            continue
        changes = new.changes_since(log)
        assert changes is not None
        trim, deleted, added = changes
        stored = stored[trim:]
        for position in deleted:
            stored[position - new.dropped] = None
        stored += added
        assert stored == new.entries_from(new.dropped)
        assert new.size == sum(message_size(m) for m in new) and new.held == len(stored)
        log = new

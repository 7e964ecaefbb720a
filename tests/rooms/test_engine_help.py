""" "Need help now?" in the engine: an open alert per person for those who may answer help, the
private chat line that goes with it, "I'm on it", and private replies (``chat`` with ``to``)."""

from __future__ import annotations

import pytest

from rooms import commands as c
from rooms.events import ChatDeleted, ChatPosted, HelpAlertRaised, HelpClosed
from rooms.limits import MAX_CHAT_CHARS
from rooms.model import HelpAlert, Role
from tests.rooms.engine_helpers import FAC, T0, events, fjoin, join, live_room, only


def ask(
    text: str = "I am not ok", *, actor: str = "m1", mid: str = "h1", max_chars: int = MAX_CHAT_CHARS
) -> c.AskHelp:
    return c.AskHelp(actor=actor, text=text, message_id=mid, max_chars=max_chars)


def test_asking_records_an_open_alert_and_posts_the_private_line() -> None:
    room = live_room(members=2, facilitators=2)
    out = room.do(ask("Everything is too much"), at=T0 + 100)
    alert = room.state.alerts["m1"]
    assert alert == HelpAlert(
        id="m1", name="name-m1", text="Everything is too much", first_at=T0 + 100, last_at=T0 + 100, count=1
    )
    raised = only(out, HelpAlertRaised)
    assert raised.event == HelpAlertRaised(alert=alert)
    assert set(raised.to or ()) == {"f1", "f2"}, "alerts go to those who may answer help, only"
    line = only(out, ChatPosted)
    assert isinstance(line.event, ChatPosted)
    assert line.event.message.private and line.event.message.text == "Everything is too much"
    assert set(line.to or ()) == {"f1", "f2", "m1"}
    assert all(d.to is not None for d in out), "nothing of it is numbered (for everyone)"
    assert "m2" not in {pid for d in out for pid in (d.to or ())}
    assert room.state.visible_chat(room.seat("m2")) == []


def test_one_alert_per_person_asking_again_updates_it() -> None:
    room = live_room(members=2)
    room.do(ask("first", mid="h1"), at=T0 + 10)
    room.do(ask("help", actor="m2", mid="h2"), at=T0 + 15)
    out = room.do(ask("still here", mid="h3"), at=T0 + 70)
    assert list(room.state.alerts) == ["m1", "m2"]
    alert = room.state.alerts["m1"]
    assert (alert.text, alert.first_at, alert.last_at, alert.count) == ("still here", T0 + 10, T0 + 70, 2)
    assert only(out, HelpAlertRaised).event == HelpAlertRaised(alert=alert)
    assert [m.text for m in room.state.visible_chat(room.seat(FAC))] == ["first", "help", "still here"]


def test_the_text_is_bounded_by_the_chat_limit() -> None:
    room = live_room()
    room.refuse(ask("x" * 11, max_chars=10), "too_large")
    room.refuse(ask("   "), "bad_message")
    room.refuse(ask("\u200b\u2060"), "bad_message")  # nothing visible once cleaned
    room.do(ask("x" * 10, max_chars=10))
    assert room.state.alerts["m1"].text == "x" * 10


def test_alerts_are_bounded_by_the_seat_limit_those_gone_leave_first() -> None:
    room = live_room(members=3, max_participants=4)  # f1 + m1..m3: full
    room.do(ask(actor="m1", mid="h1"))
    room.do(c.Leave(actor="m1"))
    room.do(ask(actor="m2", mid="h2"))
    room.do(ask(actor="m3", mid="h3"))
    room.do(ask(actor="f1", mid="h4"))
    assert list(room.state.alerts) == ["m1", "m2", "m3", "f1"]  # as many as seats
    room.do(join("m4"))
    room.do(ask(actor="m4", mid="h5"))
    assert list(room.state.alerts) == ["m2", "m3", "f1", "m4"], "the oldest of someone gone went first"
    room.do(fjoin("f2"))  # facilitators may be beyond the seat limit: everyone who asked is here
    room.do(ask(actor="f2", mid="h6"))
    assert list(room.state.alerts) == ["m3", "f1", "m4", "f2"], "then the oldest of all"
    room.do(ask(actor="m3", mid="h7"))  # asking again is no new alert
    assert list(room.state.alerts) == ["m3", "f1", "m4", "f2"]


def test_only_members_of_the_room_may_ask() -> None:
    room = live_room(lobby=True, waiting=1)
    room.refuse(ask(actor="w1"), "forbidden")
    room.refuse(ask(actor="stranger"), "forbidden")


def test_ack_closes_it_for_the_helpers_and_tells_the_asker_without_a_name() -> None:
    room = live_room(members=2, facilitators=2)
    room.do(ask())
    out = room.do(c.AckHelp(actor="f2", target="m1"))
    assert room.state.alerts == {}
    closed = events(out, HelpClosed)
    assert [(d.event, set(d.to or ())) for d in closed] == [
        (HelpClosed(id="m1", by="f2"), {"f1", "f2"}),
        (HelpClosed(id="m1"), {"m1"}),
    ]
    room.refuse(c.AckHelp(actor="f1", target="m1"), "invalid_target")  # a repeat: already closed


def test_ack_needs_the_capability() -> None:
    room = live_room(members=2)
    room.do(ask())
    room.refuse(c.AckHelp(actor="m2", target="m1"), "forbidden")
    room.refuse(c.AckHelp(actor="m1", target="m1"), "forbidden")
    room.refuse(c.AckHelp(actor=FAC, target="m2"), "invalid_target")


def test_the_alert_stays_when_its_asker_disconnects_or_leaves() -> None:
    room = live_room(members=2)
    room.do(ask(actor="m1", mid="h1"))
    room.do(ask(actor="m2", mid="h2"))
    room.do(c.Disconnect(actor="m1"))
    room.do(c.Tick(grace_seconds=30), dt=31)  # the grace period runs out: m1 is gone
    room.do(c.Leave(actor="m2"))
    assert set(room.state.alerts) == {"m1", "m2"}
    out = room.do(c.AckHelp(actor=FAC, target="m1"))
    assert [d.to for d in events(out, HelpClosed)] == [("f1",)], "nobody left to tell but the helpers"


def test_the_session_end_takes_the_alerts() -> None:
    room = live_room()
    room.do(ask())
    room.do(c.EndSession(actor=FAC))
    assert room.state.alerts == {}


def test_a_facilitator_arriving_later_gets_new_alerts_and_a_member_never() -> None:
    room = live_room(members=2)
    room.do(fjoin("f2"))
    out = room.do(ask(actor="m2"))
    assert set(only(out, HelpAlertRaised).to or ()) == {"f1", "f2"}


# Private replies --------------------------------------------------------------------------------


def reply(text: str = "I'm here, Ann", *, actor: str = FAC, to: str = "m1", mid: str = "r1") -> c.Chat:
    return c.Chat(actor=actor, text=text, message_id=mid, to=to)


def test_a_private_reply_reaches_its_sender_its_person_and_the_helpers_only() -> None:
    room = live_room(members=2, facilitators=2)
    out = room.do(reply())
    posted = only(out, ChatPosted)
    assert isinstance(posted.event, ChatPosted)
    message = posted.event.message
    assert message.private and message.to == "m1" and message.role is Role.FACILITATOR
    assert set(posted.to or ()) == {"f1", "f2", "m1"}
    assert room.state.visible_chat(room.seat("m1")) == [message]
    assert room.state.visible_chat(room.seat("f2")) == [message]
    assert room.state.visible_chat(room.seat("m2")) == []
    page, more = room.state.chat_page(room.seat("m2"), 10)
    assert (page, more) == ([], False)
    with pytest.raises(KeyError):
        room.state.chat_page(room.seat("m2"), 10, before=message.id)
    assert room.state.chat_page(room.seat("m1"), 10) == ([message], False)


def test_a_private_reply_is_for_helpers_and_an_admitted_person() -> None:
    room = live_room(members=2, lobby=True, waiting=1)
    room.refuse(reply(actor="m2"), "forbidden")
    room.refuse(reply(to="nobody"), "invalid_target")
    room.refuse(reply(to="w1"), "invalid_target")
    room.refuse(reply(to=FAC), "invalid_target")
    room.refuse(reply(text=" "), "bad_message")


def test_deleting_a_private_reply_reaches_only_those_who_could_see_it() -> None:
    room = live_room(members=2)
    room.do(reply())
    out = room.do(c.DeleteChat(actor=FAC, message_id="r1"))
    deleted = only(out, ChatDeleted)
    assert deleted.to is not None and set(deleted.to) == {"f1", "m1"}

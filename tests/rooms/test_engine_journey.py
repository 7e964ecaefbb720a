"""``JourneyNotice``: a live session hears that the journey changed; between sessions nothing."""

from __future__ import annotations

from rooms import commands as c
from rooms.events import JourneyChanged
from tests.rooms.engine_helpers import idle_room, live_room, only


def test_a_live_session_hears_a_numbered_journey_changed() -> None:
    room = live_room(members=2)
    seq = room.state.seq
    out = room.do(c.JourneyNotice(what="board"))
    delivery = only(out, JourneyChanged)
    assert delivery.to is None and delivery.event == JourneyChanged(what="board", seq=seq + 1)
    assert len(out) == 1


def test_no_notice_between_sessions_nor_about_anything_else() -> None:
    room = idle_room(waiting=["m1"])
    room.refuse(c.JourneyNotice(what="board"), "invalid_target")
    live_room().refuse(c.JourneyNotice(what="secrets"), "bad_message")

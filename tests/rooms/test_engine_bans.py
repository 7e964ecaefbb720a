"""A ban holds against shared links: after any ban in a session, every join without a personal
identity (``sub``) waits in the lobby for the rest of that session, even in a room without a
lobby, and the facilitators see why (docs/protocol.md, `remove`)."""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import FAC, Room, events, fjoin, join, live_room, only
from msgspec.structs import replace

from rooms import commands as c
from rooms.engine import waiting_view
from rooms.events import Admitted, Lobby, LobbyChanged, ParticipantJoined
from rooms.model import LobbyState, Role

HELD = {"reason": "after_ban"}


def banned_room(*, lobby: bool = False, ban: bool = True) -> Room:
    """A live session where "bad" (shared link, device "dev-bad") was removed, with a ban."""
    room = live_room(2, lobby=lobby)
    room.do(join("bad", device="dev-bad"))
    if lobby:
        room.do(c.Admit(actor=FAC, target="bad"))
    room.do(c.Remove(actor=FAC, target="bad", ban=ban))
    room.log.clear()
    return room


# (who joins after the ban, admitted at once?, shown to facilitators as held after the ban?)
JOINS: list[tuple[str, dict[str, Any], bool, bool]] = [
    ("shared link, no device", {}, False, True),
    ("shared link, a fresh device", {"device": "dev-new"}, False, True),
    ("personal invite", {"sub": "person-3"}, True, False),
    ("personal invite and a device", {"sub": "person-4", "device": "dev-4"}, True, False),
    ("facilitator link", {"role": Role.FACILITATOR}, True, False),
]


@pytest.mark.parametrize(("who", "extra", "admitted", "held"), JOINS, ids=[j[0] for j in JOINS])
def test_after_a_ban_only_shared_links_wait_in_a_room_without_lobby(
    who: str, extra: dict[str, Any], admitted: bool, held: bool
) -> None:
    room = banned_room()
    out = room.do(join("new", **extra))
    assert room.seat("new").admitted is admitted
    assert room.seat("new").held_after_ban is held
    if admitted:
        assert only(out, Admitted).to == ("new",)
        assert not events(out, Lobby)
    else:
        assert only(out, Lobby).event.state is LobbyState.WAITING_FOR_ADMISSION
        assert not events(out, ParticipantJoined), "nobody in the room learns of a lobby seat"
        changed = only(out, LobbyChanged)
        assert changed.to == (FAC,)
        assert changed.event.waiting == [{"id": "new", "name": "name-new", **HELD}]


def test_a_removal_without_a_ban_changes_nothing_for_shared_links() -> None:
    room = banned_room(ban=False)
    room.do(join("bad", device="dev-bad"))
    assert room.seat("bad").admitted and not room.state.lobby_after_ban


def test_in_a_room_with_a_lobby_the_facilitator_also_sees_why() -> None:
    room = banned_room(lobby=True)
    room.do(join("new"))
    room.do(join("personal", sub="person-5"))
    assert waiting_view(room.state) == [
        {"id": "new", "name": "name-new", **HELD},
        {"id": "personal", "name": "name-personal"},
    ]


def test_the_facilitator_can_admit_someone_held() -> None:
    room = banned_room()
    room.refuse(join("again", device="dev-bad"), "banned")  # the banned device stays out
    room.do(join("new"))
    out = room.do(c.Admit(actor=FAC, target="new"))
    assert room.seat("new").admitted
    assert only(out, Admitted).to == ("new",)
    assert only(out, LobbyChanged).event.waiting == []


def test_turning_the_lobby_off_does_not_let_the_held_in() -> None:
    room = banned_room(lobby=True)
    room.do(join("new"))
    room.do(join("personal", sub="person-5"))
    room.do(c.UpdateRoom(actor="", config=replace(room.state.room, lobby=False)))
    assert room.seat("personal").admitted
    assert not room.seat("new").admitted


def test_the_hold_ends_with_the_session() -> None:
    room = banned_room()
    room.do(c.EndSession(actor=FAC))
    assert not room.state.lobby_after_ban
    room.do(fjoin(session_id="s-2"))
    room.do(join("new", device="dev-bad"))  # bans, and their hold, were for that session only
    assert room.seat("new").admitted

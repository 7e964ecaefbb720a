"""The capability table is the one answer to "who may do X / who sees Y".

First the table itself: each capability is granted to exactly the roles intended. Then the
decisions: with the table changed (a capability granted to members, or taken from facilitators),
the engine's outcome changes with it, which proves no role-name test remains on that path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from engine_helpers import FAC, fjoin, join, live_room

from rooms import commands as c
from rooms.engine import lobby_state
from rooms.events import HelpAlertRaised, LobbyChanged, Speaking
from rooms.model import FloorMode, LobbyState, Role
from rooms.permissions import CAPABILITIES, Capability, can, capabilities_of

Cap = Capability

# Who holds each capability. A new capability must be added here, with the roles that get it.
INTENDED: dict[Capability, set[Role]] = {
    Cap.TAKE_PART: {Role.FACILITATOR, Role.MEMBER},
    Cap.MUTE_OTHERS: {Role.FACILITATOR},
    Cap.RUN_FLOOR: {Role.FACILITATOR},
    Cap.MANAGE_HANDS: {Role.FACILITATOR},
    Cap.ADMIT: {Role.FACILITATOR},
    Cap.LOCK: {Role.FACILITATOR},
    Cap.REMOVE: {Role.FACILITATOR},
    Cap.MODERATE_CHAT: {Role.FACILITATOR},
    Cap.END_SESSION: {Role.FACILITATOR},
    Cap.MANAGE_ROOM: {Role.FACILITATOR},
    Cap.SEE_LOBBY: {Role.FACILITATOR},
    Cap.SEE_SPEAKING: {Role.FACILITATOR},
    Cap.READ_PRIVATE: {Role.FACILITATOR},
    Cap.ANSWER_HELP: {Role.FACILITATOR},
    Cap.ALWAYS_HEARD: {Role.FACILITATOR},
    Cap.PROTECTED: {Role.FACILITATOR},
    Cap.BYPASS_LOBBY: {Role.FACILITATOR},
    Cap.BYPASS_LIMITS: {Role.FACILITATOR},
    Cap.ROLE_LIKE_NAME: {Role.FACILITATOR},
    Cap.KEEP_JOURNEY: {Role.FACILITATOR, Role.MEMBER},
    Cap.RUN_SESSION: {Role.FACILITATOR},
    Cap.SEE_SCRIPT: {Role.FACILITATOR},
    Cap.MANAGE_MEMBERS: {Role.FACILITATOR},
    Cap.MODERATE_BOARD: {Role.FACILITATOR},
    Cap.SEE_PLANS: {Role.FACILITATOR},
    Cap.SEE_CHECKINS: {Role.FACILITATOR},
}


def test_every_capability_has_an_intended_set_of_roles() -> None:
    assert set(INTENDED) == set(Capability)
    assert set(CAPABILITIES) == set(Role), "every role has a row"


@pytest.mark.parametrize("capability", list(Capability))
def test_each_capability_is_granted_to_exactly_the_intended_roles(capability: Capability) -> None:
    holders = {role for role in Role if can(role, capability)}
    assert holders == INTENDED[capability]


def test_capabilities_of_is_the_sorted_names_of_a_role() -> None:
    assert capabilities_of(Role.MEMBER) == ["keep_journey", "take_part"]
    names = capabilities_of(Role.FACILITATOR)
    assert names == sorted(names) and set(names) == {str(cap) for cap in Capability}


def grant(monkeypatch: pytest.MonkeyPatch, role: Role, *caps: Capability) -> None:
    monkeypatch.setitem(CAPABILITIES, role, CAPABILITIES[role] | set(caps))


def revoke(monkeypatch: pytest.MonkeyPatch, role: Role, *caps: Capability) -> None:
    monkeypatch.setitem(CAPABILITIES, role, CAPABILITIES[role] - set(caps))


# Decisions follow the table ------------------------------------------------------------------


def test_always_heard_decides_can_speak(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(1, floor_mode=FloorMode.QUEUE)
    assert not room.person("m1").can_speak
    grant(monkeypatch, Role.MEMBER, Cap.ALWAYS_HEARD)
    room.do(c.Hand(actor="m1", raised=True))  # any settling command re-derives can_speak
    assert room.person("m1").can_speak
    room.do(c.Media(actor="m1", audio=True, video=False))
    assert room.person("m1").audio


def test_always_heard_decides_who_is_in_the_circle(monkeypatch: pytest.MonkeyPatch) -> None:
    grant(monkeypatch, Role.MEMBER, Cap.ALWAYS_HEARD)
    revoke(monkeypatch, Role.FACILITATOR, Cap.ALWAYS_HEARD)
    room = live_room(2)
    room.do(c.SetFloor(actor=FAC, mode=FloorMode.CIRCLE))
    assert room.state.floor.order == (FAC,)
    assert not room.person(FAC).can_speak


def test_protected_decides_who_may_be_muted_and_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(1, facilitators=2)
    grant(monkeypatch, Role.MEMBER, Cap.PROTECTED)
    room.refuse(c.Mute(actor=FAC, target="m1"), "invalid_target")
    room.refuse(c.Remove(actor=FAC, target="m1"), "invalid_target")
    room.do(c.MuteAll(actor=FAC))
    assert not room.person("m1").muted_by_facilitator
    revoke(monkeypatch, Role.FACILITATOR, Cap.PROTECTED)
    room.do(c.Mute(actor=FAC, target="f2"))
    assert room.person("f2").muted_by_facilitator
    room.do(c.Remove(actor=FAC, target="f2"))
    assert "f2" not in room.state.seats


def test_see_lobby_and_see_speaking_decide_who_gets_the_events(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(1, lobby=True)
    grant(monkeypatch, Role.MEMBER, Cap.SEE_LOBBY)
    revoke(monkeypatch, Role.FACILITATOR, Cap.SEE_SPEAKING)
    out = room.do(join("w1"))
    [lobby] = [d for d in out if isinstance(d.event, LobbyChanged)]
    assert set(lobby.to or ()) == {FAC, "m1"}
    grant(monkeypatch, Role.MEMBER, Cap.SEE_SPEAKING)
    room.do(c.Media(actor="m1", audio=True, video=False))
    out = room.do(c.Media(actor="m1", audio=False, video=False))
    [speaking] = [d for d in out if isinstance(d.event, Speaking)]
    assert speaking.to == ("m1",)


def test_read_private_decides_who_reads_private_chat(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(2)
    room.do(c.Chat(actor="m1", text="just for the facilitators", message_id="x1", to_facilitators=True))
    assert room.state.visible_chat(room.seat("m2")) == []
    grant(monkeypatch, Role.MEMBER, Cap.READ_PRIVATE)
    assert [m.id for m in room.state.visible_chat(room.seat("m2"))] == ["x1"]
    assert room.state.chat_page(room.seat("m2"), 10)[0][0].id == "x1"
    out = room.do(c.Chat(actor="m1", text="again", message_id="x2", to_facilitators=True))
    assert set(out[0].to or ()) == {FAC, "m1", "m2"}
    revoke(monkeypatch, Role.FACILITATOR, Cap.READ_PRIVATE)
    assert room.state.visible_chat(room.seat(FAC)) == []


def test_admit_decides_what_the_lobby_waits_for(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(1, lobby=True, waiting=1)
    assert lobby_state(room.state) is LobbyState.WAITING_FOR_ADMISSION
    revoke(monkeypatch, Role.FACILITATOR, Cap.ADMIT)
    assert lobby_state(room.state) is LobbyState.WAITING_FOR_FACILITATOR
    grant(monkeypatch, Role.MEMBER, Cap.ADMIT)
    assert lobby_state(room.state) is LobbyState.WAITING_FOR_ADMISSION


def test_bypass_limits_decides_who_comes_in_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(1, lobby=True, waiting=1, max_participants=2)
    room.refuse(c.Admit(actor=FAC, target="w1"), "room_full")
    grant(monkeypatch, Role.MEMBER, Cap.BYPASS_LIMITS)
    room.do(c.Admit(actor=FAC, target="w1"))
    assert room.seat("w1").admitted
    revoke(monkeypatch, Role.FACILITATOR, Cap.BYPASS_LIMITS)
    room.refuse(fjoin("f2"), "room_full")


def test_the_protocol_document_lists_every_capability() -> None:
    """docs/protocol.md §1.7.1 is the table a client author reads: one row per capability."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    section = doc.split("#### 1.7.1 Capabilities", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(rows) == sorted(str(cap) for cap in Capability)


def test_who_gets_help_alerts_and_may_close_them_follows_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    room = live_room(members=2)
    room.do(c.AskHelp(actor="m1", text="help", message_id="h1"))
    room.refuse(c.AckHelp(actor="m2", target="m1"), "forbidden")
    room.refuse(c.Chat(actor="m2", text="hi", message_id="c1", to="m1"), "forbidden")
    grant(monkeypatch, Role.MEMBER, Cap.ANSWER_HELP)
    out = room.do(c.AskHelp(actor="m1", text="again", message_id="h2"))
    [alerted] = [d for d in out if isinstance(d.event, HelpAlertRaised)]
    assert set(alerted.to or ()) == {FAC, "m1", "m2"}
    room.do(c.Chat(actor="m2", text="hi", message_id="c2", to="m1"))
    room.do(c.AckHelp(actor="m2", target="m1"))
    revoke(monkeypatch, Role.FACILITATOR, Cap.ANSWER_HELP)
    room.refuse(c.AckHelp(actor=FAC, target="m1"), "forbidden")

"""Events: what a room tells its participants. Each class encodes to one wire message.

The engine wraps every event in a ``Delivery`` that says who receives it. Events for every
admitted participant (``to is None``) are numbered with the room's ``seq``; the others are not.
"""

from __future__ import annotations

from typing import Any

import msgspec

from rooms.model import ChatMessage, HelpAlert, LeaveReason, LobbyState, Participant


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    pass


class ParticipantJoined(Event, frozen=True, kw_only=True, tag="participant_joined"):
    participant: Participant
    seq: int = 0


class ParticipantUpdated(Event, frozen=True, kw_only=True, tag="participant_updated"):
    participant: Participant
    seq: int = 0


class ParticipantLeft(Event, frozen=True, kw_only=True, tag="participant_left"):
    id: str
    reason: LeaveReason
    seq: int = 0


class ChatPosted(Event, frozen=True, kw_only=True, tag="chat", omit_defaults=True):
    message: ChatMessage
    seq: int | None = None  # private messages are not numbered


class ChatDeleted(Event, frozen=True, kw_only=True, tag="chat_deleted", omit_defaults=True):
    id: str
    seq: int | None = None  # deleting a private message is not numbered


class HelpAlertRaised(Event, frozen=True, kw_only=True, tag="help_alert"):
    """An alert opened or asked again (its ``count`` and ``last_at`` grew), to those who may
    answer help. Never numbered: members never receive it."""

    alert: HelpAlert


class HelpClosed(Event, frozen=True, kw_only=True, tag="help_closed", omit_defaults=True):
    """An alert was acknowledged: ``by`` (who acknowledged) for those who may answer help; the
    asker gets it without ``by``."""

    id: str
    by: str | None = None


class Reaction(Event, frozen=True, kw_only=True, tag="reaction"):
    sender: str = msgspec.field(name="from")
    emoji: str
    seq: int = 0


class FloorChanged(Event, frozen=True, kw_only=True, tag="floor"):
    mode: str
    holder: str | None
    queue: list[str]
    order: list[str]
    started_at: float | None
    ends_at: float | None
    turn_seconds: int | None
    seq: int = 0


class FloorTimeUp(Event, frozen=True, kw_only=True, tag="floor_time_up"):
    holder: str
    seq: int = 0


class RoomLocked(Event, frozen=True, kw_only=True, tag="room_locked"):
    locked: bool
    seq: int = 0


class RoomUpdated(Event, frozen=True, kw_only=True, tag="room_updated"):
    """Extension: the facilitator changed the room's settings during a session."""

    room: dict[str, Any]
    seq: int = 0


class MediaPlaced(Event, frozen=True, kw_only=True, tag="media_placed"):
    """The session's media server changed (first placement, or a move after a failure). Only
    the epoch: the instance is a private address no participant may learn."""

    epoch: int
    seq: int = 0


class LobbyChanged(Event, frozen=True, kw_only=True, tag="lobby_changed"):
    waiting: list[dict[str, str]]


class Speaking(Event, frozen=True, kw_only=True, tag="speaking"):
    speaking: dict[str, float]


class Lobby(Event, frozen=True, kw_only=True, tag="lobby"):
    state: LobbyState


class Removed(Event, frozen=True, kw_only=True, tag="removed"):
    reason: str


class SessionEnded(Event, frozen=True, kw_only=True, tag="session_ended"):
    reason: str


class Admitted(Event, frozen=True, kw_only=True, tag="admitted"):
    """Internal: tells the connection of ``id`` to send its ``welcome`` now. Never on the wire.
    ``conn``: the socket that holds the seat; any other socket of ``id`` is replaced (4009)."""

    id: str
    conn: str = ""


class Delivery(msgspec.Struct, frozen=True):
    """An event and its audience: ``to=None`` is every admitted participant (numbered);
    otherwise exactly these ids. ``close`` asks the recipients' sockets to close after it."""

    event: Event
    to: tuple[str, ...] | None = None
    close: int | None = None


class JourneyChanged(Event, frozen=True, kw_only=True, tag="journey_changed"):
    """Something of the group's journey others can see changed (``what``: "board", "plans",
    "checkins"). No content: pages refetch it over HTTP, each seeing what it may."""

    what: str
    seq: int = 0


class PhaseView(msgspec.Struct, frozen=True, kw_only=True):
    """The run-sheet phase under way, as everyone sees it: never its notes. ``ends_at`` is when
    its minutes are up; pages show the time left from it, and nobody is cut off then."""

    index: int
    name: str
    minutes: int
    kind: str
    floor: str | None
    started_at: float
    ends_at: float


class PhaseChanged(Event, frozen=True, kw_only=True, tag="phase"):
    """A phase began or the run-sheet ended (``phase`` null), or the phase under way was edited."""

    phase: PhaseView | None
    seq: int = 0


class ScriptChanged(Event, frozen=True, kw_only=True, tag="script"):
    """The facilitators' notes of every phase (by index) changed during a session: to those who
    may see the script only, never numbered (members never receive it)."""

    script: list[str]

"""The data of a room: its definition, its live state, and the public views sent on the wire.

Every record is an immutable msgspec ``Struct``: the engine replaces records instead of changing
them, so a state can be cloned by copying its containers, and "did this change?" is a cheap
identity or equality test. ``RoomState`` is the one mutable container; only the engine writes it,
and only on a clone.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec


class Role(StrEnum):
    FACILITATOR = "facilitator"
    MEMBER = "member"


class SessionState(StrEnum):
    IDLE = "idle"
    LIVE = "live"


class FloorMode(StrEnum):
    OPEN = "open"
    QUEUE = "queue"
    CIRCLE = "circle"


class LobbyState(StrEnum):
    WAITING_FOR_FACILITATOR = "waiting_for_facilitator"
    WAITING_FOR_ADMISSION = "waiting_for_admission"
    DENIED = "denied"


class LeaveReason(StrEnum):
    LEFT = "left"
    REMOVED = "removed"
    TIMEOUT = "timeout"


DEFAULT_AGREEMENT = (
    "What is said here stays here. We listen without judging and speak from our own experience. "
    "Nobody has to share; passing is always fine. We do not record or share screenshots."
)


class RoomConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A room's definition: persisted, reused week after week."""

    id: str
    title: str
    topic: str = ""
    agreement: str = DEFAULT_AGREEMENT
    lobby: bool = True
    floor_mode: FloorMode = FloorMode.OPEN
    turn_seconds: int | None = None
    max_participants: int = 12
    crisis_text: str = ""
    invite_version: int = 1
    created_at: float = 0.0

    def public(self) -> dict[str, object]:
        """The room as participants see it (no invite version)."""
        return {
            "id": self.id,
            "title": self.title,
            "topic": self.topic,
            "agreement": self.agreement,
            "crisis_text": self.crisis_text,
            "settings": {
                "lobby": self.lobby,
                "floor_mode": self.floor_mode,
                "turn_seconds": self.turn_seconds,
                "max_participants": self.max_participants,
            },
        }


class Participant(msgspec.Struct, frozen=True, kw_only=True):
    """The public view of a participant: exactly what every client sees."""

    id: str
    name: str
    role: Role
    audio: bool = False
    video: bool = False
    hand: float | None = None
    away: bool = False
    muted_by_facilitator: bool = False
    video_muted_by_facilitator: bool = False
    can_speak: bool = False
    connected: bool = True


class Seat(msgspec.Struct, frozen=True, kw_only=True):
    """A participant as the server knows it: the public view plus what only the server sees."""

    person: Participant
    admitted: bool
    joined_at: float
    sub: str | None = None
    device: str | None = None
    disconnected_at: float | None = None
    resume_gen: int = 0
    denied: bool = False
    conn: str = ""  # the server's id of the socket that holds this seat now

    @property
    def id(self) -> str:
        return self.person.id

    @property
    def is_facilitator(self) -> bool:
        return self.person.role is Role.FACILITATOR


class Floor(msgspec.Struct, frozen=True, kw_only=True):
    """Who has the floor. ``cursor`` is the circle position of the last holder."""

    mode: FloorMode = FloorMode.OPEN
    holder: str | None = None
    order: tuple[str, ...] = ()
    turn_seconds: int | None = None
    started_at: float | None = None
    ends_at: float | None = None
    time_up_sent: bool = False
    cursor: int = -1


class ChatMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    sender: str = msgspec.field(name="from")
    name: str
    text: str
    ts: float
    private: bool = False


class RoomState(msgspec.Struct, kw_only=True):
    """The live truth of one room. Cleared at the end of every session."""

    room: RoomConfig
    session: SessionState = SessionState.IDLE
    session_id: str | None = None
    started_at: float | None = None
    seq: int = 0
    seats: dict[str, Seat] = msgspec.field(default_factory=dict)
    floor: Floor = msgspec.field(default_factory=Floor)
    chat: list[ChatMessage] = msgspec.field(default_factory=list)
    chat_counter: int = 0
    locked: bool = False
    banned_subs: frozenset[str] = frozenset()
    banned_devices: frozenset[str] = frozenset()
    speaking: dict[str, float] = msgspec.field(default_factory=dict)
    speaking_since: dict[str, float] = msgspec.field(default_factory=dict)

    def clone(self) -> RoomState:
        """A copy whose containers can be changed without touching this one (records are immutable)."""
        return RoomState(
            room=self.room,
            session=self.session,
            session_id=self.session_id,
            started_at=self.started_at,
            seq=self.seq,
            seats=dict(self.seats),
            floor=self.floor,
            chat=list(self.chat),
            chat_counter=self.chat_counter,
            locked=self.locked,
            banned_subs=self.banned_subs,
            banned_devices=self.banned_devices,
            speaking=dict(self.speaking),
            speaking_since=dict(self.speaking_since),
        )

    # Read-only helpers shared by the engine and the server.

    def admitted(self) -> list[Seat]:
        return [s for s in self.seats.values() if s.admitted]

    def waiting(self) -> list[Seat]:
        return [s for s in self.seats.values() if not s.admitted and not s.denied]

    def facilitator_present(self) -> bool:
        return any(s.admitted and s.is_facilitator and s.person.connected for s in self.seats.values())

    def hand_queue(self) -> list[str]:
        raised = [s.person for s in self.seats.values() if s.admitted and s.person.hand is not None]
        raised.sort(key=lambda p: (p.hand, p.id))
        return [p.id for p in raised]

    def visible_chat(self, viewer: Seat) -> list[ChatMessage]:
        """The chat a viewer may see: group messages, plus private ones they sent or may read."""
        if viewer.is_facilitator:
            return list(self.chat)
        return [m for m in self.chat if not m.private or m.sender == viewer.id]

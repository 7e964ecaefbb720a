"""The data of a room: its definition, its live state, and the public views sent on the wire.

Every record is an immutable msgspec ``Struct``: the engine replaces records instead of changing
them, so a state can be cloned by copying its containers, and "did this change?" is a cheap
identity or equality test. ``RoomState`` is the one mutable container; only the engine writes it,
and only on a clone. The chat history is a ``ChatLog``, a persistent value: a clone shares it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from itertools import islice
from typing import Annotated, overload

import msgspec
from msgspec import Meta

from rooms.limits import (
    PHASE_MINUTES_MAX,
    PHASE_MINUTES_MIN,
    PHASE_NAME_MAX_CHARS,
    PHASE_NOTES_MAX_CHARS,
    PHASES_MAX,
    SCHEDULE_DATES_MAX,
    SESSION_MINUTES_MAX,
    SESSION_MINUTES_MIN,
)
from rooms.permissions import Capability, can
from rooms.permissions import Role as Role  # re-exported: a participant's role is part of the model


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
    TIMED_OUT = "timed_out"


class MediaMode(StrEnum):
    """A room's media setting: ``auto`` lets the server choose by the room's size."""

    MESH = "mesh"
    SFU = "sfu"
    AUTO = "auto"


class MediaPath(StrEnum):
    """The path a session's media takes: between members' devices, or through a media server."""

    MESH = "mesh"
    SFU = "sfu"


class LeaveReason(StrEnum):
    LEFT = "left"
    REMOVED = "removed"
    TIMEOUT = "timeout"


class PhaseKind(StrEnum):
    """What a run-sheet phase is for: the page offers the card that fits (the check-in card in
    ``check_in`` and ``check_out``, last week's plans in ``review``, the plan form in ``goals``)."""

    CHECK_IN = "check_in"
    REVIEW = "review"
    TOPIC = "topic"
    PRACTICE = "practice"
    SHARING = "sharing"
    GOALS = "goals"
    CHECK_OUT = "check_out"
    OTHER = "other"


class Phase(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One step of a session's run-sheet. ``floor``: the floor mode it sets when it begins (a
    check-in round is a talking circle, where passing is always allowed); ``None`` leaves the
    floor as it is. ``notes``: the facilitator's script, seen only with ``SEE_SCRIPT``."""

    name: Annotated[str, Meta(min_length=1, max_length=PHASE_NAME_MAX_CHARS)]
    minutes: Annotated[int, Meta(ge=PHASE_MINUTES_MIN, le=PHASE_MINUTES_MAX)]
    kind: PhaseKind = PhaseKind.OTHER
    floor: FloorMode | None = None
    notes: Annotated[str, Meta(max_length=PHASE_NOTES_MAX_CHARS)] = ""


class Schedule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """When a group meets, in its own time zone (an IANA name): weekly (``weekday`` 0 = Monday
    and ``time`` "HH:MM"), or on the listed ``dates`` ("YYYY-MM-DDTHH:MM", local), or both."""

    timezone: Annotated[str, Meta(min_length=1, max_length=64)] = "UTC"
    weekday: Annotated[int, Meta(ge=0, le=6)] | None = None
    time: Annotated[str, Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] | None = None
    dates: Annotated[
        tuple[Annotated[str, Meta(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}$")], ...],
        Meta(max_length=SCHEDULE_DATES_MAX),
    ] = ()
    minutes: Annotated[int, Meta(ge=SESSION_MINUTES_MIN, le=SESSION_MINUTES_MAX)] = 90


RunSheet = Annotated[tuple[Phase, ...], Meta(max_length=PHASES_MAX)]


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
    # Facilitator links have their own version (token claim ``fv``): raising it revokes them
    # without touching member links. Rooms stored before it existed read as 1, the version
    # their facilitator links (which carry no ``fv``) count as.
    facilitator_version: int = 1
    created_at: float = 0.0
    # Read when a session starts (``Join.media``): a change applies from the next session.
    media: MediaMode = MediaMode.AUTO
    # The group's journey (docs/journey.md): the run-sheet of its sessions, when it meets, and
    # whether facilitators see individual check-in cards (off: only the member and, from five
    # answers, the group's aggregate; on for therapist-led groups, and said on the card).
    run_sheet: RunSheet = ()
    schedule: Schedule | None = None
    facilitators_see_checkins: bool = False

    def public(self) -> dict[str, object]:
        """The room as participants see it (no link versions, no facilitator's notes)."""
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
                "media": self.media,
                "facilitators_see_checkins": self.facilitators_see_checkins,
            },
            "run_sheet": [
                {"name": p.name, "minutes": p.minutes, "kind": p.kind, "floor": p.floor}
                for p in self.run_sheet
            ],
            "schedule": None if self.schedule is None else msgspec.to_builtins(self.schedule),
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
    conn: str = ""  # the server's id of the socket that holds this seat now
    # Sent to the lobby only because someone was banned this session and this join had no
    # personal identity (``sub``) that a ban could hold: the facilitator is told so.
    held_after_ban: bool = False

    @property
    def id(self) -> str:
        return self.person.id

    def can(self, capability: Capability) -> bool:
        """Whether this seat's role grants ``capability`` (``rooms.permissions``)."""
        return can(self.person.role, capability)


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
    """``role`` is the sender's role as the server knows it when the message was sent, so a
    page can show who really speaks for the room whatever name someone picked."""

    id: str
    sender: str = msgspec.field(name="from")
    name: str
    text: str
    ts: float
    private: bool = False
    role: Role = Role.MEMBER
    # A private reply to one participant (their id): seen by its sender, that participant and
    # whoever may answer help or read private messages. Absent (not null) on every other message.
    to: str | msgspec.UnsetType = msgspec.UNSET


class HelpAlert(msgspec.Struct, frozen=True, kw_only=True):
    """An open "Need help now?" request: one per person (``id`` is the asker's participant id;
    asking again updates it), kept until someone who may answer help acknowledges it or the
    session ends, also when the asker disconnects or leaves."""

    id: str
    name: str
    text: str
    first_at: float
    last_at: float
    count: int = 1


def may_see(viewer: Seat, message: ChatMessage) -> bool:
    """Whether ``viewer`` may see ``message``: live, in ``welcome``/``snapshot`` and in
    ``chat_history`` alike."""
    if not message.private or message.sender == viewer.id or message.to == viewer.id:
        return True
    if viewer.can(Capability.READ_PRIVATE):
        return True
    return isinstance(message.to, str) and viewer.can(Capability.ANSWER_HELP)


def message_size(message: ChatMessage) -> int:
    """What a message weighs against a session's chat byte cap: its text and its sender's name,
    in UTF-8 bytes (the rest of a message is small and fixed)."""
    return len(message.text.encode()) + len(message.name.encode())


class ChatNotLoaded(RuntimeError):
    """The messages of a ``ChatLog`` read from a store without them were asked for."""


class ChatLog:
    """The chat messages of a session: a persistent append log, shared by the states it is in.

    A log is a view: the first ``length`` entries of a backing list that it shares with the logs
    it grew from and the logs that grew from it. No entry a view can see ever changes, so a log
    never changes. ``with_message`` appends in place when this view is the tip of its backing
    list (O(1)), and copies first when another log already appended there (a branch: the same
    command applied twice to one state, or a retry). ``without_message`` leaves a tombstone
    (``None``) in a copy (O(n); deletions are rare): positions never move, and the text is gone.

    A log is bounded: ``trimmed`` drops its oldest entries for good (``dropped`` counts them).
    Positions still never move: the first entry held is at position ``dropped``. The log knows
    how many entries it holds (``held``, tombstones included) and how many bytes its messages
    weigh (``size``, see ``message_size``) without reading them, so a cap can be checked on a
    log whose history was not loaded.

    A store may hand out a log *without its history* (``without_history(total, ...)``): it knows
    how many entries came before (``total``), not what they were. Appending works, so commands
    that do not read the chat never load it; reading its messages (or trimming it) raises
    ``ChatNotLoaded``.

    Reading (iterating, ``len``, ``find``, indexing) yields the messages that were not deleted, in
    order, in O(n). A log equals another with the same entries, and the list of its messages.
    """

    __slots__ = ("_dropped", "_entries", "_length", "_size", "_start")

    def __init__(self, entries: Iterable[ChatMessage | None] = (), *, dropped: int = 0) -> None:
        self._entries: list[ChatMessage | None] = list(entries)
        self._length = len(self._entries)
        self._start = dropped  # the position of ``_entries[0]``: entries before it were not loaded
        self._dropped = dropped  # entries before this position are gone for good (trimmed)
        self._size = sum(message_size(e) for e in self._entries if e is not None)

    @classmethod
    def without_history(cls, total: int, *, dropped: int = 0, size: int = 0) -> ChatLog:
        """A log that ``total`` entries came before (the first ``dropped`` of them trimmed, the
        others weighing ``size`` bytes), none of them loaded."""
        return cls._view([], 0, total, dropped, size)

    @classmethod
    def _view(
        cls, entries: list[ChatMessage | None], length: int, start: int, dropped: int, size: int
    ) -> ChatLog:
        log = cls.__new__(cls)
        log._entries, log._length, log._start = entries, length, start
        log._dropped, log._size = dropped, size
        return log

    @property
    def total(self) -> int:
        """How many entries the log has had, deleted and dropped ones included: the position of
        the next."""
        return self._start + self._length

    @property
    def dropped(self) -> int:
        """How many of the oldest entries were trimmed away: the position of the first held."""
        return self._dropped

    @property
    def held(self) -> int:
        """How many entries the log holds (tombstones included): what the count cap counts."""
        return self.total - self._dropped

    @property
    def size(self) -> int:
        """The bytes of the messages held (``message_size``): what the byte cap counts."""
        return self._size

    @property
    def loaded(self) -> bool:
        return self._start == self._dropped

    def with_message(self, message: ChatMessage) -> ChatLog:
        entries = self._entries
        if len(entries) != self._length:  # another log appended to this backing list: branch off
            entries = entries[: self._length]
        entries.append(message)
        size = self._size + message_size(message)
        return ChatLog._view(entries, self._length + 1, self._start, self._dropped, size)

    def without_message(self, message_id: str) -> ChatLog:
        """This log with that message deleted. Raises ``KeyError`` if it has no such message."""
        entries = self.entries_from(self._dropped)
        for position, entry in enumerate(entries):
            if entry is not None and entry.id == message_id:
                entries[position] = None
                size = self._size - message_size(entry)
                return ChatLog._view(entries, len(entries), self._dropped, self._dropped, size)
        raise KeyError(message_id)

    def trimmed(self, max_entries: int, max_bytes: int) -> ChatLog:
        """This log without its oldest entries, as few as leave at most ``max_entries`` held and
        at most ``max_bytes`` of messages. The newest entry always stays (a message larger than
        the byte cap is kept alone). Raises ``ChatNotLoaded`` on a log without its history: the
        sizes of the entries to drop must be read."""
        if self.held <= max_entries and self._size <= max_bytes:
            return self
        entries = self.entries_from(self._dropped)
        size, cut = self._size, 0
        while cut < len(entries) - 1 and (len(entries) - cut > max_entries or size > max_bytes):
            entry = entries[cut]
            if entry is not None:
                size -= message_size(entry)
            cut += 1
        dropped = self._dropped + cut
        return ChatLog._view(entries[cut:], len(entries) - cut, dropped, dropped, size)

    def capped(self, max_entries: int, max_bytes: int) -> ChatLog:
        """This log kept within the caps, as a ring: once past either cap, the oldest entries
        leave until it is a tenth below both, so that the next trim (which must read the
        sizes of what it drops: on Redis a read of the whole list) comes only after a tenth of
        a cap more chat, not at every message."""
        if self.held <= max_entries and self._size <= max_bytes:
            return self
        return self.trimmed(max_entries - max_entries // 10, max_bytes - max_bytes // 10)

    def find(self, message_id: str) -> ChatMessage | None:
        return next((m for m in self if m.id == message_id), None)

    def entries_from(self, position: int) -> list[ChatMessage | None]:
        """A copy of the entries from ``position`` on (from the first held one, if ``position``
        was dropped), tombstones included."""
        position = max(position, self._dropped)
        if position < self._start:
            raise ChatNotLoaded(f"chat entries from {position} were not loaded (from {self._start} were)")
        return self._entries[position - self._start : self._length]

    def changes_since(self, base: ChatLog) -> tuple[int, list[int], list[ChatMessage | None]] | None:
        """If this log grew from ``base``: how many of the oldest entries were dropped since, the
        positions deleted since, and the entries appended since (what a store must write to turn
        ``base`` into this log). ``None`` if it did not.

        O(1) when ``base`` was not loaded or shares this log's backing list; else O(n)."""
        if self._dropped < base._dropped or self.total < base.total or self._dropped > base.total:
            return None
        if self._start != max(base._start, self._dropped):
            return None
        deleted: list[int] = []
        if self._entries is not base._entries:  # a shared backing list has a shared prefix
            common = base.total - self._start
            old = base._entries[self._start - base._start : base._length]
            pairs = zip(old, self._entries[:common], strict=True)
            for offset, (before, after) in enumerate(pairs):
                if after is not before:
                    if after is not None:
                        return None
                    deleted.append(self._start + offset)
        added = self._entries[base.total - self._start : self._length]
        return self._dropped - base._dropped, deleted, added

    def __iter__(self) -> Iterator[ChatMessage]:
        if not self.loaded:
            raise ChatNotLoaded(f"the chat entries before {self._start} were not loaded")
        return (entry for entry in islice(self._entries, self._length) if entry is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, message: object) -> bool:
        return any(m == message for m in self)

    @overload
    def __getitem__(self, index: int) -> ChatMessage: ...
    @overload
    def __getitem__(self, index: slice) -> list[ChatMessage]: ...
    def __getitem__(self, index: int | slice) -> ChatMessage | list[ChatMessage]:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ChatLog):
            mine, theirs = self._entries[: self._length], other._entries[: other._length]
            return (self._start, self._dropped) == (other._start, other._dropped) and mine == theirs
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    def __repr__(self) -> str:
        if not self.loaded:
            return f"ChatLog(<{self._start} entries not loaded>, {self.entries_from(self._start)!r})"
        if self._dropped:
            return f"ChatLog(<{self._dropped} dropped>, {self._entries[: self._length]!r})"
        return f"ChatLog({self._entries[: self._length]!r})"


class SfuPlacement(msgspec.Struct, frozen=True, kw_only=True):
    """Where a session's media server room lives: ``instance`` (the Janus URL, a private address
    never sent to a browser) and ``room`` (the VideoRoom id there). ``epoch`` counts placements
    in this session, so a placement computed from an older one is refused (``PlaceSfu``)."""

    instance: str
    room: str
    epoch: int


class RoomState(msgspec.Struct, kw_only=True):
    """The live truth of one room. Cleared at the end of every session."""

    room: RoomConfig
    session: SessionState = SessionState.IDLE
    session_id: str | None = None
    started_at: float | None = None
    seq: int = 0
    seats: dict[str, Seat] = msgspec.field(default_factory=dict)
    floor: Floor = msgspec.field(default_factory=Floor)
    chat: ChatLog = msgspec.field(default_factory=ChatLog)
    locked: bool = False
    banned_subs: frozenset[str] = frozenset()
    banned_devices: frozenset[str] = frozenset()
    # After any ban, joins without a ``sub`` wait in the lobby for the rest of the session, even
    # in a room without one: a shared link (and a fresh device id) is all a banned person needs.
    lobby_after_ban: bool = False
    speaking: dict[str, float] = msgspec.field(default_factory=dict)
    speaking_since: dict[str, float] = msgspec.field(default_factory=dict)
    # The session's media path, fixed when it starts (a room's setting applies from the next
    # session), and where its media server room is, once placed.
    media: MediaPath = MediaPath.MESH
    sfu: SfuPlacement | None = None
    # Open help alerts by asker id, oldest first (``rooms.handlers.help``).
    alerts: dict[str, HelpAlert] = msgspec.field(default_factory=dict)
    # The run-sheet phase under way (an index into ``room.run_sheet``) and when it began
    # (``rooms.handlers.phases``); None: no phase (not started, finished, or its phase was
    # edited away).
    phase: int | None = None
    phase_started_at: float | None = None

    def clone(self) -> RoomState:
        """A copy whose containers can be changed without touching this one (records are immutable,
        the chat log is a persistent value: O(1) whatever its length)."""
        return RoomState(
            room=self.room,
            session=self.session,
            session_id=self.session_id,
            started_at=self.started_at,
            seq=self.seq,
            seats=dict(self.seats),
            floor=self.floor,
            chat=self.chat,
            locked=self.locked,
            banned_subs=self.banned_subs,
            banned_devices=self.banned_devices,
            lobby_after_ban=self.lobby_after_ban,
            speaking=dict(self.speaking),
            speaking_since=dict(self.speaking_since),
            media=self.media,
            sfu=self.sfu,
            alerts=dict(self.alerts),
            phase=self.phase,
            phase_started_at=self.phase_started_at,
        )

    # Read-only helpers shared by the engine and the server.

    def admitted(self) -> list[Seat]:
        return [s for s in self.seats.values() if s.admitted]

    def waiting(self) -> list[Seat]:
        return [s for s in self.seats.values() if not s.admitted]

    def admitter_present(self) -> bool:
        """Someone who may let people in is here (what the lobby tells those waiting)."""
        return any(s.admitted and s.can(Capability.ADMIT) and s.person.connected for s in self.seats.values())

    def hand_queue(self) -> list[str]:
        raised = [s.person for s in self.seats.values() if s.admitted and s.person.hand is not None]
        raised.sort(key=lambda p: (p.hand, p.id))
        return [p.id for p in raised]

    def visible_chat(self, viewer: Seat) -> list[ChatMessage]:
        """The chat a viewer may see: group messages, private ones they sent, received (a reply
        ``to`` them) or may read."""
        if viewer.can(Capability.READ_PRIVATE):
            return list(self.chat)
        return [m for m in self.chat if may_see(viewer, m)]

    def chat_page(
        self, viewer: Seat, limit: int, before: str | None = None
    ) -> tuple[list[ChatMessage], bool]:
        """Up to ``limit`` of the newest messages the viewer may see (older than message
        ``before``, if given), oldest first, and whether older ones they may see remain.
        Raises ``KeyError`` if ``before`` is no message the viewer may see."""
        visible = self.visible_chat(viewer)
        if before is not None:
            index = next((i for i, m in enumerate(visible) if m.id == before), None)
            if index is None:
                raise KeyError(before)
            visible = visible[:index]
        page = visible[-limit:] if limit > 0 else []
        return page, len(visible) > len(page)

"""The room as a Python peer sees it (the browser's ``state.js``): loaded from ``welcome`` and
``snapshot``, kept up to date by numbered events, with the ``seq`` rule: a frame already covered
is ignored, a gap asks for a ``sync`` and numbered frames are dropped until the ``snapshot``."""

from __future__ import annotations

import enum
from typing import Any

UNNUMBERED_VIEWS = {"welcome", "snapshot"}  # carry the seq they include, not a new one


class Order(enum.Enum):
    APPLY = "apply"
    SKIP = "skip"  # covered already, or waiting for a snapshot
    SYNC = "sync"  # a gap: ask for a snapshot


class RoomState:
    def __init__(self) -> None:
        self.you: dict[str, Any] = {}
        self.room: dict[str, Any] = {}
        self.participants: dict[str, dict[str, Any]] = {}  # admitted, you included
        self.floor: dict[str, Any] = {}
        self.seq = 0
        self.syncing = False
        self.lobby_state: str | None = None
        self.end_reason: str | None = None

    @property
    def id(self) -> str:
        return str(self.you.get("id", ""))

    def order(self, frame: dict[str, Any]) -> Order:
        """Where a frame stands in the room's sequence (frames without ``seq`` always apply)."""
        if "seq" not in frame or frame.get("type") in UNNUMBERED_VIEWS:
            return Order.APPLY
        seq = frame["seq"]
        if self.syncing or not isinstance(seq, int) or seq <= self.seq:
            return Order.SKIP
        if seq > self.seq + 1:
            self.syncing = True
            return Order.SYNC
        self.seq = seq
        return Order.APPLY

    def load(self, frame: dict[str, Any]) -> None:
        """A ``welcome`` or ``snapshot``: the whole room, replacing what was known."""
        self.you = frame["you"]
        self.room = frame.get("room", {})
        self.participants = {p["id"]: p for p in frame.get("participants", [])}
        self.floor = frame.get("floor", {})
        self.seq = int(frame.get("seq", 0))
        self.syncing = False
        self.lobby_state = None

    def apply(self, frame: dict[str, Any]) -> bool:
        """One event; whether the participants changed (connections and rules follow them)."""
        kind = frame.get("type")
        if kind in ("participant_joined", "participant_updated"):
            person = frame["participant"]
            self.participants[person["id"]] = person
            if person["id"] == self.id:
                self.you = person
            return True
        if kind == "participant_left":
            self.participants.pop(str(frame.get("id")), None)
            return True
        if kind == "floor":
            self.floor = {key: value for key, value in frame.items() if key not in ("type", "seq")}
        elif kind == "room_updated":
            self.room = frame.get("room", self.room)
        elif kind == "lobby":
            self.lobby_state = str(frame.get("state"))
        elif kind in ("session_ended", "removed"):
            self.end_reason = f"{kind}: {frame.get('reason')}"
        return False

    def audible(self) -> dict[str, bool]:
        """Per other participant: would a browser play their sound now (``can_speak``)?"""
        return {pid: bool(p.get("can_speak")) for pid, p in self.participants.items() if pid != self.id}

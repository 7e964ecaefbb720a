"""Everything one running node shares between its routes: settings, the room service, the hub,
and where this node's participants are (presence)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rooms.backends.base import Presence
from rooms.backends.journey_base import JourneyStore
from rooms.backends.memory_journey import MemoryJourney
from rooms.limits import Limits
from rooms.service import RoomService
from server.config import Settings
from server.hub import Hub
from server.sfu.coordinator import SfuCoordinator
from server.signals import SignalBudgets
from server.welcome import Views


@dataclass
class Node:
    settings: Settings
    service: RoomService
    hub: Hub
    presence: Presence
    node_id: str
    # The group's journey, what lasts between sessions (rooms.journey, server.journey_api).
    journey: JourneyStore = field(default_factory=MemoryJourney)
    signal_budgets: SignalBudgets = field(init=False)  # per sender, across its reconnects
    views: Views = field(init=False)  # what each connection builds its welcome and snapshots with
    limits: Limits = field(init=False)  # settings.limits(), made once: every chat message reads it
    # SFU mode (server.sfu): the Janus side of this node's participants; None without Janus.
    sfu: SfuCoordinator | None = field(init=False)

    def __post_init__(self) -> None:
        settings = self.settings
        self.views = Views(self.service, settings)
        self.limits = settings.limits()
        self.signal_budgets = SignalBudgets(settings.signal_bytes_per_second, settings.signal_bytes_burst)
        self.sfu = SfuCoordinator(settings, self.service, self.hub) if settings.sfu_available() else None

"""Everything one running node shares between its routes: settings, the room service, the hub,
and where this node's participants are (presence)."""

from __future__ import annotations

from dataclasses import dataclass

from rooms.backends.base import Presence
from rooms.service import RoomService
from server.config import Settings
from server.hub import Hub


@dataclass
class Node:
    settings: Settings
    service: RoomService
    hub: Hub
    presence: Presence
    node_id: str

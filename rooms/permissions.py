"""Roles map to capabilities in one table; the engine only ever asks ``can(role, capability)``."""

from __future__ import annotations

from enum import StrEnum

from rooms.model import Role


class Capability(StrEnum):
    TAKE_PART = "take_part"  # chat, react, media, hand, pass, away, signal
    MUTE_OTHERS = "mute_others"  # mute, mute_all, allow_speak
    RUN_FLOOR = "run_floor"  # give/next/end/set floor
    MANAGE_HANDS = "manage_hands"  # lower_hand, lower_all_hands
    ADMIT = "admit"  # admit, admit_all, deny
    LOCK = "lock"
    REMOVE = "remove"
    MODERATE_CHAT = "moderate_chat"  # delete_chat
    END_SESSION = "end_session"
    SEE_LOBBY = "see_lobby"  # lobby_changed, lobby in welcome
    SEE_SPEAKING = "see_speaking"  # speaking balance
    READ_PRIVATE = "read_private"  # private messages to the facilitators
    ALWAYS_HEARD = "always_heard"  # may speak in queue and circle mode without the floor
    BYPASS_LOBBY = "bypass_lobby"  # enters without admission, starts the session
    BYPASS_LIMITS = "bypass_limits"  # enters a locked or full room


_MEMBER = frozenset({Capability.TAKE_PART})

CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.MEMBER: _MEMBER,
    Role.FACILITATOR: frozenset(Capability),
}


def can(role: Role, capability: Capability) -> bool:
    return capability in CAPABILITIES[role]

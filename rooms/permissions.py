"""Who may do what, and who sees what: roles map to capabilities in one table, ``CAPABILITIES``.

Every "may / sees" decision in the engine, the server and (through ``welcome.capabilities``) the
browser asks ``can(role, capability)``; nothing tests a role's name. To answer "who may do X" or
"who sees Y", read the comment of the capability that names X or Y, then the table.

Roles live here too (and ``rooms.model`` re-exports ``Role``) so that the model's read helpers can
ask ``can`` without an import circle.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FACILITATOR = "facilitator"
    MEMBER = "member"


class Capability(StrEnum):
    """What a capability governs: the client messages (commands) it allows, the events and
    ``welcome``/``snapshot`` fields it lets one see, the rules it changes. ``docs/protocol.md``
    lists the names (``welcome.capabilities``)."""

    # Messages: chat, react, media, hand, pass, away, leave, and signal (checked by the server's
    # signal relay through the engine's ``authorize``, as the engine checks the others).
    TAKE_PART = "take_part"
    # Messages: mute, mute_all, allow_speak.
    MUTE_OTHERS = "mute_others"
    # Messages: give_floor, next_floor, end_floor, set_floor.
    RUN_FLOOR = "run_floor"
    # Messages: lower_hand, lower_all_hands.
    MANAGE_HANDS = "manage_hands"
    # Messages: admit, admit_all, deny, deny_all. While someone who may admit is connected, those
    # in the lobby read ``waiting_for_admission`` (else ``waiting_for_facilitator``).
    ADMIT = "admit"
    # Messages: lock.
    LOCK = "lock"
    # Messages: remove (with or without a ban).
    REMOVE = "remove"
    # Messages: delete_chat.
    MODERATE_CHAT = "moderate_chat"
    # Messages: end_session.
    END_SESSION = "end_session"
    # HTTP: the room API with an invite link of this role as bearer token (PATCH the room,
    # rotate the member or facilitator links). Pages: the links and room settings panels.
    MANAGE_ROOM = "manage_room"
    # Sees: the ``lobby_changed`` event, ``lobby`` in welcome and snapshot.
    SEE_LOBBY = "see_lobby"
    # Sees: the ``speaking`` event, ``speaking`` in welcome and snapshot.
    SEE_SPEAKING = "see_speaking"
    # Sees: private messages (``chat`` with ``to_facilitators``) of others, live (``chat``,
    # ``chat_deleted``) and in ``chat`` of welcome and snapshot and in ``chat_history``.
    READ_PRIVATE = "read_private"
    # Messages: ack_help, and chat with ``to`` naming one participant (a private reply). Sees: the
    # ``help_alert`` and ``help_closed`` events, ``help_alerts`` in welcome and snapshot, and
    # private replies (``chat`` with ``to``) of others, as READ_PRIVATE does.
    ANSWER_HELP = "answer_help"
    # Rule: ``can_speak`` without the floor in queue and circle mode; needs no turn, so is left
    # out of the circle's order (the default order, and when let in during a circle).
    ALWAYS_HEARD = "always_heard"
    # Rule: cannot be the target of mute, mute_all or remove (``invalid_target``).
    PROTECTED = "protected"
    # Rule: enters without admission, and their arrival starts the session.
    BYPASS_LOBBY = "bypass_lobby"
    # Rule: enters a locked or full room; admit (and the lobby-less door) lets them in when full.
    BYPASS_LIMITS = "bypass_limits"
    # Rule: may choose a display name that looks like a role ("Facilitator", "H0st"); others are
    # refused at join (``bad_message``), so that only those who speak for the room look like it.
    ROLE_LIKE_NAME = "role_like_name"

    # The group's journey (rooms.journey, docs/journey.md): what lasts between sessions.
    # HTTP (journey API): keep one's own journey with a personal link: action plans and their
    # reviews, check-in cards, posts on the coping-strategies board, "helped me too", one's
    # toolkit, cheers; see and delete one's own data.
    KEEP_JOURNEY = "keep_journey"
    # Messages: set_phase, next_phase (the run-sheet). HTTP: close a check-in round (the group's
    # summary). Sees: nothing more.
    RUN_SESSION = "run_session"
    # Sees: the run-sheet's notes (the facilitator's script) in welcome and snapshot.
    SEE_SCRIPT = "see_script"
    # HTTP: the group's roster: add a member (a personal link), new link, remove from the group,
    # delete a member's data.
    MANAGE_MEMBERS = "manage_members"
    # HTTP: pin, hide, retag and delete any post on the board; sees hidden posts and who wrote
    # an anonymous one (for safety).
    MODERATE_BOARD = "moderate_board"
    # Sees: every member's action plans and reviews, shared or not.
    SEE_PLANS = "see_plans"
    # Sees: individual check-in cards, only in a room whose ``facilitators_see_checkins`` is on.
    SEE_CHECKINS = "see_checkins"


_MEMBER = frozenset({Capability.TAKE_PART, Capability.KEEP_JOURNEY})

CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.MEMBER: _MEMBER,
    Role.FACILITATOR: frozenset(Capability),
}


def can(role: Role, capability: Capability) -> bool:
    return capability in CAPABILITIES[role]


def capabilities_of(role: Role) -> list[str]:
    """The capability names of a role, sorted: what ``welcome.capabilities`` carries."""
    return sorted(CAPABILITIES[role])

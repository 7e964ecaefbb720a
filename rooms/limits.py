"""Every number a room rule uses, in one place.

Fixed bounds (a room's fields, the turn timer) are constants here; the server's configurable
limits (chat and name length, the chat ring, the reconnect grace...) have their defaults here and
their values in ``server.config.Settings``, which builds one ``Limits`` record from them. That
record travels to the engine on the commands that need it (``Chat``), to the room API and the CLI
(``server.rooms_api``), and to the page as ``welcome.limits``, so the page's ``maxlength`` and
``min``/``max`` come from the server instead of being written again in HTML and JavaScript.
"""

from __future__ import annotations

import msgspec

# A room's fields (docs/protocol.md §1.1): the room API and `hearth rooms create` check the same.
TITLE_MAX_CHARS = 80
TOPIC_MAX_CHARS = 200
TEXT_MAX_CHARS = 4000  # the group agreement and the crisis text
TURN_SECONDS_MIN = 10  # also `set_floor.turn_seconds`
TURN_SECONDS_MAX = 3600
PARTICIPANTS_MIN = 2
PARTICIPANTS_MAX = 50
# A room's run-sheet and schedule (docs/journey.md).
PHASES_MAX = 12
PHASE_NAME_MAX_CHARS = 60
PHASE_MINUTES_MIN = 1
PHASE_MINUTES_MAX = 180
PHASE_NOTES_MAX_CHARS = 2000
SCHEDULE_DATES_MAX = 52
SESSION_MINUTES_MIN = 15
SESSION_MINUTES_MAX = 240

# Defaults of the configurable limits (HEARTH_MAX_CHAT_CHARS, HEARTH_MAX_NAME_CHARS, ...).
MAX_CHAT_CHARS = 2000
MAX_NAME_CHARS = 40
# A session's chat is a ring: past either cap its oldest messages leave (``ChatLog.capped``).
CHAT_MAX_MESSAGES = 500
CHAT_MAX_BYTES = 256 * 1024


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """The limits one server applies, as ``welcome.limits`` sends them (this field order)."""

    max_chat_chars: int
    max_message_bytes: int
    grace_seconds: float
    chat_page: int
    chat_max_messages: int
    chat_max_bytes: int
    max_name_chars: int
    turn_seconds_min: int = TURN_SECONDS_MIN
    turn_seconds_max: int = TURN_SECONDS_MAX
    max_participants_min: int = PARTICIPANTS_MIN
    max_participants_max: int = PARTICIPANTS_MAX
    title_max_chars: int = TITLE_MAX_CHARS
    topic_max_chars: int = TOPIC_MAX_CHARS
    text_max_chars: int = TEXT_MAX_CHARS

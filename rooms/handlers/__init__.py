"""One small handler per command, registered in ``HANDLERS`` with the capability it needs.

A handler receives a clone of the state and may change it freely, but must raise
``CommandError`` before its first change when it refuses. Handlers only add the events that
cannot be derived by comparing states (chat, reactions, removal notices); ``rooms.engine``
derives the rest.

The handlers are grouped by what they govern, one module each: ``door`` (joining, leaving, the
lobby, removal, the session), ``floor`` (the floor's rules and commands together), ``voices``
(media, stepping away, mutes), ``chat`` (chat and reactions), ``help`` (help alerts) and
``sfu`` (where a session's media server is), ``phases`` (the run-sheet); ``registry`` holds
``HANDLERS`` and ``@rule``, ``seats`` the seat lookups they share. Importing this package registers them all.
"""

from __future__ import annotations

from rooms.handlers import chat, door, floor, help, journey, phases, sfu, voices
from rooms.handlers.chat import REACTIONS
from rooms.handlers.registry import HANDLERS, Context, HandlerSpec, rule

__all__ = [
    "HANDLERS",
    "REACTIONS",
    "Context",
    "HandlerSpec",
    "chat",
    "door",
    "floor",
    "help",
    "journey",
    "phases",
    "rule",
    "sfu",
    "voices",
]

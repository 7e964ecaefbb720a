"""The store of a group's journey: what lasts between sessions (docs/journey.md).

Members on the roster, action plans and their reviews, posts on the coping-strategies board,
check-in cards, the group's check-in summaries: each is a ``Record`` of one room, found by its
``kind`` and ``id``. The store knows nothing of what a record means (``data`` is the domain's
encoded value, ``rooms.journey``); it knows whose data it is (``owner``, a member's stable
``sub``), so that one call deletes everything about a person, and when it was made
(``created``), so that the retention sweeper deletes what is older than the operator keeps.

Implementations: ``MemoryJourney`` (tests), ``SqliteJourney`` (the embedded default, beside the
room directory) and ``RedisJourney`` (many nodes; the persistent Redis of the room directory).
One contract suite (tests/backends/test_journey_contract.py) runs on all of them.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

# Kinds the retention sweeper leaves alone: the roster (membership, not health data: a member
# leaves it by deleting themselves or being removed) and the session counter's entries.
KEPT_BY_SWEEP = frozenset({"member"})


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """One stored item of a room's journey. ``owner``: the ``sub`` of the member whose data it is
    (``None``: the group's, such as a check-in summary). ``created``: Unix seconds, what lists
    are ordered by and what retention counts from; rewriting a record keeps what the new record
    says. ``data``: the encoded value, opaque here (a few KiB at most: the domain bounds it)."""

    kind: str
    id: str
    owner: str | None
    created: float
    data: bytes


class JourneyStore(Protocol):
    """Every method is atomic on its own. An unreachable backing service raises
    ``StoreUnavailable`` (``rooms.backends.base``) and changes nothing."""

    async def open(self) -> None: ...
    async def close(self) -> None: ...

    async def put(self, room_id: str, record: Record) -> None:
        """Store ``record``, replacing the one of the same kind and id (whose owner it keeps
        only if the new record names the same owner)."""
        ...

    async def add(self, room_id: str, record: Record, *, limit: int, per_owner: bool = False) -> bool:
        """Store ``record`` only while the room holds fewer than ``limit`` records of its kind
        (of its kind and owner, with ``per_owner``); replacing a record of the same kind and id
        is always allowed. Whether it was stored: the check and the write are one step, so
        concurrent adds on many nodes never pass the limit."""
        ...

    async def get(self, room_id: str, kind: str, record_id: str) -> Record | None: ...

    async def list(self, room_id: str, kind: str, *, owner: str | None = None) -> list[Record]:
        """The room's records of ``kind`` (only ``owner``'s, if given), oldest first (``created``,
        then ``id``)."""
        ...

    async def count(self, room_id: str, kind: str, *, owner: str | None = None) -> int: ...

    async def delete(self, room_id: str, kind: str, record_id: str) -> bool:
        """Whether there was such a record."""
        ...

    async def delete_owner(self, room_id: str, owner: str, *, keep: frozenset[str] = frozenset()) -> int:
        """Delete every record of the room that ``owner`` owns, except those of the kinds in
        ``keep``; how many went."""
        ...

    async def delete_room(self, room_id: str) -> int:
        """Delete everything the room's journey holds (the session counter too)."""
        ...

    async def sweep(self, before: float) -> int:
        """Delete, in every room, the records made before ``before`` (Unix seconds), except the
        kinds in ``KEPT_BY_SWEEP``; how many went. What retention (``HEARTH_RETENTION_DAYS``)
        runs."""
        ...

    async def session_number(self, room_id: str, session_id: str) -> int:
        """The number of the room's session ``session_id``: the same number every time it is
        asked, and one more than the last session's for a session not numbered yet (1 for the
        first). Sessions are numbered in the order they were first asked about."""
        ...

    async def last_session_number(self, room_id: str) -> int:
        """The number of the room's latest numbered session (0: none yet)."""
        ...

    async def ping(self) -> bool: ...

"""A room's fields and how a room is made: one set of rules for the JSON API and the CLI.

``POST /api/rooms`` and ``hearth rooms create`` used to check the fields each in its own way (the
CLI took a 5-second turn timer or a room of 500 that the API refuses). Both now turn what they got
into ``RoomFields`` here, with the same bounds (``rooms.limits``) and the same messages, and
both call ``create_room``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from msgspec.structs import replace

from rooms.backends.base import RoomDirectory
from rooms.journey.schedule import schedule_problem
from rooms.limits import (
    PARTICIPANTS_MAX,
    PARTICIPANTS_MIN,
    TEXT_MAX_CHARS,
    TITLE_MAX_CHARS,
    TOPIC_MAX_CHARS,
    TURN_SECONDS_MAX,
    TURN_SECONDS_MIN,
)
from rooms.model import DEFAULT_AGREEMENT, FloorMode, MediaMode, RoomConfig, RunSheet, Schedule
from server.links import new_room_id

Title = Annotated[str, Meta(min_length=1, max_length=TITLE_MAX_CHARS)]
Topic = Annotated[str, Meta(max_length=TOPIC_MAX_CHARS)]
Text = Annotated[str, Meta(max_length=TEXT_MAX_CHARS)]
TurnSeconds = Annotated[int, Meta(ge=TURN_SECONDS_MIN, le=TURN_SECONDS_MAX)]
Size = Annotated[int, Meta(ge=PARTICIPANTS_MIN, le=PARTICIPANTS_MAX)]

NO_TITLE = f"a room needs a title (1-{TITLE_MAX_CHARS} characters)"


class RoomFields(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The fields of a room someone may set (docs/protocol.md §1.1); unset ones keep their value."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    topic: Topic | msgspec.UnsetType = msgspec.UNSET
    agreement: Text | msgspec.UnsetType = msgspec.UNSET
    lobby: bool | msgspec.UnsetType = msgspec.UNSET
    floor_mode: FloorMode | msgspec.UnsetType = msgspec.UNSET
    turn_seconds: TurnSeconds | msgspec.UnsetType | None = msgspec.UNSET
    max_participants: Size | msgspec.UnsetType = msgspec.UNSET
    crisis_text: Text | msgspec.UnsetType = msgspec.UNSET
    # How the sessions' media travels (docs/protocol.md §1.9); a change applies from the next one.
    media: MediaMode | msgspec.UnsetType = msgspec.UNSET
    # The group's journey (docs/journey.md): phases, when it meets (null: no schedule), and
    # whether facilitators see individual check-in cards.
    run_sheet: RunSheet | msgspec.UnsetType = msgspec.UNSET
    schedule: Schedule | msgspec.UnsetType | None = msgspec.UNSET
    facilitators_see_checkins: bool | msgspec.UnsetType = msgspec.UNSET

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not msgspec.UNSET}


class FieldsRefused(ValueError):
    """Room fields that cannot be used; the message says which and why (never echoing values)."""


def _where(exc: msgspec.ValidationError) -> str:
    # msgspec says e.g. "Expected `int` >= 10 - at `$.turn_seconds`": types and paths, no values.
    return str(exc).replace("`", "'")


def fields_from_json(body: bytes) -> RoomFields:
    """The fields of an API request body. Raises ``FieldsRefused``."""
    try:
        return msgspec.json.decode(body, type=RoomFields)
    except RecursionError:
        raise FieldsRefused("the body nests too deeply") from None
    except msgspec.ValidationError as exc:
        raise FieldsRefused(_where(exc)) from None
    except msgspec.DecodeError:
        raise FieldsRefused("the body must be a JSON object") from None


def fields_from_values(values: dict[str, Any]) -> RoomFields:
    """The fields given as Python values (the CLI's flags). Raises ``FieldsRefused`` with the
    message the API gives for the same value."""
    try:
        return msgspec.convert(values, RoomFields)
    except msgspec.ValidationError as exc:
        raise FieldsRefused(_where(exc)) from None


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    if "title" in values:
        values["title"] = values["title"].strip()
        if not values["title"]:
            raise FieldsRefused(NO_TITLE)
    if values.get("schedule") is not None:
        problem = schedule_problem(values["schedule"])  # an unknown time zone, a date that is not
        if problem is not None:
            raise FieldsRefused(problem)
    return values


def new_room(fields: RoomFields, now: float) -> RoomConfig:
    """A new room of these fields (a title is required). Raises ``FieldsRefused``."""
    values = _clean(fields.given())
    if "title" not in values:
        raise FieldsRefused(NO_TITLE)
    values.setdefault("agreement", DEFAULT_AGREEMENT)
    return RoomConfig(id=new_room_id(), created_at=now, **values)


def changed_room(config: RoomConfig, fields: RoomFields) -> RoomConfig:
    """``config`` with these fields changed. Raises ``FieldsRefused``."""
    return replace(config, **_clean(fields.given()))


async def create_room(directory: RoomDirectory, fields: RoomFields) -> RoomConfig:
    """Make a room and store it. Raises ``FieldsRefused`` (nothing stored)."""
    config = new_room(fields, time.time())
    await directory.create(config)
    return config

"""When a group meets: next sessions across changes of clocks, and the .ics file (RFC 5545)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from rooms.journey.schedule import (
    NEXT_SESSIONS_MAX,
    calendar,
    describe,
    next_sessions,
    schedule_problem,
)
from rooms.model import RoomConfig, Schedule


def utc(text: str) -> float:
    """Unix seconds of "YYYY-MM-DD HH:MM" in UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def utcs(*texts: str) -> list[float]:
    return [utc(text) for text in texts]


TUESDAY_LONDON = Schedule(timezone="Europe/London", weekday=1, time="18:00")


@pytest.mark.parametrize(
    ("schedule", "after", "count", "expected"),
    [
        # Autumn: clocks go back on Sunday 25 Oct 2026; 18:00 London is 17:00Z, then 18:00Z.
        (TUESDAY_LONDON, "2026-10-15 00:00", 3, ("2026-10-20 17:00", "2026-10-27 18:00", "2026-11-03 18:00")),
        # Spring: clocks go forward on Sunday 29 Mar 2026.
        (TUESDAY_LONDON, "2026-03-20 12:00", 2, ("2026-03-24 18:00", "2026-03-31 17:00")),
        # A session that has begun is not the next one; the same weekday later on is.
        (TUESDAY_LONDON, "2026-12-08 18:00", 1, ("2026-12-15 18:00",)),
        (TUESDAY_LONDON, "2026-12-08 17:59", 1, ("2026-12-08 18:00",)),
        # Late evening in New York is already the next day in UTC; its clocks change on 1 Nov.
        (
            Schedule(timezone="America/New_York", weekday=5, time="21:30"),
            "2026-10-26 00:00",
            2,
            ("2026-11-01 01:30", "2026-11-08 02:30"),
        ),
        # Dated sessions only: past ones skipped, the rest in order.
        (
            Schedule(
                timezone="Europe/London", dates=("2026-12-20T10:00", "2026-01-05T10:00", "2026-07-01T10:00")
            ),
            "2026-06-01 00:00",
            5,
            ("2026-07-01 09:00", "2026-12-20 10:00"),
        ),
        # Weekly and dated together; a date on a weekly session counts once.
        (
            Schedule(
                timezone="Europe/London",
                weekday=1,
                time="18:00",
                dates=("2026-12-10T11:00", "2026-12-15T18:00"),
            ),
            "2026-12-07 00:00",
            4,
            ("2026-12-08 18:00", "2026-12-10 11:00", "2026-12-15 18:00", "2026-12-22 18:00"),
        ),
        # A local time the clocks skip is read with the offset before the change.
        (
            Schedule(timezone="Europe/London", dates=("2026-03-29T01:30",)),
            "2026-03-01 00:00",
            1,
            ("2026-03-29 01:30",),
        ),
        # count bounds
        (TUESDAY_LONDON, "2026-12-07 00:00", 0, ()),
        (TUESDAY_LONDON, "2026-12-07 00:00", -3, ()),
        # An unknown zone (an old room, or a system without it): no sessions rather than a crash.
        (Schedule(timezone="Mars/Olympus_Mons", weekday=1, time="18:00"), "2026-12-07 00:00", 3, ()),
    ],
)
def test_next_sessions(schedule: Schedule, after: str, count: int, expected: tuple[str, ...]) -> None:
    assert next_sessions(schedule, utc(after), count) == utcs(*expected)


def test_next_sessions_are_bounded() -> None:
    starts = next_sessions(TUESDAY_LONDON, utc("2026-12-07 00:00"), 1000)
    assert len(starts) == NEXT_SESSIONS_MAX
    assert all(
        later - earlier in (7 * 86400, 7 * 86400 - 3600, 7 * 86400 + 3600)
        for earlier, later in itertools.pairwise(starts)
    )
    # Every one of them is 18:00 in London, whatever the offset.
    assert {describe(start, "Europe/London")[-5:] for start in starts} == {"18:00"}


@pytest.mark.parametrize(
    ("schedule", "problem"),
    [
        (TUESDAY_LONDON, None),
        (Schedule(timezone="Europe/Londn", weekday=1, time="18:00"), "unknown time zone"),
        (Schedule(timezone="../../etc/passwd", weekday=1, time="18:00"), "unknown time zone"),
        (Schedule(timezone="UTC", weekday=1), "both a weekday and a time"),
        (Schedule(timezone="UTC", time="18:00"), "both a weekday and a time"),
        (Schedule(timezone="UTC"), "weekday and a time, or dates"),
        (Schedule(timezone="UTC", dates=("2026-02-30T10:00",)), "does not exist"),
        (Schedule(timezone="UTC", dates=("2026-02-28T10:00",)), None),
    ],
)
def test_schedule_problem(schedule: Schedule, problem: str | None) -> None:
    found = schedule_problem(schedule)
    assert found == problem if problem is None else (found is not None and problem in found)


def test_describe_in_the_groups_zone() -> None:
    assert describe(utc("2026-12-08 18:00"), "Europe/London") == "Tue 8 Dec, 18:00"
    assert describe(utc("2026-07-07 17:00"), "Europe/London") == "Tue 7 Jul, 18:00"
    assert describe(utc("2026-12-08 18:00"), "Asia/Tokyo") == "Wed 9 Dec, 03:00"


def unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


ROOM = RoomConfig(id="room123", title="Pain, sleep; and \\ pacing\nTuesdays", created_at=1.0)
URL = "https://hearth.example.org/r/room123"


def test_calendar_is_rfc_5545() -> None:
    starts = utcs("2026-10-20 17:00", "2026-10-27 18:00")
    text = calendar(ROOM, starts, 90, URL, now=utc("2026-10-01 09:00"))
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    lines = unfold(text)[:-1]
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines
    assert lines.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20261020T170000Z" in lines and "DTEND:20261020T183000Z" in lines
    assert "DTSTART:20261027T180000Z" in lines and "DTEND:20261027T193000Z" in lines
    assert lines.count("DTSTAMP:20261001T090000Z") == 2
    assert "SUMMARY:Pain\\, sleep\\; and \\\\ pacing\\nTuesdays (Hearth)" in lines
    assert f"URL:{URL}" in lines


def test_calendar_uids_are_stable_per_session() -> None:
    starts = utcs("2026-10-20 17:00", "2026-10-27 18:00")
    first = calendar(ROOM, starts, 90, URL, now=1.0)
    later = calendar(ROOM, starts[1:], 90, URL, now=2.0)
    uids = [line for line in unfold(first) if line.startswith("UID:")]
    assert len(set(uids)) == 2
    assert [line for line in unfold(later) if line.startswith("UID:")] == uids[1:]


def test_calendar_folds_long_lines_at_75_octets_without_splitting_characters() -> None:
    room = RoomConfig(id="r", title="Groupe de soutien « douleur chronique » — été " * 4, created_at=1.0)
    text = calendar(room, utcs("2026-10-20 17:00"), 60, URL, now=1.0)
    physical = text.split("\r\n")
    assert max(len(line.encode()) for line in physical) <= 75
    assert any(line.startswith(" ") for line in physical)
    summary = next(line for line in unfold(text) if line.startswith("SUMMARY:"))
    assert summary == "SUMMARY:" + room.title + " (Hearth)"

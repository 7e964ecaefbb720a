"""When a group meets: its next sessions, and the same as an iCalendar file (RFC 5545).

A room's ``Schedule`` says it in the group's own words: a weekday and a time in its time zone (an
IANA name, such as Europe/London), and/or dated sessions in local time. The times people see and
the instants computers keep are not the same thing across a change of clocks: 18:00 in London is
17:00 UTC in summer and 18:00 UTC in winter. So a session's start is worked out in its zone
(``zoneinfo``, from the system's tz database) and only then turned into Unix seconds.

A local time the clocks skip (01:30 on the spring-forward night in London) is read with the
offset before the change (it becomes 02:30 summer time); a time that happens twice (the autumn
night) is its first occurrence. Pure functions: nothing here reads the clock unless asked.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rooms.model import RoomConfig, Schedule

NEXT_SESSIONS_MAX = 52  # the most sessions one call lists: a year of a weekly group
CALENDAR_SESSIONS = 12  # sessions in the .ics file
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def zone(name: str) -> ZoneInfo | None:
    """The time zone of this IANA name, or ``None`` if the system knows no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: a malformed key such as "../x"
        return None


def schedule_problem(schedule: Schedule) -> str | None:
    """Why this schedule cannot be kept (a message for whoever set it), or ``None`` if it can."""
    if zone(schedule.timezone) is None:
        return "schedule: unknown time zone; use an IANA name such as Europe/London"
    if (schedule.weekday is None) != (schedule.time is None):
        return "schedule: a weekly session needs both a weekday and a time"
    if schedule.weekday is None and not schedule.dates:
        return "schedule: give a weekday and a time, or dates (or both)"
    for text in schedule.dates:
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return "schedule: a date that does not exist (YYYY-MM-DDTHH:MM)"
    return None


def _instant(day: date, at: day_time, tz: ZoneInfo) -> float:
    return datetime.combine(day, at, tzinfo=tz).timestamp()


def _weekly(schedule: Schedule, tz: ZoneInfo, after: float, count: int) -> list[float]:
    if schedule.weekday is None or schedule.time is None:
        return []
    at = day_time.fromisoformat(schedule.time)
    today = datetime.fromtimestamp(after, tz).date()
    first = today + timedelta(days=(schedule.weekday - today.weekday()) % 7)
    starts = []
    for week in range(count + 1):  # the first may already have begun: one more
        start = _instant(first + timedelta(weeks=week), at, tz)
        if start > after:
            starts.append(start)
    return starts[:count]


def _dated(schedule: Schedule, tz: ZoneInfo, after: float) -> list[float]:
    starts = []
    for text in schedule.dates:
        local = datetime.fromisoformat(text)
        start = _instant(local.date(), local.time(), tz)
        if start > after:  # dates in the past are skipped
            starts.append(start)
    return starts


def next_sessions(schedule: Schedule, after: float, count: int) -> list[float]:
    """The starts (Unix seconds) of the next ``count`` sessions (at most ``NEXT_SESSIONS_MAX``)
    that begin after ``after``, in order: the weekly ones and the dated ones together (a date
    that falls on a weekly session counts once). An unknown time zone: no sessions."""
    tz = zone(schedule.timezone)
    count = max(0, min(count, NEXT_SESSIONS_MAX))
    if tz is None or count == 0:
        return []
    starts = set(_weekly(schedule, tz, after, count)) | set(_dated(schedule, tz, after))
    return sorted(starts)[:count]


def describe(start: float, timezone: str) -> str:
    """A session's start as people read it, in the group's zone: "Tue 8 Dec, 18:00"."""
    tz = zone(timezone) or ZoneInfo("UTC")
    local = datetime.fromtimestamp(start, tz)
    return f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]}, {local:%H:%M}"


# iCalendar (RFC 5545) -------------------------------------------------------------------------

_LINE_OCTETS = 75


def _escape(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _fold(line: str) -> str:
    """A content line folded at 75 octets (§3.1): CRLF and a space before each continuation,
    never inside a UTF-8 character."""
    parts: list[str] = []
    current, size, limit = "", 0, _LINE_OCTETS
    for char in line:
        octets = len(char.encode())
        if size + octets > limit:
            parts.append(current)
            current, size, limit = "", 0, _LINE_OCTETS - 1  # the leading space takes one
        current += char
        size += octets
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(instant: float) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar(
    config: RoomConfig, starts: list[float], minutes: int, url: str, *, now: float | None = None
) -> str:
    """The sessions ``starts`` of ``config``'s group as an iCalendar file: one VEVENT each, in
    UTC, lasting ``minutes``. It holds the group's title, "Hearth" and ``url`` (the room page,
    never a link's token), and nobody's name. Each session's UID is the same in every file made,
    so a calendar that imports the file again updates its events instead of doubling them."""
    stamp = _utc(clock.time() if now is None else now)
    host = url.split("://", 1)[-1].split("/", 1)[0] or "hearth"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hearth//Group schedule//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ]
    for start in starts:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{config.id}-{_utc(start)}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(start)}",
            f"DTEND:{_utc(start + minutes * 60)}",
            f"SUMMARY:{_escape(config.title + ' (Hearth)')}",
            f"URL:{url}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def upcoming(config: RoomConfig, after: float, count: int = 3) -> list[float]:
    """The next ``count`` session starts of ``config``'s group (none without a schedule): the
    journey API's ``next_sessions``."""
    return [] if config.schedule is None else next_sessions(config.schedule, after, count)

"""The one table of close and error codes (rooms/codes.py) is the one the browser and the docs use."""

from __future__ import annotations

import re
from pathlib import Path

from rooms.codes import FINAL, JS_PATH, SEAT_GONE, Close, ErrorCode, javascript

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "static" / "js"
PROTOCOL_MD = ROOT / "docs" / "protocol.md"


def _section(title: str) -> str:
    text = PROTOCOL_MD.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _first_cells(section: str) -> list[str]:
    """The first cell of every row of the section's first table (header and rule left out)."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [row.split("|")[1].strip().strip("`") for row in rows[2:]]


def test_codes_js_is_written_from_the_table() -> None:
    # Regenerate with `python -m rooms.codes` when this fails.
    assert JS_PATH.read_text(encoding="utf-8") == javascript()


def test_codes_js_holds_every_code_with_its_value() -> None:
    text = JS_PATH.read_text(encoding="utf-8")
    closes = dict(re.findall(r"^  ([A-Z_]+): (\d+),", text, re.M))
    errors = dict(re.findall(r'^  ([A-Z_]+): "([a-z_]+)",', text, re.M))
    assert closes == {c.name: str(c.value) for c in Close}
    assert errors == {e.name: e.value for e in ErrorCode}


def test_every_code_has_a_meaning() -> None:
    assert all(c.meaning for c in Close) and all(e.meaning for e in ErrorCode)


def test_protocol_md_lists_exactly_the_error_codes() -> None:
    listed = _first_cells(_section("4. Error codes"))
    assert sorted(listed) == sorted(e.value for e in ErrorCode)


def test_protocol_md_lists_exactly_the_close_codes() -> None:
    listed = _first_cells(_section("5. Close codes"))
    assert sorted(int(code) for code in listed) == sorted(c.value for c in Close)


def test_final_and_seat_gone_sets_match_the_docs() -> None:
    # §5: "Except after 1000, 4003 and 4010 (and 4009 ...), a closed socket leaves the seat".
    assert {Close.NORMAL, Close.REFUSED, Close.SESSION_ENDED, Close.REPLACED} == SEAT_GONE
    assert Close.RATE_LIMIT not in FINAL and Close.TOO_SLOW not in FINAL  # those reconnect


_ERRORS = "|".join(e.value for e in ErrorCode)
_CLOSES = "|".join(str(c.value) for c in Close)
CODE_LITERAL = re.compile(rf'(?:===|!==)\s*"({_ERRORS})"')
CLOSE_LITERAL = re.compile(rf"(?:===|!==|close\()\s*({_CLOSES})\b")


def test_browser_code_compares_codes_through_the_table() -> None:
    found = []
    for path in sorted(JS.rglob("*.js")):
        if path == JS_PATH:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if CODE_LITERAL.search(line) or CLOSE_LITERAL.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert found == [], "use Close / ErrorCode from static/js/codes.js:\n" + "\n".join(found)

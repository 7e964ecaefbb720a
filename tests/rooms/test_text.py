"""Text rules (``rooms.text``): what chat text keeps, which names pass, which pose as a role."""

from __future__ import annotations

import pytest

from rooms.text import TextRefused, clean_chat_text, clean_name, imitates_role

RLO, LRI, PDI, LRM, RLM, ALM = "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"
ZWSP, ZWNJ, ZWJ, WJ, BOM = "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"

# Chat ---------------------------------------------------------------------------------------------

CHAT_KEPT = [
    ("plain", "hello everyone", "hello everyone"),
    ("trimmed", "  hi  ", "hi"),
    ("newlines and tabs stay", "line one\n\tline two", "line one\n\tline two"),
    ("carriage returns become newlines", "a\r\nb\rc\u2028d", "a\nb\nc\nd"),
    ("right-to-left override removed", f"see {RLO}gnp.exe", "see gnp.exe"),
    (
        "every bidi control removed",
        f"{LRI}a{PDI}{LRM}b{RLM}c{ALM}d\u202a\u202b\u202c\u202d\u2067\u2068",
        "abcd",
    ),
    ("zero-width space removed", f"pass{ZWSP}word", "password"),
    ("word joiner and BOM removed", f"{BOM}a{WJ}b", "ab"),
    ("soft hyphen removed", "in\u00advisible", "invisible"),
    ("other controls removed", "bell\x07 null\x00 esc\x1b", "bell null esc"),
    ("ZWJ inside an emoji sequence kept", f"me: 👩{ZWJ}🦽", f"me: 👩{ZWJ}🦽"),
    ("ZWJ after a presentation selector", f"🏳\ufe0f{ZWJ}🌈", f"🏳\ufe0f{ZWJ}🌈"),
    ("ZWJ after a skin tone", f"👩🏽{ZWJ}💻", f"👩🏽{ZWJ}💻"),
    ("family emoji", f"👨{ZWJ}👩{ZWJ}👧", f"👨{ZWJ}👩{ZWJ}👧"),
    ("ZWJ between Latin letters removed", f"Fr{ZWJ}an", "Fran"),
    ("ZWJ at the end removed", f"hi 👩{ZWJ}", "hi 👩"),
    ("ZWNJ between emoji removed", f"👩{ZWNJ}🦽", "👩🦽"),
    ("ZWNJ in a Persian word kept", f"می{ZWNJ}خواهم", f"می{ZWNJ}خواهم"),
    ("ZWJ in Devanagari kept", f"क्{ZWJ}ष", f"क्{ZWJ}ष"),
    (
        "flag tag sequence kept",
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    ),
    ("stray tag characters removed", "hi\U000e0068\U000e0069", "hi"),
    ("an overlong tag run is cut", "🏴" + "\U000e0067" * 1999, "🏴" + "\U000e0067" * 8),
]


@pytest.mark.parametrize(
    ("text", "expected"), [(t, e) for _, t, e in CHAT_KEPT], ids=[n for n, _, _ in CHAT_KEPT]
)
def test_chat_text_is_cleaned(text: str, expected: str) -> None:
    assert clean_chat_text(text) == expected


CHAT_REFUSED = [
    ("only zero-width", ZWSP * 5),
    ("only direction controls", RLO + LRM + PDI),
    ("only a joiner", ZWJ),
    ("only whitespace and invisibles", f" {ZWSP}\n{WJ}\t"),
    ("only a Hangul filler", "\u3164"),
    ("only a braille blank", "\u2800\u2800"),
    ("only combining marks", "\u0301\u0301"),
]


@pytest.mark.parametrize("text", [t for _, t in CHAT_REFUSED], ids=[n for n, _ in CHAT_REFUSED])
def test_chat_text_with_nothing_visible_is_refused(text: str) -> None:
    with pytest.raises(TextRefused, match="visible"):
        clean_chat_text(text)


# Names --------------------------------------------------------------------------------------------

NAMES_ACCEPTED = [
    ("plain", "Ana", "Ana"),
    ("whitespace collapsed", "  Ann   Lee ", "Ann Lee"),
    ("an emoji sequence with ZWJ", f"Ana 👩{ZWJ}🦽", f"Ana 👩{ZWJ}🦽"),
    ("rainbow flag", f"Sam 🏳\ufe0f{ZWJ}🌈", f"Sam 🏳\ufe0f{ZWJ}🌈"),
    ("Persian with ZWNJ", f"مه{ZWNJ}سا", f"مه{ZWNJ}سا"),
    ("accents", "Zoë Ólafsdóttir", "Zoë Ólafsdóttir"),
    ("non-Latin", "Дмитрий", "Дмитрий"),
    ("exactly the longest", "x" * 40, "x" * 40),
]


@pytest.mark.parametrize(
    ("name", "expected"), [(n, e) for _, n, e in NAMES_ACCEPTED], ids=[k for k, _, _ in NAMES_ACCEPTED]
)
def test_names_accepted(name: str, expected: str) -> None:
    assert clean_name(name, 40) == expected


NAMES_REFUSED = [
    ("empty", ""),
    ("blank", "   "),
    ("too long", "x" * 41),
    ("a control character", "bell\x07"),
    ("a NUL", "tab\there\x00"),
    ("a right-to-left override", f"Fran{RLO}rotatilicaf"),
    ("a direction mark", f"Fran{RLM}"),
    ("an isolate", f"{LRI}Fran{PDI}"),
    ("zero-width space", f"Fr{ZWSP}an"),
    ("ZWJ between Latin letters", f"Fr{ZWJ}an"),
    ("a joiner alone", ZWJ),
    ("invisible only: Hangul filler", "\u3164"),
    ("invisible only: braille blanks", "\u2800\u2800\u2800"),
    ("invisible only: BOM", BOM),
    ("stray tags", "Fran\U000e0066"),
]


@pytest.mark.parametrize("name", [n for _, n in NAMES_REFUSED], ids=[k for k, _ in NAMES_REFUSED])
def test_names_refused(name: str) -> None:
    with pytest.raises(TextRefused):
        clean_name(name, 40)


# Names that pose as a role -----------------------------------------------------------------------

POSING = [
    ("Facilitator", "facilitator"),
    ("facilitator", "facilitator"),
    ("FACILITATOR", "facilitator"),
    ("Fran (Facilitator)", "facilitator"),
    ("Fran - facilitator", "facilitator"),
    ("FranFacilitator", "facilitator"),
    ("f a c i l i t a t o r", "facilitator"),
    ("f.a.c.i.l.i.t.a.t.o.r", "facilitator"),
    ("fac1l1tator", "facilitator"),
    ("faci|itator", "facilitator"),
    ("fаcilitаtor", "facilitator"),  # Cyrillic а
    ("ｆａｃｉｌｉｔａｔｏｒ", "facilitator"),  # fullwidth
    ("𝐟𝐚𝐜𝐢𝐥𝐢𝐭𝐚𝐭𝐨𝐫", "facilitator"),  # mathematical bold
    ("Fäcilitätor", "facilitator"),
    ("Host", "host"),
    ("the host", "host"),
    ("H0ST", "host"),
    ("host2", "host"),
    ("Ηοѕt", "host"),  # Greek Eta, omicron, Cyrillic dze
    ("co-host", "host"),
    ("cohost", "cohost"),
    ("Moderator", "moderator"),
    ("mod", "mod"),
    ("ᴍᴏᴅᴇʀᴀᴛᴏʀ", "moderator"),  # small capitals
    ("Admin", "admin"),
    ("adm1n", "admin"),
    ("a d m i n", "admin"),
    ("Ⓐⓓⓜⓘⓝ", "admin"),
    ("adrnin", "admin"),  # r n for m
    ("Administrator", "administrator"),
    ("Sam_admin", "admin"),
    ("Organiser", "organiser"),
]


@pytest.mark.parametrize(("name", "role"), POSING)
def test_names_posing_as_a_role(name: str, role: str) -> None:
    assert imitates_role(name) == role


@pytest.mark.parametrize(
    "name",
    [
        "Fran",
        "Ghost",
        "Badminton fan",
        "Mo D",
        "Hostetler",
        "Modesty",
        "Admire",
        "Moderna",
        "Ana",
        "Christopher",
        "Sam",
        "Dana Lee",
        "Théo",
        "李雷",
        "Ana 👩\u200d🦽",
        "Mohost",
    ],
)
def test_ordinary_names(name: str) -> None:
    assert imitates_role(name) is None

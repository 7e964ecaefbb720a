"""Text rules for what people write that others see: chat messages and display names.

Two kinds of characters let someone mislead a group without writing anything visible:
direction controls (an RTL override makes "gnp.exe" read as "exe.png", or reverses a sentence)
and zero-width characters (an "empty" message, or a word split so it no longer matches). Chat
text has them removed (a message with nothing visible left is refused); names refuse them. Both
keep the zero-width joiner where it is part of writing: inside an emoji sequence ("👩‍🦽") and
between letters of scripts that use joiners (Persian, Arabic, the Indic scripts), where removing
it would change a word.

Names also may not pose as a role: a member called "Facilitator", "H0st" or "ｍｏｄｅｒａｔｏｒ"
could speak for the room. ``imitates_role`` compares a "skeleton" of the name (NFKC, casefold,
accents dropped, look-alike letters and digits folded together) with the role words.

Pure functions, no I/O: the engine (chat) and the server (names) both use them.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ZWJ = "\u200d"
ZWNJ = "\u200c"
# Characters that show nothing (or only change how neighbours render) outside the uses allowed
# below: zero-width space, joiners, word joiner, BOM, Mongolian vowel separator, invisible
# operators, soft hyphen, the deprecated shaping controls, and tag characters.
ZERO_WIDTH = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u2061\u2062\u2063\u2064\u00ad\u206a\u206b\u206c\u206d\u206e\u206f"
)
TAGS = range(0xE0020, 0xE0080)  # valid only in emoji tag sequences (🏴 + tags + cancel tag)
BLACK_FLAG = 0x1F3F4
# Printable characters that draw nothing: a name made only of these looks empty.
BLANKS = frozenset("\u3164\u2800\u115f\u1160\uffa0\u17b4\u17b5\u034f")

_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049), (0x2122, 0x2122),
    (0x2139, 0x2139), (0x2194, 0x21AA), (0x231A, 0x23FF), (0x24C2, 0x24C2), (0x25AA, 0x25FE),
    (0x2600, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3299), (0x1F000, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip
_EMOJI_LINKS = frozenset({0xFE0F, *range(0x1F3FB, 0x1F400)})  # emoji presentation, skin tones
_JOINING_SCRIPTS = (
    (0x0600, 0x08FF), (0x0900, 0x0DFF), (0x1800, 0x18AF), (0xA8E0, 0xA8FF), (0xFB50, 0xFDFF),
    (0xFE70, 0xFEFC),
)  # fmt: skip


class TextRefused(ValueError):
    """Text that cannot be used; the message says why, for the person who wrote it."""


def _in(ranges: tuple[tuple[int, int], ...], char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in ranges)


def _is_letter(char: str) -> bool:
    return unicodedata.category(char)[0] in "LM"


def _joins_emoji(before: str, after: str) -> bool:
    """A ZWJ between these two links an emoji sequence ("👩‍🦽", "🏳️‍🌈", "👩🏽‍💻")."""
    return (_in(_PICTOGRAPHIC, before) or ord(before) in _EMOJI_LINKS) and _in(_PICTOGRAPHIC, after)


def _joins_letters(before: str, after: str) -> bool:
    """A ZWJ/ZWNJ between these two is part of a word of a script that uses joiners."""
    letters = _is_letter(before) and _is_letter(after)
    return letters and (_in(_JOINING_SCRIPTS, before) or _in(_JOINING_SCRIPTS, after))


MAX_TAGS = 8  # the longest emoji tag sequence (a subdivision flag) has 7 tags


def _tag_belongs(kept: list[str]) -> bool:
    """A tag character continues a tag sequence that started with the black flag. Only kept tags
    are ever in ``kept``, so looking at the last few is enough (and costs O(1))."""
    recent = kept[-MAX_TAGS:]
    run = next((n for n, char in enumerate(reversed(recent)) if ord(char) not in TAGS), len(recent))
    return run < len(recent) and ord(recent[-run - 1]) == BLACK_FLAG


def _unwanted(text: str, index: int, kept: list[str]) -> bool:
    """Whether ``text[index]`` is a direction control or an invisible character out of place."""
    char = text[index]
    if char in BIDI_CONTROLS:
        return True
    if ord(char) in TAGS:
        return not _tag_belongs(kept)
    if char in (ZWJ, ZWNJ):
        before = kept[-1] if kept else ""
        after = text[index + 1] if index + 1 < len(text) else ""
        if not before or not after:
            return True
        if char == ZWJ and _joins_emoji(before, after):
            return False
        return not _joins_letters(before, after)
    return char in ZERO_WIDTH


def visible(text: str) -> bool:
    """Whether ``text`` draws anything: a character that is not space, a mark, a control or a blank."""
    return any(
        not char.isspace() and unicodedata.category(char)[0] not in "MCZ" and char not in BLANKS
        for char in text
    )


def clean_chat_text(text: str) -> str:
    """Chat text without direction controls, out-of-place invisible characters and control
    characters (newlines and tabs stay; other line breaks become newlines), trimmed. Raises
    ``TextRefused`` when nothing visible is left."""
    kept: list[str] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    for index, char in enumerate(text):
        if _unwanted(text, index, kept):
            continue
        if unicodedata.category(char) == "Cc" and char not in "\n\t":
            continue
        kept.append(char)
    cleaned = "".join(kept).strip()
    if not visible(cleaned):
        raise TextRefused("a chat message needs something visible (invisible characters are removed)")
    return cleaned


def clean_name(name: str, max_chars: int) -> str:
    """A display name with whitespace runs collapsed to one space and trimmed: 1..``max_chars``
    printable characters, something visible, no direction controls or stray invisible characters
    (a ZWJ inside an emoji sequence, "Ana 👩‍🦽", is fine). Raises ``TextRefused``."""
    name = " ".join(name.split())
    plain = f"a name is 1 to {max_chars} printable characters"
    if not 1 <= len(name) <= max_chars:
        raise TextRefused(plain)
    kept: list[str] = []
    for index, char in enumerate(name):
        if char.isprintable():
            kept.append(char)
        elif char in BIDI_CONTROLS or _unwanted(name, index, kept) or char in ("\t", "\n"):
            raise TextRefused(f"{plain}, without direction or invisible characters")
        elif char in (ZWJ, ZWNJ) or ord(char) in TAGS:
            kept.append(char)  # a joiner inside an emoji sequence or a word: part of the writing
        else:
            raise TextRefused(plain)
    if not visible(name):
        raise TextRefused("a name needs at least one visible character")
    return name


# Names that pose as a role --------------------------------------------------------------------

ROLE_WORDS = ("facilitator", "host", "cohost", "moderator", "mod", "admin", "administrator",
              "organizer", "organiser")  # fmt: skip
_LONG_ROLE_WORDS = tuple(word for word in ROLE_WORDS if len(word) >= 7)  # found inside other words too

_LOOK_ALIKES = str.maketrans({
    # Cyrillic and Greek letters drawn like Latin ones
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "ԁ": "d", "һ": "h", "ӏ": "l",
    "ԛ": "q", "ԝ": "w", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v",
    "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "μ": "u",
    # Latin letters without a decomposition, and small capitals
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t", "ƒ": "f", "ɑ": "a", "ɩ": "i",
    "ɡ": "g", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h",
    "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    # digits and signs written for letters
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g", "@": "a",
    "$": "s", "!": "i", "|": "i",
    # letters easily taken for one another: one form for each
    "l": "i",
})  # fmt: skip
# Capitals that look like a Latin capital whose small letter differs (Greek Eta "Η" is an H, its
# small letter "η" an n): read before casefolding.
_LOOK_ALIKE_CAPITALS = str.maketrans({
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "А": "a", "В": "b", "Е": "e", "К": "k",
    "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t", "Х": "x", "Ѕ": "s", "І": "i",
    "Ј": "j",
})  # fmt: skip
_SEPARATORS = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """NFKC (fullwidth, mathematical and circled letters become plain ones), casefold, accents
    dropped."""
    folded = unicodedata.normalize("NFKC", text).translate(_LOOK_ALIKE_CAPITALS).casefold()
    decomposed = unicodedata.normalize("NFD", folded)
    return "".join(char for char in decomposed if not unicodedata.category(char).startswith("M"))


def skeleton(text: str, *, drop_digits: bool = False) -> str:
    """What ``text`` looks like, roughly: folded, look-alikes made one (``rn`` is ``m``). With
    ``drop_digits``, digits are dropped instead of read as letters ("host2" -> "host")."""
    folded = _fold(text)
    if drop_digits:
        folded = "".join(char for char in folded if not char.isdigit())
    return folded.translate(_LOOK_ALIKES).replace("rn", "m")


_ROLE_SKELETONS = {skeleton(word): word for word in ROLE_WORDS}
_LONG_SKELETONS = {skeleton(word): word for word in _LONG_ROLE_WORDS}


def imitates_role(name: str) -> str | None:
    """The role word a name poses as ("Fran (Facilitator)", "H0ST", "a.d.m.i.n"), or None.

    A word of the name that looks like a role word counts, as does a name spelled out letter by
    letter ("a d m i n"); the long role words also count inside words and across separators
    ("FranFacilitator", "mode-rator"). Short ones do not, so "Ghost", "Badminton fan" and
    "Mo D" stay fine."""
    for drop_digits in (False, True):
        shape = skeleton(name, drop_digits=drop_digits)
        words = [word for word in _SEPARATORS.split(shape) if word]
        run_together = "".join(words)
        spelled_out = all(len(word) == 1 for word in words)
        for word in [*words, run_together] if spelled_out else words:
            if word in _ROLE_SKELETONS:
                return _ROLE_SKELETONS[word]
        for long_word, role in _LONG_SKELETONS.items():
            if long_word in run_together:
                return role
    return None

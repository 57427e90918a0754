"""Voters' identifiers in free text: EPIC, phone, PIN and Aadhaar-like numbers, found and masked alike.

The parsers (bot/electoral.py), the log processor (bot/logs.py), the review stream and exports all use
the patterns below, so whatever a parser accepts the masker hides (tests/test_identifiers.py proves it
with hypothesis). Every pattern is linear: separators are bounded, and each alternative starts only
where the one before it cannot continue.

Devanagari digits count as digits: the text is matched after they are mapped to ASCII digits, a
one-to-one mapping, so positions in the mapped text are positions in the original.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_SEP = r"[\s.-]"  # between digit groups: a space, a dash or a dot, once


class Kind(str, Enum):
    EPIC = "epic"  # ABC1234567, ABC-1234567, ABC  1234567
    EPIC_OLD = "epic_old"  # the older state format, e.g. UP/01/234/1234567
    PHONE = "phone"  # Indian mobile: +91 / 0091 / 91 / 0 prefix, spaces or dashes
    AADHAAR = "aadhaar"  # 12 digits, in groups of four or not
    PIN = "pin"  # a 6-digit postal code, "800 001" too


PATTERNS: dict[Kind, re.Pattern[str]] = {
    # Only a letter before the three letters stops a match: "1ABC1234567" still holds an EPIC number.
    Kind.EPIC: re.compile(
        r"(?<![A-Za-z])(?P<letters>[A-Za-z]{3})[\s-]{0,3}(?P<digits>(?:[0-9][\s-]?){6}[0-9])(?![0-9])"
    ),
    Kind.EPIC_OLD: re.compile(r"(?<![A-Za-z])[A-Za-z]{2}\s?/\s?[0-9]{1,3}\s?/\s?[0-9]{1,4}\s?/\s?[0-9]{4,7}(?![0-9])"),
    Kind.PHONE: re.compile(
        r"(?<![0-9])(?:(?:\+|00)\s?91[\s-]{0,2}|91[\s-]{0,2}|0)?(?P<number>[6-9](?:[\s-]?[0-9]){9})(?![0-9])"
    ),
    Kind.AADHAAR: re.compile(rf"(?<![0-9])[2-9][0-9]{{3}}{_SEP}?[0-9]{{4}}{_SEP}?[0-9]{{4}}(?![0-9])"),
    Kind.PIN: re.compile(r"(?<![0-9])(?P<head>[1-9][0-9]{2})[\s-]?(?P<tail>[0-9]{3})(?![0-9])"),
}
_LABELS = {Kind.EPIC: "EPIC", Kind.EPIC_OLD: "EPIC", Kind.PHONE: "PHONE", Kind.AADHAAR: "ID", Kind.PIN: "PIN"}
_NOT_DIGIT = re.compile(r"[^0-9]")
_SEPARATORS = re.compile(r"[\s-]+")
# Characters kept in clear at the end of a masked identifier: enough for a person to tell two apart.
KEEP = 2


@dataclass(frozen=True)
class Found:
    kind: Kind
    start: int
    end: int
    value: str  # normalised: EPIC upper case without separators, numbers as ASCII digits only


def to_ascii_digits(text: str) -> str:
    """Replace Devanagari digits (०-९) by ASCII digits (same length)."""
    return text.translate(_DEVANAGARI_DIGITS)


def _normalise(kind: Kind, match: re.Match[str]) -> str:
    if kind is Kind.EPIC:
        return (match.group("letters") + _NOT_DIGIT.sub("", match.group("digits"))).upper()
    if kind is Kind.PHONE:
        return _NOT_DIGIT.sub("", match.group("number"))
    if kind is Kind.PIN:
        return match.group("head") + match.group("tail")
    if kind is Kind.EPIC_OLD:
        return re.sub(r"\s", "", match.group()).upper()
    return _NOT_DIGIT.sub("", match.group())


def find_all(text: str, kinds: tuple[Kind, ...] = tuple(Kind)) -> Iterator[Found]:
    """Every identifier of `kinds` in `text`, kind by kind, left to right (spans of two kinds may overlap)."""
    ascii_text = to_ascii_digits(text)
    for kind in kinds:
        for match in PATTERNS[kind].finditer(ascii_text):
            yield Found(kind, match.start(), match.end(), _normalise(kind, match))


def find(text: str | None, kind: Kind) -> str | None:
    """The first identifier of `kind` in `text`, normalised, or None."""
    if not text:
        return None
    return next((found.value for found in find_all(text, (kind,))), None)


def mask(text: str) -> str:
    """`text` with every identifier replaced by its label and last two characters (``PHONE***10``).

    A masked span also takes the digits it touches (``12 800001`` is one span), so that the two characters
    kept can never join what is left around them into a new identifier.
    """
    ascii_text = to_ascii_digits(text)
    merged: list[tuple[int, int, Kind]] = []
    for start, end, kind in sorted((found.start, found.end, found.kind) for found in find_all(text)):
        floor = merged[-1][1] if merged else 0
        if merged and start <= floor:
            if end > floor:
                first, _, first_kind = merged[-1]
                merged[-1] = (first, _extend_forward(ascii_text, end), first_kind)
            continue
        start = _extend_back(ascii_text, start, floor)
        end = _extend_forward(ascii_text, end)
        if merged and start <= floor:
            merged[-1] = (merged[-1][0], end, merged[-1][2])
        else:
            merged.append((start, end, kind))
    parts, last = [], 0
    for start, end, kind in merged:
        parts.append(text[last:start])
        parts.append(f"{_LABELS[kind]}***{text[start:end][-KEEP:]}")
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _touches(text: str, at: int, step: int) -> bool:
    """Whether the character at `at` continues a run of digits (a digit, or one separator before a digit)."""
    if not 0 <= at < len(text):
        return False
    if text[at].isdigit() and text[at].isascii():
        return True
    beyond = at + step
    return text[at] in " -./" and 0 <= beyond < len(text) and text[beyond].isascii() and text[beyond].isdigit()


def _extend_forward(text: str, end: int) -> int:
    while _touches(text, end, 1):
        end += 1
    return end


def _extend_back(text: str, start: int, floor: int) -> int:
    while start > floor and _touches(text, start - 1, -1):
        start -= 1
    return start


def mask_value(value: str, keep: int = 3) -> str:
    """One identifier, masked for logs: ``ABC1234567`` becomes ``ABC*****67``."""
    if len(value) <= keep + KEEP:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - keep - KEEP) + value[-KEEP:]


def compact(text: str) -> str:
    """`text` without spaces and dashes, Devanagari digits as ASCII (what the normalisers compare)."""
    return _SEPARATORS.sub("", to_ascii_digits(text))

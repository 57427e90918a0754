"""Text helpers shared by the content lint and the fallback review: one idea of "the same example"."""

from __future__ import annotations

import json
import re
import unicodedata

# Devanagari letters, vowel signs and marks; not its digits (०-९) nor the dandas (।॥).
DEVANAGARI_LETTER = re.compile(r"[\u0900-\u0963\u0971-\u097F\uA8E0-\uA8FF]")
# An entity annotation: [text](entity), [text](entity:value) or [text]{"entity": ...}.
ANNOTATION = re.compile(r"\[(?P<text>[^\]]+)\](?:\((?P<short>[^)]*)\)|(?P<json>\{[^}]*\}))")
ZWJ, ZWNJ = "\u200d", "\u200c"
_SPACES = re.compile(r"\s+")


def strip_annotations(example: str) -> str:
    """The text a voter would type: ``[ABC1234567](epic_number) ka booth`` -> ``ABC1234567 ka booth``."""
    return ANNOTATION.sub(lambda m: m.group("text"), example)


def without_entities(example: str) -> str:
    """The example with annotated entity values taken out: what is left says which language it is."""
    return ANNOTATION.sub(" ", example)


def has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text) or has_devanagari(text)


def annotated_entities(example: str) -> list[str]:
    """Entity names annotated in an example (``None``-safe: a broken annotation gives ``""``)."""
    names = []
    for match in ANNOTATION.finditer(example):
        if match.group("short") is not None:
            names.append(match.group("short").split(":", 1)[0].split("@", 1)[0].strip())
        else:
            try:
                data = json.loads(match.group("json"))
            except ValueError:
                data = {}
            names.append(str(data.get("entity", "")) if isinstance(data, dict) else "")
    return names


def normalize(text: str) -> str:
    """The comparison key of an example: annotations reduced to their text, NFC, case-folded,
    punctuation dropped, spaces collapsed.  Two examples with the same key are the same example."""
    text = unicodedata.normalize("NFC", strip_annotations(text)).casefold()
    text = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in text)
    return _SPACES.sub(" ", text).strip()


def has_devanagari(text: str) -> bool:
    return DEVANAGARI_LETTER.search(text) is not None


def stray_characters(line: str) -> list[tuple[int, str]]:
    """(column, character) of control and invisible format characters in ``line``.

    ZWJ and ZWNJ between two Devanagari characters are legitimate (they choose a conjunct's
    shape, e.g. क्‍ष), so they are not reported there.
    """
    found = []
    for i, ch in enumerate(line):
        category = unicodedata.category(ch)
        if ch in "\n\r" or category not in ("Cc", "Cf", "Zl", "Zp"):
            continue
        if ch in (ZWJ, ZWNJ) and 0 < i < len(line) - 1 and _in_devanagari(line[i - 1]) and _in_devanagari(line[i + 1]):
            continue
        found.append((i + 1, ch))
    return found


def _in_devanagari(ch: str) -> bool:
    return "\u0900" <= ch <= "\u097f" or "\ua8e0" <= ch <= "\ua8ff"


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: how a check message names an invisible character."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"

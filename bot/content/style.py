"""The style guide, checked (docs/content.md, "Style"): one word per concept, the nukta, the danda,
short sentences and times said the Hindi way, over every text a voter reads (bot/content/bilingual.py).

    glossary-term   a word the glossary (glossary.yml) replaces, e.g. मतदान केंद्र for बूथ
    nukta           a glossary word written without its nukta: तारीख for तारीख़
    danda           a Hindi sentence that ends with "." instead of "।"
    long-sentence   more than max_sentence_words (content_rules.yml) words between two stops
    clock-time      "18:00" in Hindi: write "शाम 6 बजे"; times from data go through bot/clock.py
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.content.bilingual import Pair, Text
from bot.content.sources import Problem
from bot.settings import ROOT

GLOSSARY_FILE = "glossary.yml"
RULES_FILE = "content_rules.yml"
DEFAULT_MAX_WORDS = 20
NUKTA = "\u093c"
_DEVANAGARI = "\u0900-\u097f"
# Where a sentence or a clause a reader takes in one go ends; a list item is its own sentence.
_STOPS = re.compile(r"[।.?!;:]+(?=\s|$)|\n")
_DANDA_MISSING = re.compile(rf"[{_DEVANAGARI}]\)?\.(?=\s|$)")
_CLOCK = re.compile(r"(?<![0-9])[0-9]{1,2}:[0-9]{2}(?![0-9])")


@dataclass(frozen=True)
class Term:
    concept: str
    lang: str
    use: str
    avoid: tuple[str, ...]


@dataclass(frozen=True)
class Style:
    terms: tuple[Term, ...]
    nukta: tuple[str, ...]
    max_words: int = DEFAULT_MAX_WORDS


def load_style(root: Path = ROOT) -> Style:
    try:
        glossary_path, rules_path = root / GLOSSARY_FILE, root / RULES_FILE
        glossary = yaml.safe_load(glossary_path.read_text(encoding="utf-8")) if glossary_path.exists() else {}
        rules = yaml.safe_load(rules_path.read_text(encoding="utf-8")) if rules_path.exists() else {}
        glossary, rules = glossary or {}, rules or {}
        terms = tuple(
            Term(str(t["concept"]), str(t["lang"]), str(t["use"]), tuple(str(w) for w in t["not"]))
            for t in glossary.get("terms") or []
        )
        return Style(
            terms,
            tuple(str(w) for w in glossary.get("nukta") or []),
            int(rules.get("max_sentence_words") or DEFAULT_MAX_WORDS),
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise SystemExit(
            f"{GLOSSARY_FILE}/{RULES_FILE}: cannot read the style rules ({exc!r}); see docs/content.md"
        ) from exc


def _word_start(word: str) -> re.Pattern[str]:
    """``word`` at the start of a word (Devanagari has no \\b: its vowel signs are not word characters)."""
    before = rf"(?<![{_DEVANAGARI}A-Za-z])"
    return re.compile(before + re.escape(word) + (rf"(?!{NUKTA})" if NUKTA not in word else ""), re.IGNORECASE)


def _problem(text: Text, line: int, check: str, message: str) -> Problem:
    return Problem(text.path, line, check, message)


def check_terms(pair: Pair, style: Style) -> Iterator[Problem]:
    for lang, text in (("hi", pair.hi), ("en", pair.en)):
        for term in (t for t in style.terms if t.lang == lang):
            for wrong in term.avoid:
                pattern = _word_start(wrong)
                for line, content in text.lines():
                    if pattern.search(content):
                        yield _problem(
                            text,
                            line,
                            "glossary-term",
                            f"'{pair.key}' says '{wrong}'; the glossary's word for {term.concept} is "
                            f"'{term.use}' (glossary.yml): use it",
                        )
        if lang != "hi":
            continue
        for word in style.nukta:
            pattern = _word_start(word.replace(NUKTA, ""))
            for line, content in text.lines():
                if pattern.search(content):
                    yield _problem(
                        text,
                        line,
                        "nukta",
                        f"'{pair.key}' writes '{word.replace(NUKTA, '')}' without the nukta: write '{word}'",
                    )


def sentences(line: str) -> list[str]:
    return [part.strip() for part in _STOPS.split(line) if part.strip()]


def check_sentences(pair: Pair, style: Style) -> Iterator[Problem]:
    if pair.button:
        return
    for text in (pair.hi, pair.en):
        for line, content in text.lines():
            for sentence in sentences(content):
                words = len(sentence.split())
                if words > style.max_words:
                    start = " ".join(sentence.split()[:6])
                    yield _problem(
                        text,
                        line,
                        "long-sentence",
                        f"'{pair.key}': a sentence of {words} words ('{start} ...'); keep it under "
                        f"{style.max_words + 1} (content_rules.yml): split it where a breath goes",
                    )


def check_hindi_marks(pair: Pair) -> Iterator[Problem]:
    for line, content in pair.hi.lines():
        if _DANDA_MISSING.search(content):
            yield _problem(pair.hi, line, "danda", f"'{pair.key}': a Hindi sentence ends with '.': end it with '।'")
        clock = _CLOCK.search(content)
        if clock:
            yield _problem(
                pair.hi,
                line,
                "clock-time",
                f"'{pair.key}' writes the time '{clock.group()}': say it the Hindi way ('शाम 6 बजे', "
                "'सुबह 9 से रात 9 बजे तक'); a time from data comes through bot/clock.py",
            )


def check(pairs: list[Pair], root: Path = ROOT) -> list[Problem]:
    style = load_style(root)
    problems: list[Problem] = []
    for pair in pairs:
        problems += check_terms(pair, style)
        problems += check_sentences(pair, style)
        problems += check_hindi_marks(pair)
    return problems

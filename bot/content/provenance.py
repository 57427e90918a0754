"""Every factual answer names its source and the day it was last checked (sources.yml, bot/citations.py).

Warnings (``make check`` prints them and still passes, so an ageing date never blocks a fix):

    no-source       an answer listed neither under `answers` (with its pages) nor under `no_facts`
    stale-source    a page last checked more than `max_age_days` ago (180): re-check it (docs/content.md)

Problems (``make check`` fails):

    unknown-page    an answer cites a page that `pages` does not define, or a page has no url or file
    unknown-answer  sources.yml names an answer the content files do not have
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from bot import citations
from bot.content.bilingual import Pair
from bot.content.sources import Content, Problem, _compose, line_of, mapping, sequence, string

SOURCES = citations.SOURCES_FILE


def _answers_in_content(content: Content, pairs: list[Pair]) -> dict[str, dict[str, tuple[str, int]]]:
    """file -> answer key -> (path, line) of every answer sources.yml may talk about."""
    found: dict[str, dict[str, tuple[str, int]]] = {"domain.yml": {}}
    for name, (line, _) in content.responses.items():
        found["domain.yml"][name] = ("domain.yml", line)
    for pair in pairs:
        if pair.file != "domain.yml" and not pair.key.startswith("button "):
            found.setdefault(pair.file, {}).setdefault(pair.key, (pair.hi.path, pair.hi.line))
    return found


def _lines(content: Content) -> dict[tuple[str, ...], int]:
    """Line of each page and each answer entry in sources.yml: (pages, key) / (answers, file, name) / ..."""
    lines: dict[tuple[str, ...], int] = {}
    root = mapping(_compose(content, content.root / SOURCES))
    for key, node in mapping(root.get("pages")).items():
        lines[("pages", key)] = line_of(node)
    for file, node in mapping(root.get("answers")).items():
        for name, entry in mapping(node).items():
            lines[("answers", file, name)] = line_of(entry)
    for file, node in mapping(root.get("no_facts")).items():
        for item in sequence(node):
            if string(item):
                lines[("no_facts", file, str(string(item)))] = line_of(item)
    return lines


def check(content: Content, pairs: list[Pair], today: date | None = None) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) about the sources of the answers under ``content.root``."""
    try:
        known = citations.load(content.root)
    except citations.CitationsError as exc:
        return [Problem(SOURCES, 1, "unknown-page", str(exc))], []
    lines = _lines(content)
    answers = _answers_in_content(content, pairs)
    problems = list(_unknown(known, answers, lines))
    warnings = list(_missing(known, answers)) + list(_stale(known, lines, today or date.today()))
    return problems, warnings


def _unknown(
    known: citations.Citations, answers: dict[str, dict[str, tuple[str, int]]], lines: dict[tuple[str, ...], int]
) -> Iterator[Problem]:
    for key, page in known.pages.items():
        if not page.where:
            yield Problem(
                SOURCES,
                lines.get(("pages", key), 1),
                "unknown-page",
                f"page '{key}' has neither a url nor a file: add the official page's address",
            )
    for file, entries in known.answers.items():
        for name, keys in entries.items():
            line = lines.get(("answers", file, name), 1)
            if name not in answers.get(file, {}):
                yield Problem(
                    SOURCES, line, "unknown-answer", f"{file} has no answer '{name}': fix the name, or remove the entry"
                )
            for key in keys:
                if key not in known.pages:
                    yield Problem(
                        SOURCES,
                        line,
                        "unknown-page",
                        f"'{name}' cites page '{key}', which is not under `pages:`: add it there",
                    )
    for file, names in known.no_facts.items():
        for name in names:
            if name not in answers.get(file, {}):
                yield Problem(
                    SOURCES,
                    lines.get(("no_facts", file, name), 1),
                    "unknown-answer",
                    f"{file} has no answer '{name}' (listed under no_facts): fix or remove it",
                )


def _missing(known: citations.Citations, answers: dict[str, dict[str, tuple[str, int]]]) -> Iterator[Problem]:
    for file, names in answers.items():
        for name, (path, line) in names.items():
            if not known.answers.get(file, {}).get(name) and name not in known.no_facts.get(file, []):
                yield Problem(
                    path,
                    line,
                    "no-source",
                    f"'{name}' has no source: list it in {SOURCES} under answers / {file} with the "
                    "official pages it rests on, or under no_facts if it states no election fact",
                )


def _stale(known: citations.Citations, lines: dict[tuple[str, ...], int], today: date) -> Iterator[Problem]:
    for key, page in known.pages.items():
        if page.url is None:
            continue  # our own data files are checked when they are replaced (data/README.md)
        line = lines.get(("pages", key), 1)
        if page.checked is None:
            yield Problem(
                SOURCES,
                line,
                "stale-source",
                f"page '{key}' ({page.url}) has no `checked:` date: open it, compare the answers that "
                "cite it, and write today's date",
            )
        elif (today - page.checked).days > known.max_age_days:
            age = (today - page.checked).days
            yield Problem(
                SOURCES,
                line,
                "stale-source",
                f"page '{key}' ({page.url}) was last checked {age} days ago ({page.checked}), over "
                f"{known.max_age_days}: re-check the answers that cite it and move the date",
            )

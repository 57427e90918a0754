"""Where each answer comes from: ``sources.yml``, read by the content lint and by the assistant.

``sources.yml`` lists the official pages (``pages``: a URL or a data file, a title in Hindi and
English, the date a person last checked the facts against it) and, per content file, which pages
each answer rests on (``answers``) or that it states no election fact (``no_facts``).  The content
lint warns about an answer in neither and about a page checked too long ago (``docs/content.md``);
``action_tell_source`` names the pages of the voter's previous answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.settings import ROOT

SOURCES_FILE = "sources.yml"
DOMAIN = "domain.yml"
DEFAULT_MAX_AGE_DAYS = 180


@dataclass(frozen=True)
class Page:
    key: str
    title: dict[str, str]  # language -> title
    url: str | None = None
    file: str | None = None  # a data file of this project, instead of a URL
    checked: date | None = None
    checked_by: str = ""

    @property
    def where(self) -> str:
        return self.url or self.file or ""

    def title_in(self, language: str) -> str:
        return self.title.get(language) or self.title.get("en") or self.key


@dataclass
class Citations:
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    pages: dict[str, Page] = field(default_factory=dict)
    answers: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # file -> answer -> page keys
    no_facts: dict[str, list[str]] = field(default_factory=dict)  # file -> answers stating no election fact

    def pages_of(self, answer: str, file: str = DOMAIN) -> list[Page]:
        """The pages an answer rests on, in the order listed (unknown keys are left out)."""
        return [self.pages[key] for key in self.answers.get(file, {}).get(answer, []) if key in self.pages]


class CitationsError(ValueError):
    """sources.yml cannot be read; the message names the problem."""


def _title(raw: Any, key: str) -> dict[str, str]:
    if isinstance(raw, str):
        return {"en": raw, "hi": raw}
    if isinstance(raw, dict):
        return {str(lang): str(text) for lang, text in raw.items()}
    raise CitationsError(f"{SOURCES_FILE}: page '{key}' needs a title (title: {{hi: ..., en: ...}})")


def _date(raw: Any, key: str) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise CitationsError(f"{SOURCES_FILE}: page '{key}' has checked: {raw!r}; write it as 2026-12-02") from None


def parse(data: Any) -> Citations:
    if not isinstance(data, dict):
        raise CitationsError(f"{SOURCES_FILE}: expected a mapping with pages, answers and no_facts")
    citations = Citations(max_age_days=int(data.get("max_age_days") or DEFAULT_MAX_AGE_DAYS))
    for key, raw in (data.get("pages") or {}).items():
        raw = raw or {}
        citations.pages[str(key)] = Page(
            key=str(key),
            title=_title(raw.get("title"), str(key)),
            url=raw.get("url"),
            file=raw.get("file"),
            checked=_date(raw.get("checked"), str(key)),
            checked_by=str(raw.get("checked_by") or ""),
        )
    for file, answers in (data.get("answers") or {}).items():
        citations.answers[str(file)] = {
            str(name): [str(k) for k in keys or []] for name, keys in (answers or {}).items()
        }
    for file, names in (data.get("no_facts") or {}).items():
        citations.no_facts[str(file)] = [str(name) for name in names or []]
    return citations


def load(root: Path = ROOT) -> Citations:
    path = root / SOURCES_FILE
    try:
        return parse(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise CitationsError(f"{SOURCES_FILE}: cannot read it ({exc})") from exc

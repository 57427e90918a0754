"""Every text a voter reads, in Hindi and English, with its file and line: the style and pair checks read these.

The files: ``domain.yml`` (responses and their buttons), ``gateway_texts.yml``, ``canned_responses.yml``
and ``campaigns/*.yml`` (message and button titles).  A block scalar's lines keep their own line
numbers, so a check can point at the very line of a long answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from yaml.nodes import Node, ScalarNode

from bot.content.sources import Content, _compose, line_of, mapping, sequence, string

GATEWAY_TEXTS = "gateway_texts.yml"
CANNED = "canned_responses.yml"
CAMPAIGNS = "campaigns"


@dataclass(frozen=True)
class Text:
    text: str
    path: str
    line: int  # the line of the text's first line
    block: bool  # a block scalar (| or >): its lines are the file's lines from `line` on

    def lines(self) -> Iterator[tuple[int, str]]:
        """(file line, line of text); a quoted string is one line, however long."""
        if not self.block:
            yield self.line, self.text
            return
        for offset, line in enumerate(self.text.split("\n")):
            yield self.line + offset, line


@dataclass(frozen=True)
class Pair:
    """One answer in both languages; ``key`` names it the way sources.yml does."""

    file: str
    key: str
    hi: Text
    en: Text
    button: bool = False


def _text(node: Node | None, path: str) -> Text | None:
    value = string(node)
    if value is None or not isinstance(node, ScalarNode):
        return None
    block = node.style in ("|", ">")
    return Text(value, path, line_of(node) + (1 if block else 0), block)


def _language(variation: Node) -> str | None:
    for condition in sequence(mapping(variation).get("condition")):
        fields = mapping(condition)
        if string(fields.get("name")) == "language":
            return string(fields.get("value"))
    return None


def _domain_pairs(content: Content) -> Iterator[Pair]:
    for name, (_, variations) in content.responses.items():
        by_lang = {}
        for variation in variations:
            lang = _language(variation)
            if lang in ("hi", "en") and lang not in by_lang:
                by_lang[lang] = mapping(variation)
        if set(by_lang) != {"hi", "en"}:
            continue  # check_responses reports it
        hi, en = _text(by_lang["hi"].get("text"), "domain.yml"), _text(by_lang["en"].get("text"), "domain.yml")
        if hi and en:
            yield Pair("domain.yml", name, hi, en)
        hi_buttons, en_buttons = sequence(by_lang["hi"].get("buttons")), sequence(by_lang["en"].get("buttons"))
        for index, (hb, eb) in enumerate(zip(hi_buttons, en_buttons, strict=False)):
            ht, et = _text(mapping(hb).get("title"), "domain.yml"), _text(mapping(eb).get("title"), "domain.yml")
            if ht and et:
                yield Pair("domain.yml", f"{name} button {index + 1}", ht, et, button=True)


def _hi_en(node: Node | None, path: str, file: str, key: str, button: bool = False) -> Iterator[Pair]:
    fields = mapping(node)
    hi, en = _text(fields.get("hi"), path), _text(fields.get("en"), path)
    if hi and en:
        yield Pair(file, key, hi, en, button)


def _unique(found: list[Pair]) -> list[Pair]:
    """One pair per place: the menu's buttons are one YAML anchor shared by many responses."""
    seen: dict[tuple[str, int, int], Pair] = {}
    for pair in found:
        seen.setdefault((pair.hi.path, pair.hi.line, pair.en.line), pair)
    return list(seen.values())


def pairs(content: Content) -> list[Pair]:
    """Every bilingual text of the assistant, the gateway, the agents' canned answers and the campaigns."""
    found = list(_domain_pairs(content))
    root = content.root
    if (root / GATEWAY_TEXTS).exists():
        texts = mapping(_compose(content, root / GATEWAY_TEXTS)).get("texts")
        for key, value in mapping(texts).items():
            found += _hi_en(value, GATEWAY_TEXTS, GATEWAY_TEXTS, key, key.startswith("button"))
    if (root / CANNED).exists():
        for item in sequence(mapping(_compose(content, root / CANNED)).get("canned")):
            title = string(mapping(item).get("title")) or "?"
            found += _hi_en(item, CANNED, CANNED, title)
    for path in sorted((root / CAMPAIGNS).glob("*.yml")):
        rel = content.rel(path)
        data = mapping(_compose(content, path))
        found += _hi_en(data.get("message"), rel, rel, "message")
        for index, button in enumerate(sequence(data.get("buttons"))):
            found += _hi_en(mapping(button).get("title"), rel, rel, f"button {index + 1}", button=True)
    return _unique(found)

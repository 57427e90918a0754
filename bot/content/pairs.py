"""The Hindi and the English of every answer must say the same thing: the same numbers, links and lists.

    pair-numbers   a number (1950, 18, Form 12D's 12) in one language and not the other
    pair-links     a web address in one language and not the other
    pair-lists     a different number of list items (lines starting "- " or "1.")

Placeholders ({poll_date}) are left out: check_responses compares them.  Devanagari digits count as
the same number as ASCII ones.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from bot.content.bilingual import Pair
from bot.content.sources import Problem
from bot.identifiers import to_ascii_digits

_PLACEHOLDER = re.compile(r"\{\w+\}")
_NUMBER = re.compile(r"[0-9]+")
_LINK = re.compile(r"(?:https?://)?(?:[a-z0-9-]+\.)+(?:in|com|org|net|gov)(?:/[^\s)\"']*)?", re.IGNORECASE)
_ITEM = re.compile(r"^\s*(?:-|[0-9]+\.)\s")


def _plain(text: str) -> str:
    return to_ascii_digits(_PLACEHOLDER.sub(" ", text))


def numbers(text: str) -> Counter[str]:
    plain = _LINK.sub(" ", _plain(text))
    return Counter(n.lstrip("0") or "0" for n in _NUMBER.findall(plain))


def links(text: str) -> set[str]:
    return {link.lower().removeprefix("https://").removeprefix("http://").rstrip("/.") for link in _LINK.findall(text)}


def list_items(text: str) -> int:
    return sum(1 for line in text.split("\n") if _ITEM.match(line))


def _listed(items: Counter[str] | set[str]) -> str:
    return ", ".join(sorted(items)) or "none"


def check_pair(pair: Pair) -> Iterator[Problem]:
    hi, en = pair.hi, pair.en
    where = (hi.path, hi.line)
    hi_numbers, en_numbers = numbers(hi.text), numbers(en.text)
    if hi_numbers != en_numbers:
        yield Problem(
            *where,
            "pair-numbers",
            f"'{pair.key}': the numbers differ; only in Hindi: {_listed(hi_numbers - en_numbers)}; only in "
            f"English: {_listed(en_numbers - hi_numbers)}. Write each number as digits in both",
        )
    hi_links, en_links = links(hi.text), links(en.text)
    if hi_links != en_links:
        yield Problem(
            *where,
            "pair-links",
            f"'{pair.key}': the links differ; only in Hindi: {_listed(hi_links - en_links)}; only in "
            f"English: {_listed(en_links - hi_links)}. Both languages point to the same pages",
        )
    hi_items, en_items = list_items(hi.text), list_items(en.text)
    if hi_items != en_items:
        yield Problem(
            *where,
            "pair-lists",
            f"'{pair.key}': the Hindi has {hi_items} list items, the English {en_items} (English line "
            f"{en.line}); one item per line in both, in the same order",
        )


def check(pairs: list[Pair]) -> list[Problem]:
    return [problem for pair in pairs for problem in check_pair(pair)]

"""The fallback review loop: voter messages the assistant handled badly, kept masked, exported as NLU YAML.

An action (``bot/actions/review.py``) records a message that ended in ``nlu_fallback`` or
``out_of_scope``, or that was followed by a hand-off, in a capped Redis stream: the masked text,
the intent the model guessed and its confidence, why it was kept, the language, the time.  No
conversation id is kept.  ``python -m bot review export --since 7d`` groups them by guessed intent
and language, merges duplicates, and writes Rasa NLU YAML for the content team to label.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import redis.asyncio as aioredis

from bot import keys
from bot.content.text import has_devanagari, normalize
from bot.identifiers import mask
from bot.language import Language, detect, is_hinglish

# About a month of fallbacks for a busy deployment; XADD trims the oldest beyond this.
REVIEW_MAXLEN = 50_000
# Longer messages are cut: an NLU example is a sentence or two, and the stream stays small.
MAX_TEXT_CHARS = 500
_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class Reason(str, Enum):
    FALLBACK = "fallback"  # nlu_fallback: the model was not sure enough
    OUT_OF_SCOPE = "out_of_scope"  # the model says it is not about elections
    HANDOFF = "handoff"  # a hand-off to a person followed


@dataclass(frozen=True)
class ReviewEntry:
    text: str  # masked
    intent: str  # what the model guessed (the best real intent, not nlu_fallback)
    confidence: float
    reason: Reason
    language: str  # en, hi or hinglish: the NLU block it would go into
    at: float  # unix seconds


def nlu_language(text: str, reply_language: str) -> str:
    """Which NLU block (``metadata.lang``) a voter's message belongs to: en, hi or hinglish."""
    if has_devanagari(text):
        return "hi"
    if is_hinglish(text):
        return "hinglish"
    if detect(text) is Language.EN:
        return "en"
    return "hinglish" if reply_language == "hi" else "en"


def guessed_intent(parse_data: dict[str, Any]) -> tuple[str, float]:
    """The intent the classifier guessed, and its confidence: under ``nlu_fallback`` it is the runner-up."""
    ranking = [r for r in parse_data.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    best = ranking[0] if ranking else parse_data.get("intent") or {}
    return str(best.get("name") or "nlu_fallback"), float(best.get("confidence") or 0.0)


async def record(
    redis: aioredis.Redis,
    *,
    text: str,
    intent: str,
    confidence: float,
    reason: Reason,
    language: str,
    at: float | None = None,
) -> str | None:
    """Keep one voter message for review; the entry id, or None for a button press or an empty message."""
    masked = mask(text).strip()[:MAX_TEXT_CHARS]
    if not masked or masked.startswith("/"):
        return None
    fields = {
        "text": masked,
        "intent": intent,
        "confidence": f"{confidence:.3f}",
        "reason": reason.value,
        "language": language,
        "at": f"{time.time() if at is None else at:.3f}",
    }
    entry_id = await redis.xadd(keys.REVIEW, fields, maxlen=REVIEW_MAXLEN, approximate=True)  # type: ignore[arg-type]
    return str(entry_id)


def parse_since(value: str) -> timedelta:
    """``30m``, ``24h``, ``7d`` or ``2w`` as a duration."""
    match = _SINCE.match(value)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--since takes a number and a unit m, h, d or w (like 7d), not {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


async def entries_since(redis: aioredis.Redis, since: float) -> list[ReviewEntry]:
    """Entries recorded at or after ``since`` (unix seconds), oldest first."""
    entries: list[ReviewEntry] = []
    start = f"{int(since * 1000)}-0"  # stream ids start with the time Redis added them
    while True:
        batch: list[tuple[str, dict[str, str]]] = await redis.xrange(keys.REVIEW, min=start, max="+", count=1000)  # type: ignore[assignment]
        entries += [entry for entry in (_entry(fields) for _, fields in batch) if entry.at >= since]
        if len(batch) < 1000:
            return entries
        start = "(" + str(batch[-1][0])


def _entry(fields: dict[str, str]) -> ReviewEntry:
    return ReviewEntry(
        text=mask(fields.get("text", "")),  # masked when recorded; masked again in case the rules grew
        intent=fields.get("intent") or "nlu_fallback",
        confidence=float(fields.get("confidence") or 0.0),
        reason=Reason(fields["reason"]) if fields.get("reason") in Reason._value2member_map_ else Reason.FALLBACK,
        language=fields.get("language") or "en",
        at=float(fields.get("at") or 0.0),
    )


@dataclass
class Example:
    text: str  # the first spelling seen
    count: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    confidences: list[float] = field(default_factory=list)


def group(entries: list[ReviewEntry]) -> dict[tuple[str, str], list[Example]]:
    """(guessed intent, language) -> examples, duplicates merged after normalization, most frequent first."""
    merged: dict[tuple[str, str], dict[str, Example]] = defaultdict(dict)
    for entry in entries:
        key = normalize(entry.text)
        if not key:
            continue
        example = merged[(entry.intent, entry.language)].setdefault(key, Example(entry.text))
        example.count += 1
        example.reasons[entry.reason.value] += 1
        example.confidences.append(entry.confidence)
    return {
        block: sorted(examples.values(), key=lambda e: (-e.count, e.text))
        for block, examples in sorted(
            merged.items(), key=lambda item: (-sum(e.count for e in item[1].values()), item[0])
        )
    }


def to_yaml(groups: dict[tuple[str, str], list[Example]], since: datetime, until: datetime) -> str:
    """Rasa NLU YAML (format 3.1): one block per guessed intent and language, counts as comments."""
    total = sum(e.count for examples in groups.values() for e in examples)
    distinct = sum(len(examples) for examples in groups.values())
    lines = [
        f"# Voter messages to review, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC:",
        f"# {total} messages, {distinct} different.  Generated by `python -m bot review export`.",
        "# Each block is the intent the model guessed.  Move every example to the intent it really is,",
        "# delete the ones that are not worth teaching, then paste the blocks into nlu/<topic>.yml",
        "# (see docs/content.md).  The comment after an example says how often voters sent it, why it",
        "# was kept (fallback, out_of_scope, handoff) and the model's mean confidence.",
        'version: "3.1"',
    ]
    if not groups:
        lines.append("nlu: []")
        return "\n".join(lines) + "\n"
    lines.append("nlu:")
    for (intent, language), examples in groups.items():
        lines += [f"- intent: {intent}", "  metadata:", f"    lang: {language}", "  examples:"]
        for example in examples:
            reasons = ", ".join(f"{name} {n}" for name, n in example.reasons.most_common())
            confidence = sum(example.confidences) / len(example.confidences)
            # JSON strings are valid YAML strings, whatever the voter typed.
            text = json.dumps(example.text, ensure_ascii=False)
            lines.append(f"  - text: {text}  # {example.count}x; {reasons}; confidence {confidence:.2f}")
    return "\n".join(lines) + "\n"


async def export(redis: aioredis.Redis, since: timedelta, now: datetime | None = None) -> str:
    """The review file for the messages of the last ``since``."""
    until = now or datetime.now(UTC)
    start = until - since
    return to_yaml(group(await entries_since(redis, start.timestamp())), start, until)

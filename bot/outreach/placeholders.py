"""Campaign texts take dates, times and places from ``data/schedule.yml``, never typed in.

A message may say ``{poll_date}``, ``{poll_close}``, ``{state}`` and ``{constituencies}``; they are
filled from the schedule entries of the campaign's audience (its states and constituencies, or
the whole schedule when it names none), in the voter's language, through the one formatter (``bot/clock.py``).
Each must have one value across that audience: ``{poll_close}`` for two seats closing at different
hours is refused, so the text cannot promise one time to both.

A date typed into the text (``19 अप्रैल``, ``April 19``, ``19/04``, ``2029-04-19``) is refused when the
schedule contradicts it: it is none of the audience's poll dates. The four qualifying dates
(1 January, 1 April, 1 July, 1 October) are fixed by law, not by the schedule, and may be typed.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from datetime import date

from bot.clock import long_date, month_names, spoken_time
from bot.schedule import ConstituencySchedule, Schedule

SCHEDULE_PLACEHOLDERS = frozenset({"poll_date", "poll_close", "state", "constituencies"})
QUALIFYING_DATES = frozenset({(1, 1), (1, 4), (1, 7), (1, 10)})  # (day, month)
_ISO = re.compile(r"(?<![0-9])(\d{4})-(\d{1,2})-(\d{1,2})(?![0-9])")
_NUMERIC = re.compile(r"(?<![0-9/.-])(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?(?![0-9/-])")


def used(text: str) -> set[str]:
    """The placeholders a text uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def audience_entries(
    schedule: Schedule, states: tuple[str, ...], constituencies: tuple[str, ...]
) -> list[ConstituencySchedule]:
    """The schedule entries a campaign reaches (its states' and its constituencies'), or all of them."""
    if not states and not constituencies:
        return list(schedule.constituencies)
    chosen = [entry for state in states for entry in schedule.for_state(state)]
    chosen += [e for e in (schedule.for_constituency(name) for name in constituencies) if e is not None]
    return list({entry.name: entry for entry in chosen}.values())


def _join(names: list[str], language: str) -> str:
    if len(names) < 2:
        return "".join(names)
    last = " और " if language == "hi" else " and "
    return ", ".join(names[:-1]) + last + names[-1]


def values(schedule: Schedule, entries: list[ConstituencySchedule], language: str) -> dict[str, set[str]]:
    """Every value each schedule placeholder takes over ``entries``, in ``language``."""
    found: dict[str, set[str]] = {name: set() for name in SCHEDULE_PLACEHOLDERS}
    for entry in entries:
        state = schedule.resolve_state(entry.state)
        found["poll_date"].add(long_date(entry.poll_date, language))
        found["poll_close"].add(spoken_time(entry.poll_close, language))
        found["state"].add(state.name_hi if state and language == "hi" else entry.state)
    names = [e.name_hi if language == "hi" else e.name for e in entries]
    if names:
        found["constituencies"].add(_join(names, language))
    return found


def resolve(
    schedule: Schedule, entries: list[ConstituencySchedule], texts: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Per language, the value of each schedule placeholder the texts use; ValueError when one has
    none or several across the audience."""
    resolved: dict[str, dict[str, str]] = {}
    for language, text in texts.items():
        wanted = used(text) & SCHEDULE_PLACEHOLDERS
        options = values(schedule, entries, language)
        resolved[language] = {}
        for name in sorted(wanted):
            if len(options[name]) != 1:
                seen = "; ".join(sorted(options[name])) or "nothing"
                raise ValueError(
                    f"message.{language}: {{{name}}} has no single value for this audience (the schedule gives: "
                    f"{seen}); narrow audience.states or audience.constituencies, or leave {{{name}}} out"
                )
            resolved[language][name] = next(iter(options[name]))
    return resolved


def typed_dates(text: str) -> Iterator[tuple[str, int, int]]:
    """(as written, day, month) of each date typed into ``text``: ``19 अप्रैल``, ``April 19``, ``19/04``."""
    months = {name.casefold(): number for lang in ("hi", "en") for number, name in enumerate(month_names(lang), 1)}
    months |= {name[:3].casefold(): number for number, name in enumerate(month_names("en"), 1)}
    alternatives = "|".join(sorted((re.escape(m) for m in months), key=len, reverse=True))
    day_month = re.compile(rf"(?<![0-9])(\d{{1,2}})\s*({alternatives})(?![a-z])", re.IGNORECASE)
    month_day = re.compile(rf"(?<![a-z])({alternatives})\.?\s+(\d{{1,2}})(?![0-9])", re.IGNORECASE)
    for match in day_month.finditer(text):
        yield match.group(), int(match.group(1)), months[match.group(2).casefold()]
    for match in month_day.finditer(text):
        yield match.group(), int(match.group(2)), months[match.group(1).casefold()]
    for match in _ISO.finditer(text):
        yield match.group(), int(match.group(3)), int(match.group(2))
    for match in _NUMERIC.finditer(text):
        yield match.group(), int(match.group(1)), int(match.group(2))


def contradicted_dates(text: str, entries: list[ConstituencySchedule]) -> list[str]:
    """Dates typed into ``text`` that are none of the audience's poll dates (nor a qualifying date)."""
    poll_dates: set[date] = {entry.poll_date for entry in entries}
    allowed = {(day.day, day.month) for day in poll_dates} | QUALIFYING_DATES
    return [
        written
        for written, day, month in typed_dates(text)
        if 1 <= day <= 31 and 1 <= month <= 12 and (day, month) not in allowed
    ]

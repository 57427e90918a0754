"""Times and dates the way voters say them: one formatter for the gateway, the actions and campaigns.

Hindi uses the time of day, not a 24-hour clock: ``शाम 6 बजे``, ``सुबह 9 से रात 9 बजे तक``.
Month and weekday names and the parts of the day come from CLDR through babel's ``hi_IN``
locale (``docs/content.md``, "Times and dates"), never from a hand-written table.

    spoken_time(time(18, 0), "hi")              # 'शाम 6 बजे'
    spoken_time(time(18, 0), "en")              # '6 PM'
    time_range(time(9), time(21), "hi")         # 'सुबह 9 से रात 9 बजे तक'
    long_date(date(2029, 4, 19), "hi")          # 'गुरुवार, 19 अप्रैल 2029'
"""

from __future__ import annotations

from datetime import date, time

from babel.dates import format_date, format_time, get_month_names

LOCALES = {"hi": "hi_IN", "en": "en_IN"}


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["en"])


def _clock(moment: time, language: str) -> str:
    """``शाम 6`` / ``6 PM`` (minutes only when there are some: ``शाम 6:30``)."""
    if language == "hi":
        pattern = "B h" if moment.minute == 0 else "B h:mm"
    else:
        pattern = "h a" if moment.minute == 0 else "h:mm a"
    return format_time(moment, pattern, locale=_locale(language))


def spoken_time(moment: time, language: str) -> str:
    """A clock time as said aloud: ``शाम 6 बजे``, ``6 PM``."""
    text = _clock(moment, language)
    return f"{text} बजे" if language == "hi" else text


def time_range(start: time, end: time, language: str) -> str:
    """From ``start`` to ``end``: ``सुबह 9 से रात 9 बजे तक``, ``from 9 AM to 9 PM``."""
    if start == end:
        return "दिन-रात, 24 घंटे" if language == "hi" else "round the clock"
    if language == "hi":
        return f"{_clock(start, language)} से {_clock(end, language)} बजे तक"
    return f"from {_clock(start, language)} to {_clock(end, language)}"


def long_date(day: date, language: str) -> str:
    """``गुरुवार, 19 अप्रैल 2029``, ``Thursday, 19 April 2029``."""
    return format_date(day, "EEEE, d MMMM y", locale=_locale(language))


def short_date(day: date, language: str) -> str:
    """``19 अप्रैल``, ``19 April``: for a date in the coming weeks."""
    return format_date(day, "d MMMM", locale=_locale(language))


def month_names(language: str) -> list[str]:
    """The twelve month names, January first (full names, as CLDR spells them)."""
    names = get_month_names("wide", locale=_locale(language))
    return [str(names[month]) for month in range(1, 13)]

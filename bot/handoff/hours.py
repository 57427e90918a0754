"""When people answer: the agent schedule, in India time."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30))
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _day(token: str, days: str) -> int:
    word = token.strip().lower()
    for index, (short, full) in enumerate(zip(DAYS, _FULL, strict=True)):
        if word in (short, full):
            return index
    raise ValueError(f"agent days: {token.strip()!r} is not a day (use mon..sun, or a range like mon-fri), in {days!r}")


def parse_days(days: str) -> set[int]:
    """Weekdays (0 = Monday) from "mon,tue", "mon-fri", "mon-fri,sun" or "fri-mon" (a range may wrap)."""
    chosen: set[int] = set()
    for item in days.split(","):
        if not item.strip():
            continue
        first, dash, last = item.partition("-")
        if not dash:
            chosen.add(_day(first, days))
            continue
        start, end = _day(first, days), _day(last, days)
        chosen.update((start + step) % 7 for step in range((end - start) % 7 + 1))
    if not chosen:
        raise ValueError(f"agent days: name at least one day (e.g. mon-sun), not {days!r}")
    return chosen


class AgentHours:
    """A daily window such as "09:00-21:00" on some days of the week, in IST.

    A window that ends before it starts ("20:00-02:00") runs past midnight; one that ends
    where it starts ("00:00-00:00") is the whole day.
    """

    def __init__(self, window: str, days: str = "mon,tue,wed,thu,fri,sat,sun") -> None:
        try:
            start, end = (time.fromisoformat(part.strip()) for part in window.split("-"))
        except ValueError:
            raise ValueError(f"agent hours must look like 09:00-21:00, not {window!r}") from None
        self.start, self.end = start, end
        self.window = window.strip()
        self.days = parse_days(days)

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(IST)
        now = local.time()
        if self.start == self.end:
            return local.weekday() in self.days
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= now < self.end
        # Past midnight: the early-morning part belongs to the previous day's shift.
        if now >= self.start:
            return local.weekday() in self.days
        return now < self.end and (local.weekday() - 1) % 7 in self.days

    def open_now(self) -> bool:
        return self.open_at(datetime.now(IST))

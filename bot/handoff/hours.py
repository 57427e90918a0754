"""When people answer: the agent schedule, in India time."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

IST = timezone(timedelta(hours=5, minutes=30))
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
        chosen = [d.strip().lower()[:3] for d in days.split(",") if d.strip()]
        unknown = [d for d in chosen if d not in DAYS]
        if unknown or not chosen:
            raise ValueError(f"agent days must be among {','.join(DAYS)}, not {days!r}")
        self.start, self.end = start, end
        self.window = window.strip()
        self.days = {DAYS.index(d) for d in chosen}

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

"""Agent hours on a fixed clock, in India time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.handoff.hours import IST, AgentHours


def ist(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)  # 2026-11-30 is a Monday


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (ist(30, 8, 59), False),
        (ist(30, 9, 0), True),
        (ist(30, 20, 59), True),
        (ist(30, 21, 0), False),
        (ist(29, 12, 0), False),  # Sunday: not a working day here
        (datetime(2026, 11, 30, 3, 30, tzinfo=UTC), True),  # 09:00 IST
    ],
)
def test_day_window_mon_to_sat(moment: datetime, expected: bool) -> None:
    assert AgentHours("09:00-21:00", "mon,tue,wed,thu,fri,sat").open_at(moment) is expected


def test_window_past_midnight_belongs_to_the_previous_day() -> None:
    hours = AgentHours("20:00-02:00", "fri")
    assert hours.open_at(datetime(2026, 12, 4, 23, 0, tzinfo=IST))  # Friday night
    assert hours.open_at(datetime(2026, 12, 5, 1, 0, tzinfo=IST))  # early Saturday, Friday's shift
    assert not hours.open_at(datetime(2026, 12, 4, 1, 0, tzinfo=IST))  # early Friday: Thursday's shift


@pytest.mark.parametrize(("window", "days"), [("9-21", "mon"), ("09:00-21:00", "funday"), ("09:00-21:00", "")])
def test_bad_settings_are_refused_with_a_clear_message(window: str, days: str) -> None:
    with pytest.raises(ValueError, match="agent"):
        AgentHours(window, days)


def test_equal_start_and_end_is_the_whole_day() -> None:
    hours = AgentHours("00:00-00:00", "mon")
    assert hours.open_at(ist(30, 0, 0)) and hours.open_at(ist(30, 23, 59)) and not hours.open_at(ist(29, 12))

"""bot/schedule.py: loading data/schedule.yml, look-ups, close of poll and the silence period."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.schedule import IST, Schedule, name_key
from bot.settings import ROOT

SCHEDULE = ROOT / "data" / "schedule.yml"


@pytest.fixture(scope="module")
def schedule() -> Schedule:
    return Schedule.load(SCHEDULE)


def test_sample_schedule_has_two_states_in_two_phases(schedule: Schedule) -> None:
    assert schedule.sample is True
    phases = {(c.state, c.phase) for c in schedule.constituencies}
    assert phases == {("Bihar", 1), ("Uttar Pradesh", 2)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Varanasi", "Varanasi"),
        ("वाराणसी", "Varanasi"),
        ("banaras", "Varanasi"),
        ("  LUCKNOW ", "Lucknow"),
        ("लखनऊ", "Lucknow"),
        ("patna sahib.", "Patna Sahib"),
        ("पटना साहिब", "Patna Sahib"),
        ("gaya", "Gaya"),
        ("गया", "Gaya"),
    ],
)
def test_for_constituency_in_any_script(schedule: Schedule, name: str, expected: str) -> None:
    entry = schedule.for_constituency(name)
    assert entry is not None and entry.name == expected


@pytest.mark.parametrize("name", ["Springfield", "", None, "Patna"])
def test_unknown_constituency(schedule: Schedule, name: str | None) -> None:
    assert schedule.for_constituency(name) is None


def test_states(schedule: Schedule) -> None:
    assert schedule.resolve_state("यूपी").name == "Uttar Pradesh"  # type: ignore[union-attr]
    assert schedule.resolve_state("bihar").name_hi == "बिहार"  # type: ignore[union-attr]
    assert [c.name for c in schedule.for_state("बिहार")] == ["Gaya", "Patna Sahib"]
    assert schedule.for_state("Kerala") == []


def test_close_of_poll_is_aware_and_in_ist(schedule: Schedule) -> None:
    gaya = schedule.for_constituency("Gaya")
    assert gaya is not None
    assert gaya.close_of_poll == datetime(2029, 4, 19, 16, 0, tzinfo=IST)
    assert gaya.close_of_poll.utcoffset() == timedelta(hours=5, minutes=30)
    assert gaya.silence_starts == datetime(2029, 4, 17, 16, 0, tzinfo=IST)


def test_silence_period_is_the_48_hours_before_close_of_poll(schedule: Schedule) -> None:
    close = schedule.for_constituency("Varanasi").close_of_poll  # type: ignore[union-attr]
    assert not schedule.in_silence_period("Varanasi", close - timedelta(hours=48, seconds=1))
    assert schedule.in_silence_period("Varanasi", close - timedelta(hours=48))
    assert schedule.in_silence_period("Varanasi", (close - timedelta(minutes=1)).astimezone(UTC))
    assert not schedule.in_silence_period("Varanasi", close)
    assert not schedule.in_silence_period("Springfield", close)


def test_naive_datetimes_are_refused(schedule: Schedule) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule.for_constituency("Lucknow").in_silence_period(datetime(2029, 5, 6, 12, 0))  # type: ignore[union-attr]


def test_name_key() -> None:
    assert name_key("Patna  Sahib!") == name_key("patnasahib")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "schedule.yml"
    path.write_text(body, encoding="utf-8")
    return path


BASE = """
states:
  - {name: Bihar, name_hi: बिहार}
constituencies:
  - {name: Gaya, name_hi: गया, state: %s, phase: 1, poll_date: 2030-01-02, poll_close: "%s"}
"""


def test_a_campaign_schedule(tmp_path: Path) -> None:
    schedule = Schedule.load(_write(tmp_path, BASE % ("Bihar", "17:30")))
    gaya = schedule.for_constituency("gaya")
    assert schedule.sample is False
    assert gaya is not None and (gaya.poll_date, gaya.poll_close) == (date(2030, 1, 2), time(17, 30))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BASE % ("Kerala", "17:00"), "unknown state"),
        (BASE % ("Bihar", "25:00"), "poll_close"),
        ("timezone: Mars/Olympus\n" + BASE % ("Bihar", "17:00"), "Mars"),
        (
            BASE % ("Bihar", "17:00") + "  - {name: Gaya, name_hi: गया, state: Bihar, phase: 1, poll_date: 2030-01-02, "
            'poll_close: "17:00"}\n',
            "listed twice",
        ),
    ],
)
def test_bad_schedules_are_refused(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises((ValidationError, ValueError), match=message):
        Schedule.load(_write(tmp_path, body))

"""The one formatter for times and dates (bot/clock.py): Hindi the way it is spoken, months from CLDR."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.clock import long_date, month_names, short_date, spoken_time, time_range


@pytest.mark.parametrize(
    ("moment", "hindi", "english"),
    [
        (time(18, 0), "शाम 6 बजे", "6 PM"),
        (time(9, 0), "सुबह 9 बजे", "9 AM"),
        (time(21, 0), "रात 9 बजे", "9 PM"),
        (time(17, 30), "शाम 5:30 बजे", "5:30 PM"),
    ],
)
def test_a_time_is_said_by_the_part_of_the_day(moment: time, hindi: str, english: str) -> None:
    assert spoken_time(moment, "hi") == hindi
    assert spoken_time(moment, "en") == english


def test_a_range_names_both_ends_and_says_baje_once() -> None:
    assert time_range(time(9), time(21), "hi") == "सुबह 9 से रात 9 बजे तक"
    assert time_range(time(8), time(20), "en") == "from 8 AM to 8 PM"
    assert "24" in time_range(time(0), time(0), "hi")


def test_dates_have_hindi_month_and_weekday_names() -> None:
    assert long_date(date(2029, 4, 19), "hi") == "गुरुवार, 19 अप्रैल 2029"
    assert long_date(date(2029, 4, 19), "en") == "Thursday, 19 April 2029"
    assert short_date(date(2029, 2, 1), "hi") == "1 फ़रवरी"


def test_month_names_come_in_calendar_order() -> None:
    assert month_names("hi")[0] == "जनवरी" and month_names("hi")[11] == "दिसंबर"
    assert month_names("en")[3] == "April"


def test_no_other_module_spells_out_month_names() -> None:
    # One formatter: a hand-written month table elsewhere would drift from CLDR's spelling.
    from bot.settings import ROOT

    for path in (ROOT / "bot").rglob("*.py"):
        if path.name != "clock.py":
            text = path.read_text(encoding="utf-8")
            assert "सितंबर" not in text and '"September"' not in text, path

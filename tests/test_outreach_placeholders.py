"""Campaign texts take poll dates, times and places from the schedule (bot/outreach/placeholders.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import CampaignFileError
from bot.outreach.campaign import load_campaign
from bot.outreach.placeholders import typed_dates
from bot.schedule import Schedule
from bot.settings import ROOT

SCHEDULE = Schedule.load(ROOT / "data" / "schedule.yml")
CAMPAIGN = """
name: reminder
election_material: true
message:
  hi: "{hi}"
  en: "{en}"
audience:
  states: [{states}]
  constituencies: [{constituencies}]
window:
  start: 2029-04-01 09:00
  end: 2029-04-19 18:00
"""


def campaign_file(tmp_path: Path, hi: str, en: str, states: str = "Bihar", constituencies: str = "") -> Path:
    path = tmp_path / "reminder.yml"
    text = CAMPAIGN.format(hi=hi, en=en, states=states, constituencies=constituencies)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_poll_date_and_places_come_from_the_schedule_in_each_language(tmp_path: Path) -> None:
    path = campaign_file(tmp_path, "{poll_date} को {constituencies} में वोट", "{constituencies} vote on {poll_date}")
    campaign = load_campaign(path, SCHEDULE)
    assert campaign.render("hi", {}) == "गुरुवार, 19 अप्रैल 2029 को गया और पटना साहिब में वोट"
    assert campaign.render("en", {}) == "Gaya and Patna Sahib vote on Thursday, 19 April 2029"


def test_a_close_of_poll_that_differs_across_the_audience_is_refused(tmp_path: Path) -> None:
    # Patna Sahib closes at 18:00, Gaya at 16:00: one text cannot promise one time to both.
    path = campaign_file(tmp_path, "वोटिंग {poll_close} तक", "Polling until {poll_close}")
    with pytest.raises(CampaignFileError, match=r"\{poll_close\} has no single value"):
        load_campaign(path, SCHEDULE)
    one_seat = campaign_file(tmp_path, "वोटिंग {poll_close} तक", "Polling until {poll_close}", "", "Gaya")
    assert load_campaign(one_seat, SCHEDULE).render("hi", {}) == "वोटिंग शाम 4 बजे तक"


@pytest.mark.parametrize(
    ("hi", "en"),
    [
        ("20 अप्रैल को वोट", "Vote on {poll_date}"),
        ("{poll_date} को वोट", "Vote on April 20"),
        ("{poll_date} को वोट", "Vote on 20/04/2029"),
        ("{poll_date} को वोट", "Vote on 2029-04-20"),
    ],
)
def test_a_typed_date_the_schedule_contradicts_is_refused(tmp_path: Path, hi: str, en: str) -> None:
    with pytest.raises(CampaignFileError, match="is typed in, but the schedule's poll dates"):
        load_campaign(campaign_file(tmp_path, hi, en), SCHEDULE)


def test_a_typed_date_that_agrees_or_a_qualifying_date_passes(tmp_path: Path) -> None:
    path = campaign_file(tmp_path, "19 अप्रैल को वोट; 1 जनवरी तक 18 साल", "Vote on 19 April; 18 by 1 January")
    assert load_campaign(path, SCHEDULE).render("en", {}).startswith("Vote on 19 April")


def test_numbers_that_are_not_dates_are_not_read_as_dates() -> None:
    text = "1800-11-1950 पर सुबह 8 से रात 8 बजे तक, 98765 43210, फ़ॉर्म 12D, 40%"
    assert [written for written, _, _ in typed_dates(text)] == []


def test_the_shipped_campaigns_pass() -> None:
    for path in sorted((ROOT / "campaigns").glob("*.yml")):
        load_campaign(path, SCHEDULE)

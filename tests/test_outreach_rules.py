"""Campaign files, audience, quiet hours and the silence period, with fixed clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import CampaignFileError
from bot.outreach.campaign import load_campaign
from bot.outreach.rules import (
    UNKNOWN_CONSTITUENCY,
    QuietHours,
    Recipient,
    Status,
    hold,
    in_audience,
)
from bot.schedule import IST, Schedule
from bot.settings import ROOT

SCHEDULE = Schedule.load(ROOT / "data" / "schedule.yml")
QUIET = QuietHours("22:00-06:00")
GOOD = """
name: reminder
election_material: true
message:
  hi: "कल वोट डालने ज़रूर जाइए। - {org_name}"
  en: "Do vote tomorrow. - {org_name}"
buttons:
  - title: {hi: "मेरा बूथ", en: "My booth"}
    payload: /find_polling_station
audience:
  states: [bihar]
  constituencies: [banaras]
window:
  start: 2029-04-01 09:00
  end: 2029-05-10 18:00
"""


def write(tmp_path: Path, text: str, name: str = "reminder.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def at(day: str, hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=IST)


def voter(constituency: str | None, language: str = "hi", **extra: object) -> Recipient:
    entry = SCHEDULE.for_constituency(constituency)
    fields: dict[str, object] = {
        "conversation_id": "tg:1",
        "key": "h1",
        "channel": "telegram",
        "chat_id": "1",
        "language": language,
        "constituency": entry.name if entry else None,
        "state": entry.state if entry else None,
    }
    fields.update(extra)
    return Recipient(**fields)  # type: ignore[arg-type]


def test_a_good_file_loads_with_names_resolved(tmp_path: Path) -> None:
    campaign = load_campaign(write(tmp_path, GOOD), SCHEDULE)
    assert campaign.audience.states == ("Bihar",)
    assert campaign.audience.constituencies == ("Varanasi",)
    assert campaign.window.start == at("2029-04-01", "09:00")
    assert campaign.render("en", {"org_name": "Jan Sahayak", "org_url": ""}) == "Do vote tomorrow. - Jan Sahayak"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda t: t.replace('  en: "Do vote tomorrow. - {org_name}"\n', ""), "message.en: missing (the English text)"),
        (
            lambda t: t.replace("[banaras]", "[Mumbai North]"),
            "audience.constituencies: unknown constituency 'Mumbai North'",
        ),
        (lambda t: t.replace("[bihar]", "[Bihar, Goa]"), "audience.states: unknown state 'Goa'"),
        (lambda t: t.replace("2029-04-01 09:00", "2029-04-31 09:00"), "window.start: not a date and time"),
        (lambda t: t.replace("2029-05-10 18:00", "2029-03-10 18:00"), "window: the window's end must come after"),
        (lambda t: t.replace('"कल वोट डालने ज़रूर जाइए। - {org_name}"', '"   "'), "message.hi: empty; write the text"),
        (lambda t: t.replace('{org_name}"\n  en', '{name}"\n  en'), "message.hi: unknown placeholder {name}"),
        (lambda t: t.replace("election_material: true\n", ""), "election_material: missing"),
        (lambda t: t.replace("payload: /find_polling_station", "payload: find"), "buttons.0.payload: a button"),
        (lambda t: t.replace("audience:", "audiense:"), "audiense: unknown field"),
        (lambda t: t.replace("message:\n", "message: [\n"), "line 6, column 3: not valid YAML"),
    ],
)
def test_bad_files_name_the_file_and_the_field(tmp_path: Path, change, expected: str) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, change(GOOD))
    with pytest.raises(CampaignFileError) as caught:
        load_campaign(path, SCHEDULE)
    assert f"{path}: {expected}" in str(caught.value)


def test_shipped_campaign_files_are_valid() -> None:
    files = sorted((ROOT / "campaigns").glob("*.yml"))
    assert files
    for path in files:
        load_campaign(path, SCHEDULE)


@pytest.mark.parametrize(
    ("hhmm", "quiet"),
    [("21:59", False), ("22:00", True), ("23:30", True), ("00:00", True), ("05:59", True), ("06:00", False)],
)
def test_quiet_hours_are_india_time(hhmm: str, quiet: bool) -> None:
    moment = at("2029-01-10", hhmm)
    assert QUIET.quiet_at(moment) is quiet
    assert QUIET.quiet_at(moment.astimezone(UTC)) is quiet  # the same instant, told in UTC


def test_quiet_hours_end_in_the_morning() -> None:
    assert QUIET.ends_after(at("2029-01-10", "23:15")) == at("2029-01-11", "06:00")
    assert QUIET.ends_after(at("2029-01-10", "12:00")) == at("2029-01-10", "12:00")


def test_silence_period_is_the_48_hours_ending_with_close_of_poll(tmp_path: Path) -> None:
    campaign = load_campaign(write(tmp_path, GOOD), SCHEDULE)
    gaya = SCHEDULE.for_constituency("Gaya")
    assert gaya is not None
    close = gaya.close_of_poll  # 2029-04-19 16:00 IST
    before, start, last, after = close - timedelta(hours=48, minutes=1), close - timedelta(hours=48), \
        close - timedelta(minutes=1), close  # fmt: skip
    noon = at("2029-04-18", "12:00")
    assert hold(voter("Gaya"), campaign, SCHEDULE, QUIET, before) is None
    for moment in (start, last, noon):
        assert hold(voter("Gaya"), campaign, SCHEDULE, QUIET, moment) == hold(voter("gaya ji"), campaign, SCHEDULE,
                                                                              QUIET, moment)  # fmt: skip
        reason = hold(voter("Gaya"), campaign, SCHEDULE, QUIET, moment)
        assert reason is not None and reason.status is Status.HELD_SILENCE and reason.constituency == "Gaya"
    assert hold(voter("Gaya"), campaign, SCHEDULE, QUIET, after) is None


def test_phases_differ_bihar_is_silent_while_uttar_pradesh_is_not(tmp_path: Path) -> None:
    campaign = load_campaign(write(tmp_path, GOOD.replace("states: [bihar]", "states: [bihar, up]")), SCHEDULE)
    moment = at("2029-04-18", "12:00")  # phase 1 (Bihar) votes on 19 April; phase 2 (UP) on 7 May
    assert hold(voter("Patna Sahib"), campaign, SCHEDULE, QUIET, moment).constituency == "Patna Sahib"  # type: ignore[union-attr]
    assert hold(voter("Lucknow"), campaign, SCHEDULE, QUIET, moment) is None
    later = at("2029-05-06", "12:00")
    assert hold(voter("Patna Sahib"), campaign, SCHEDULE, QUIET, later) is None
    assert hold(voter("Lucknow"), campaign, SCHEDULE, QUIET, later).constituency == "Lucknow"  # type: ignore[union-attr]


def test_service_messages_are_not_silenced(tmp_path: Path) -> None:
    campaign = load_campaign(write(tmp_path, GOOD.replace("election_material: true", "election_material: false")),
                             SCHEDULE)  # fmt: skip
    assert hold(voter("Gaya"), campaign, SCHEDULE, QUIET, at("2029-04-18", "12:00")) is None


def test_unknown_constituency_is_held_while_any_reachable_one_is_silent(tmp_path: Path) -> None:
    everyone = load_campaign(write(tmp_path, GOOD.replace("  states: [bihar]\n  constituencies: [banaras]\n", "")),
                             SCHEDULE)  # fmt: skip
    reason = hold(voter(None), everyone, SCHEDULE, QUIET, at("2029-04-18", "12:00"))
    assert reason is not None and reason.constituency == UNKNOWN_CONSTITUENCY
    assert hold(voter(None), everyone, SCHEDULE, QUIET, at("2029-04-25", "12:00")) is None


def test_quiet_hours_hold_and_silence_wins_over_quiet(tmp_path: Path) -> None:
    campaign = load_campaign(write(tmp_path, GOOD), SCHEDULE)
    assert hold(voter("Lucknow"), campaign, SCHEDULE, QUIET, at("2029-04-25", "23:00")) == \
        hold(voter("Lucknow"), campaign, SCHEDULE, QUIET, at("2029-04-25", "05:00"))  # fmt: skip
    reason = hold(voter("Lucknow"), campaign, SCHEDULE, QUIET, at("2029-04-25", "23:00"))
    assert reason is not None and reason.status is Status.HELD_QUIET
    night_in_silence = hold(voter("Gaya"), campaign, SCHEDULE, QUIET, at("2029-04-18", "23:00"))
    assert night_in_silence is not None and night_in_silence.status is Status.HELD_SILENCE


def test_blocked_and_web_chat_voters_are_not_sent_to(tmp_path: Path) -> None:
    campaign = load_campaign(write(tmp_path, GOOD), SCHEDULE)
    noon = at("2029-04-25", "12:00")
    assert hold(voter("Lucknow", unreachable=True), campaign, SCHEDULE, QUIET, noon).status is Status.UNREACHABLE  # type: ignore[union-attr]
    assert hold(voter("Lucknow", channel="webchat"), campaign, SCHEDULE, QUIET, noon).status is Status.NO_CHANNEL  # type: ignore[union-attr]


def test_audience_by_state_constituency_and_language(tmp_path: Path) -> None:
    audience = load_campaign(write(tmp_path, GOOD.replace("window:", "  languages: [en]\nwindow:")), SCHEDULE).audience
    assert in_audience(voter("Gaya", "en"), audience)  # Bihar
    assert in_audience(voter("Varanasi", "en"), audience)  # named constituency
    assert not in_audience(voter("Lucknow", "en"), audience)  # UP, not named
    assert not in_audience(voter("Gaya", "hi"), audience)  # language
    assert not in_audience(voter(None, "en"), audience)  # unknown constituency: not in a targeted campaign

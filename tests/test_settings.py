"""bot/settings.py and the CLI's handling of bad settings: every bad value stops with its variable named."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.handoff.hours import AgentHours, parse_days
from bot.settings import ROOT, SettingsError, load


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-sun", {0, 1, 2, 3, 4, 5, 6}),  # the seed read this as Monday only
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("Monday, sun", {0, 6}),
        ("sat", {5}),
    ],
)
def test_day_lists_and_ranges(days: str, expected: set[int]) -> None:
    assert parse_days(days) == expected
    assert AgentHours("09:00-21:00", days).days == expected


@pytest.mark.parametrize("days", ["mon-xyz", "", "mondays", "monday-", "1-5"])
def test_nonsense_days_are_refused(days: str) -> None:
    with pytest.raises(ValueError, match="agent days"):
        parse_days(days)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SAMVAD_AGENT_DAYS": "mon-xyz"}, "SAMVAD_AGENT_DAYS"),
        ({"SAMVAD_AGENT_HOURS": "9 to 5"}, "SAMVAD_AGENT_DAYS"),  # checked together with the days
        ({"SAMVAD_QUIET_HOURS": "late"}, "SAMVAD_QUIET_HOURS"),
        ({"SAMVAD_PORT": "99999"}, "SAMVAD_PORT"),
        ({"SAMVAD_OUTREACH_RATE_PER_S": "0"}, "SAMVAD_OUTREACH_RATE_PER_S"),
        ({"WEBHOOK_URL": "https://bot.example.org"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_URL": "http://bot.example.org", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET": "has spaces in it"}, "WEBHOOK_SECRET"),
        ({"SAMVAD_TRANSCRIPT_TTL_S": "-5"}, "SAMVAD_TRANSCRIPT_TTL_S"),
    ],
)
def test_a_bad_setting_is_named(monkeypatch, env: dict[str, str], named: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as refused:
        load(_env_file=None)
    assert named in str(refused.value)


def test_the_default_rasa_token_is_warned_about(monkeypatch) -> None:
    monkeypatch.delenv("SAMVAD_RASA_TOKEN", raising=False)
    assert any("SAMVAD_RASA_TOKEN" in w for w in load(_env_file=None).warnings())
    monkeypatch.setenv("SAMVAD_RASA_TOKEN", "a-long-random-token-for-rasa")
    assert load(_env_file=None).warnings() == []


@pytest.mark.parametrize(
    "argv",
    [
        ["serve"],
        ["agents", "list"],
        ["campaign", "status", "check-your-name"],
        ["content", "review", "export"],
        ["content", "reload"],
    ],
)
def test_every_subcommand_reports_bad_settings_the_same_way(argv: list[str]) -> None:
    env = {**os.environ, "SAMVAD_AGENT_DAYS": "mon-xyz", "SAMVAD_PORT": "99999"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "invalid setting: SAMVAD_PORT: Input should be less than or equal to 65535",
        "invalid setting: SAMVAD_AGENT_DAYS: agent days: 'xyz' is not a day (use mon..sun, or a range like mon-fri),"
        " in 'mon-xyz'",
    ], done.stderr
    assert "Traceback" not in done.stderr

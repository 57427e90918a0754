"""`python -m bot campaign ...` as content teams run it: a real subprocess against the Bot API stand-in."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot import keys
from bot.consent import conversation_hash
from bot.settings import ROOT
from tests.conftest import redis_url
from tests.helpers.subscribers import add_subscribers
from tests.helpers.telegram_api import FakeTelegram

# A service message (no silence period) whose window is open now; quiet hours are switched off
# for these runs so that they do not depend on the time of day (the rules have their own tests).
CAMPAIGN = """
name: {name}
election_material: false
message:
  hi: "क्या वोटर लिस्ट में आपका नाम है? voters.eci.gov.in पर देखिए।"
  en: "Is your name on the voter list? Check at voters.eci.gov.in."
window:
  start: 2026-01-01 00:00
  end: 2035-01-01 00:00
"""


def write_campaign(tmp_path: Path, name: str = "roll-check", text: str | None = None) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text if text is not None else CAMPAIGN.format(name=name), encoding="utf-8")
    return path


def cli_env(fake: FakeTelegram, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVAD_")}
    env.update({"REDIS_URL": redis_url(), "TELEGRAM_BOT_TOKEN": fake.token, "SAMVAD_TELEGRAM_API_URL": api_url,
                "SAMVAD_QUIET_HOURS": "00:00-00:00", "COLUMNS": "200"})  # fmt: skip
    return env


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "campaign", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def cli(env: dict[str, str], *args: str, timeout: float = 120) -> tuple[int, str, str]:
    proc = await start(env, *args)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def report(env: dict[str, str], name: str) -> dict[str, object]:
    code, out, err = await cli(env, "status", name, "--json")
    assert code == 0, err
    return dict(json.loads(out))


@pytest.mark.slow
async def test_5000_subscribers_are_paced_at_the_configured_rate(
    redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, api_url = telegram_api
    # Twice Telegram's 30/s so that the test takes under two minutes, yet leaves the sender CPU to spare.
    rate = 60.0
    fake.max_per_second = rate * 1.2  # the platform's limit, with room for network jitter above our rate
    chats = await add_subscribers(redis, 5000)
    code, out, err = await cli(cli_env(fake, api_url), "send", str(write_campaign(tmp_path)), "--rate", str(rate),
                               timeout=200)  # fmt: skip
    assert code == 0, err
    times = sorted(m.at for m in fake.sent)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    busiest = max(Counter(int(t) for t in times).values())
    print(f"\npacing: configured {rate:.0f} msg/s, achieved {achieved:.1f} msg/s "
          f"({achieved / rate:.3f}x), busiest second {busiest}, 429s {fake.too_many}")  # fmt: skip
    assert Counter(m.chat_id for m in fake.sent) == Counter({chat: 1 for chat in chats})  # one each: per-chat pacing
    assert fake.too_many == 0
    assert 0.9 * rate <= achieved <= 1.1 * rate
    assert "sent" in out and "5000" in out


async def send_400_and_interrupt(
    redis: aioredis.Redis, fake: FakeTelegram, env: dict[str, str], tmp_path: Path, sig: int
) -> tuple[list[int], Path, asyncio.subprocess.Process]:
    """400 subscribers, a send at 100 msg/s, and `sig` to the sender once 100 have arrived."""
    chats = await add_subscribers(redis, 400)
    path = write_campaign(tmp_path)
    proc = await start(env, "send", str(path), "--rate", "100")
    await fake.wait_for_messages(100, timeout=60)
    proc.send_signal(sig)
    return chats, path, proc


async def test_ctrl_c_then_rerun_sends_to_everyone_exactly_once(
    redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, api_url = telegram_api
    env = cli_env(fake, api_url)
    chats, path, proc = await send_400_and_interrupt(redis, fake, env, tmp_path, signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert "Run the same command to resume" in out.decode()
    first_run = len(fake.sent)
    assert 100 <= first_run < 400
    assert (await report(env, "roll-check"))["counts"] == {"audience": 400, "sent": first_run, "silenced": {}}

    code, _, err_text = await cli(env, "send", str(path), "--rate", "200")
    assert code == 0, err_text
    assert Counter(m.chat_id for m in fake.sent) == Counter({chat: 1 for chat in chats})
    assert (await report(env, "roll-check"))["counts"] == {"audience": 400, "sent": 400, "silenced": {}}


async def test_after_a_hard_crash_a_rerun_never_sends_twice(
    redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, api_url = telegram_api
    env = cli_env(fake, api_url)
    # SIGKILL: no chance to finish the sends in flight.
    chats, path, proc = await send_400_and_interrupt(redis, fake, env, tmp_path, signal.SIGKILL)
    await proc.wait()
    code, _, err = await cli(env, "send", str(path), "--rate", "200")
    assert code == 0, err

    got = Counter(m.chat_id for m in fake.sent)
    statuses = await redis.hgetall(keys.campaign_status("roll-check"))
    status_of = {chat: statuses.get(conversation_hash(f"tg:{chat}")) for chat in chats}
    assert max(got.values()) == 1  # nobody twice
    assert all(got[chat] == 1 for chat in chats if status_of[chat] == "sent")
    # Only sends in flight at the crash are uncertain (delivered or not; Telegram cannot tell us).
    uncertain = [chat for chat in chats if status_of[chat] == "sending"]
    assert set(status_of.values()) <= {"sent", "sending"} and len(uncertain) <= 16
    assert all(got[chat] == 1 for chat in chats if chat not in uncertain)
    counts = (await report(env, "roll-check"))["counts"]
    assert counts.get("sending", 0) == len(uncertain)  # type: ignore[union-attr]
    _, table, _ = await cli(env, "status", "roll-check")
    if uncertain:
        assert "uncertain" in table


async def test_dry_run_counts_and_shows_both_languages_and_sends_nothing(
    redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, api_url = telegram_api
    await add_subscribers(redis, 7)
    await add_subscribers(redis, 2, first_chat=9000, channel="webchat")
    await redis.hset(keys.voter("tg:100003"), "unreachable", "1")
    code, out, err = await cli(cli_env(fake, api_url), "send", str(write_campaign(tmp_path)), "--dry-run")
    assert code == 0, err
    assert "audience: 9  would send now: 6" in out
    assert "unreachable (blocked the bot): 1" in out and "channel cannot be written to first: 2" in out
    assert "क्या वोटर लिस्ट में आपका नाम है?" in out and "Is your name on the voter list?" in out
    assert not [c for c in fake.calls if c[0] == "sendMessage"]


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda t: t.replace('  en: "Is your name on the voter list? Check at voters.eci.gov.in."\n', ""),
            "message.en: missing (the English text)",
        ),
        (
            lambda t: t.replace("window:", "audience:\n  constituencies: [Atlantis]\nwindow:"),
            "audience.constituencies: unknown constituency 'Atlantis'",
        ),
        (lambda t: t.replace("2026-01-01 00:00", "2026-13-01 00:00"), "window.start: not a date and time"),
        (
            lambda t: t.replace('"क्या वोटर लिस्ट में आपका नाम है? voters.eci.gov.in पर देखिए।"', '""'),
            "message.hi: empty; write the text",
        ),
    ],
)
async def test_a_bad_campaign_file_gives_a_clear_error_and_sends_nothing(
    redis: aioredis.Redis,
    telegram_api: tuple[FakeTelegram, str],
    tmp_path: Path,
    edit,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    fake, api_url = telegram_api
    await add_subscribers(redis, 5)
    path = write_campaign(tmp_path, text=edit(CAMPAIGN.format(name="roll-check")))
    code, out, err = await cli(cli_env(fake, api_url), "send", str(path))
    assert code == 2
    assert f"{path}: {expected}" in err and "nothing was sent" in err
    assert "Traceback" not in err
    assert not [c for c in fake.calls if c[0] == "sendMessage"]
    assert await redis.exists(keys.campaign("roll-check"), keys.campaign_status("roll-check")) == 0


async def test_a_closed_window_sends_nothing(
    redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, api_url = telegram_api
    await add_subscribers(redis, 3)
    path = write_campaign(tmp_path, text=CAMPAIGN.format(name="old").replace("2035-01-01", "2026-02-01"))
    code, _, err = await cli(cli_env(fake, api_url), "send", str(path))
    assert code == 1 and "the send window closed at 2026-02-01 00:00 IST" in err
    assert not [c for c in fake.calls if c[0] == "sendMessage"]


async def test_status_of_an_unknown_campaign_is_a_clear_error(telegram_api: tuple[FakeTelegram, str], redis) -> None:  # type: ignore[no-untyped-def]
    fake, api_url = telegram_api
    code, _, err = await cli(cli_env(fake, api_url), "status", "nope")
    assert code == 1 and "no campaign called 'nope' has been sent" in err

"""Sending campaigns to the local Bot API stand-in: consent, holds, flood waits, reports.

The sender runs in-process here with a fixed clock; ``test_outreach_cli.py`` runs the
real command in a subprocess (pacing, Ctrl-C, crash).
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot import keys
from bot.channels.telegram import TelegramBroadcast
from bot.consent import conversation_hash, withdraw
from bot.errors import CampaignBusy
from bot.outreach.campaign import Campaign, load_campaign
from bot.outreach.progress import split_stored
from bot.outreach.rules import UNKNOWN_CONSTITUENCY, QuietHours
from bot.outreach.sender import Broadcast
from bot.schedule import IST, Schedule
from bot.settings import ROOT
from bot.store import VoterStore
from tests.conftest import make_settings
from tests.helpers.subscribers import add_subscribers
from tests.helpers.telegram_api import FakeTelegram

SCHEDULE = Schedule.load(ROOT / "data" / "schedule.yml")
CAMPAIGN = """
name: {name}
election_material: {material}
message:
  hi: "कल वोट डालने ज़रूर जाइए। - {{org_name}}"
  en: "Do vote tomorrow. - {{org_name}}"
buttons:
  - title: {{hi: "मेरा बूथ", en: "My booth"}}
    payload: /find_polling_station
window:
  start: 2029-04-01 09:00
  end: 2029-05-10 18:00
"""
NOON_IN_BIHAR_SILENCE = datetime(2029, 4, 18, 12, 0, tzinfo=IST)  # phase 1 (Bihar) closes 19 April
NIGHT = datetime(2029, 4, 25, 23, 0, tzinfo=IST)
AFTER = datetime(2029, 4, 25, 12, 0, tzinfo=IST)


def campaign(tmp_path: Path, name: str = "reminder", material: bool = True) -> Campaign:
    path = tmp_path / f"{name}.yml"
    path.write_text(CAMPAIGN.format(name=name, material=str(material).lower()), encoding="utf-8")
    return load_campaign(path, SCHEDULE)


class Sender:
    """A Broadcast wired to the stand-in Bot API and the test Redis, with a clock the test moves."""

    def __init__(self, redis: aioredis.Redis, api_url: str, fake: FakeTelegram) -> None:
        self.redis = redis
        self.settings = make_settings(telegram_bot_token=fake.token, telegram_api_url=api_url)
        self.store = VoterStore(redis, transcript_ttl_s=60, transcript_max_turns=10, dedup_ttl_s=60)
        self.now = AFTER

    async def run(self, campaign: Campaign, *, rate: float = 500.0, **options: object):  # type: ignore[no-untyped-def]
        async with TelegramBroadcast(self.settings) as transport:
            broadcast = self.broadcast(campaign, transport, rate, **options)
            return await broadcast.run()

    def broadcast(self, campaign: Campaign, transport: TelegramBroadcast, rate: float, **options: object) -> Broadcast:
        return Broadcast(
            campaign, redis=self.redis, transport=transport, voters=self.store, schedule=SCHEDULE,
            quiet=QuietHours("22:00-06:00"), rate_per_s=rate, concurrency=8,
            values={"org_name": "Jan Sahayak", "org_url": "https://example.org"}, clock=lambda: self.now,
            **options,  # type: ignore[arg-type]
        )  # fmt: skip


@pytest.fixture
def sender(redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str]) -> Sender:
    fake, url = telegram_api
    return Sender(redis, url, fake)


def per_chat(fake: FakeTelegram) -> Counter[int]:
    return Counter(m.chat_id for m in fake.sent)


async def test_each_subscriber_gets_it_once_in_their_language_with_buttons(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    chats = await add_subscribers(redis, 40, constituency="Lucknow")
    counts = await sender.run(campaign(tmp_path))
    assert per_chat(fake) == Counter({chat: 1 for chat in chats})
    by_chat = {m.chat_id: m for m in fake.sent}
    assert by_chat[chats[0]].text == "कल वोट डालने ज़रूर जाइए। - Jan Sahayak"  # even index: Hindi voter
    assert by_chat[chats[1]].text == "Do vote tomorrow. - Jan Sahayak"
    keyboard = by_chat[chats[1]].reply_markup
    assert keyboard is not None
    assert keyboard["inline_keyboard"][0][0] == {"text": "My booth", "callback_data": "/find_polling_station"}
    assert counts.sent == 40 and counts.audience == 40

    again = await sender.run(campaign(tmp_path))  # a re-run sends to nobody twice
    assert len(fake.sent) == 40 and again.sent == 40


async def test_silenced_and_unknown_constituencies_are_held_then_sent_after_the_poll(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    gaya = await add_subscribers(redis, 6, first_chat=1000, constituency="Gaya")  # Bihar: silent
    lucknow = await add_subscribers(redis, 5, first_chat=2000, constituency="Lucknow")  # UP: not yet
    unknown = await add_subscribers(redis, 3, first_chat=3000)
    sender.now = NOON_IN_BIHAR_SILENCE
    counts = await sender.run(campaign(tmp_path))
    assert set(per_chat(fake)) == set(lucknow)
    assert counts.sent == 5 and counts.by_status["held_silence"] == 9
    assert counts.silenced == Counter({"Gaya": 6, UNKNOWN_CONSTITUENCY: 3})

    sender.now = AFTER  # Bihar has voted; UP's silence starts on 5 May
    counts = await sender.run(campaign(tmp_path))
    assert per_chat(fake) == Counter({chat: 1 for chat in gaya + lucknow + unknown})
    assert counts.sent == 14 and counts.held == 0


async def test_service_messages_go_out_during_the_silence_period(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    gaya = await add_subscribers(redis, 4, constituency="Gaya")
    sender.now = NOON_IN_BIHAR_SILENCE
    counts = await sender.run(campaign(tmp_path, "roll-check", material=False))
    assert set(per_chat(fake)) == set(gaya) and counts.sent == 4


async def test_quiet_hours_hold_everyone_until_morning(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    chats = await add_subscribers(redis, 10, constituency="Lucknow")
    sender.now = NIGHT
    counts = await sender.run(campaign(tmp_path))
    assert fake.sent == [] and counts.by_status["held_quiet"] == 10
    sender.now = AFTER
    counts = await sender.run(campaign(tmp_path))
    assert per_chat(fake) == Counter({chat: 1 for chat in chats}) and counts.by_status["held_quiet"] == 0


async def test_opt_out_during_a_running_campaign_takes_effect_before_the_next_send(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    chats = await add_subscribers(redis, 200, constituency="Lucknow")
    leaving = chats[100:]

    async def opt_out_midway() -> None:
        await fake.wait_for_messages(20)
        for chat in leaving:
            await withdraw(redis, f"tg:{chat}", channel="telegram", language="hi")

    results = await asyncio.gather(sender.run(campaign(tmp_path), rate=100.0), opt_out_midway())
    counts = results[0]
    got = per_chat(fake)
    assert not set(got) & set(leaving)
    assert counts.by_status["opted_out"] == len(leaving) and counts.sent == 100
    assert max(got.values()) == 1


async def test_erased_voters_are_never_sent_to(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    chats = await add_subscribers(redis, 3, constituency="Lucknow")
    await redis.sadd(keys.SUPPRESSED, conversation_hash(f"tg:{chats[0]}"))  # left by "delete my data"
    counts = await sender.run(campaign(tmp_path))
    assert set(per_chat(fake)) == set(chats[1:]) and counts.by_status["opted_out"] == 1


async def test_flood_wait_pauses_sending_and_nothing_is_lost(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    chats = await add_subscribers(redis, 30, constituency="Lucknow")
    fake.fail_next["sendMessage"] = [("retry_after", 1)]
    counts = await sender.run(campaign(tmp_path))
    assert per_chat(fake) == Counter({chat: 1 for chat in chats}) and counts.sent == 30
    (flood,) = fake.flood_at
    after = [m.at for m in fake.sent if m.at > flood]
    # Sends already in flight may land just after the 429; the next ones wait the full second.
    assert len([t for t in after if t - flood < 0.95]) <= 8
    assert after and max(after) - flood >= 0.95


async def test_a_voter_who_blocked_the_bot_is_marked_unreachable_and_not_retried(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    chats = await add_subscribers(redis, 5, constituency="Lucknow")
    fake.blocked_chats.add(chats[2])
    counts = await sender.run(campaign(tmp_path))
    assert counts.sent == 4 and counts.by_status["unreachable"] == 1
    assert await redis.hget(keys.voter(f"tg:{chats[2]}"), "unreachable") == "1"
    attempts = len(fake.calls)
    await sender.run(campaign(tmp_path, "another"))
    tried = [int(p["chat_id"]) for m, p in fake.calls[attempts:] if m == "sendMessage"]
    assert chats[2] not in tried and sorted(tried) == sorted(set(chats) - {chats[2]})


async def test_web_chat_subscribers_are_reported_not_sent(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    await add_subscribers(redis, 2, channel="webchat", constituency="Lucknow")
    counts = await sender.run(campaign(tmp_path))
    assert fake.sent == [] and counts.by_status["no_channel"] == 2


async def test_one_sender_per_campaign(
    sender: Sender, redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str], tmp_path: Path
) -> None:
    fake, _ = telegram_api
    await add_subscribers(redis, 50, constituency="Lucknow")
    first = asyncio.create_task(sender.run(campaign(tmp_path), rate=50.0))
    await fake.wait_for_messages(1)
    with pytest.raises(CampaignBusy):
        await sender.run(campaign(tmp_path))
    counts = await first
    assert counts.sent == 50 and max(per_chat(fake).values()) == 1


async def test_a_redis_restart_mid_campaign_stops_it_cleanly_and_a_rerun_finishes_it_once_each(
    own_redis,
    telegram_api: tuple[FakeTelegram, str],
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    fake, url = telegram_api
    port, start, stop = own_redis
    client = aioredis.Redis(port=port, decode_responses=True)
    chats = await add_subscribers(client, 300, constituency="Lucknow")
    sender = Sender(client, url, fake)
    running = asyncio.create_task(sender.run(campaign(tmp_path), rate=100.0))
    await fake.wait_for_messages(50)
    stop(signal.SIGKILL)  # every write reached the append-only file first
    with pytest.raises(RedisError):
        await running
    stopped_at = len(fake.sent)
    assert 50 <= stopped_at < 300

    start()
    counts = await sender.run(campaign(tmp_path))
    statuses = await client.hgetall(keys.campaign_status("reminder"))
    await client.aclose()
    received = Counter(m.chat_id for m in fake.sent)
    uncertain = {chat for chat in chats if split_stored(statuses[conversation_hash(f"tg:{chat}")])[0] == "sending"}
    # Claims in flight when Redis died are "uncertain" and not resent: a send may have gone out, or (when
    # the claim was written but its answer was lost with the server) not. Everyone else got exactly one.
    assert counts.sent + counts.uncertain == 300 and len(uncertain) == counts.uncertain <= 8
    assert {chat: received[chat] for chat in chats if chat not in uncertain} == {
        chat: 1 for chat in chats if chat not in uncertain
    }
    assert all(received[chat] <= 1 for chat in uncertain)
    assert set(received) <= set(chats)

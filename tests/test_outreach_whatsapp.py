"""Campaigns on WhatsApp: templates per language, the messaging tier, Meta's pauses, the delivery funnel."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from bot import keys
from bot.cli import main
from bot.consent import conversation_hash
from bot.errors import CampaignFileError
from bot.outreach.campaign import Campaign, load_campaign
from bot.outreach.cli import funnel_lines
from bot.outreach.rules import QuietHours, Status
from bot.outreach.sender import Broadcast
from bot.outreach.whatsapp import Tier, WhatsAppBroadcast
from bot.store import VoterStore
from tests.conftest import make_settings, redis_url
from tests.helpers import graph_api as wa
from tests.helpers.subscribers import add_subscribers
from tests.test_outreach_sender import AFTER, SCHEDULE

CAMPAIGN = """
name: {name}
election_material: false
message:
  hi: "क्या वोटर लिस्ट में आपका नाम है? - {{org_name}}"
  en: "Is your name on the voter list? - {{org_name}}"
window:
  start: 2029-04-01 09:00
  end: 2029-05-10 18:00
whatsapp:
  hi: {{name: check_your_name_hi, language: hi, parameters: [org_name, poll_date]}}
  en: {{name: check_your_name, language: en_US, parameters: [org_name, poll_date]}}
"""


def campaign_file(tmp_path: Path, name: str = "roll-check", text: str = CAMPAIGN) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text.format(name=name), encoding="utf-8")
    return path


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


class Sender:
    def __init__(self, redis: aioredis.Redis, graph: wa.FakeGraph, tier: int) -> None:
        self.redis = redis
        self.settings = make_settings(
            whatsapp_access_token=wa.TOKEN, whatsapp_phone_number_id=wa.PHONE_NUMBER_ID,
            whatsapp_app_secret=wa.APP_SECRET, whatsapp_verify_token=wa.VERIFY_TOKEN,
            whatsapp_api_url=graph.api_url, whatsapp_backoff_s=0.01,
        )  # fmt: skip
        self.store = VoterStore(redis, transcript_ttl_s=60, transcript_max_turns=10, dedup_ttl_s=60)
        self.clock = Clock()
        self.tier = Tier(redis, tier, clock=self.clock, poll_s=0.05)

    async def run(self, campaign: Campaign, *, wait: bool = False, stop: asyncio.Event | None = None):  # type: ignore[no-untyped-def]
        async with WhatsAppBroadcast(self.settings, self.redis, campaign.name) as whatsapp:
            broadcast = Broadcast(
                campaign, redis=self.redis, transport=None, voters=self.store, schedule=SCHEDULE,  # type: ignore[arg-type]
                quiet=QuietHours("00:00-00:00"), rate_per_s=5000.0, concurrency=16,
                values={"org_name": "Jan Sahayak", "org_url": "https://example.org"}, clock=lambda: AFTER,
                whatsapp=whatsapp, tier=self.tier,
            )  # fmt: skip
            return await broadcast.run(wait_quiet=wait, stop=stop)


@pytest.fixture
def sender(redis: aioredis.Redis, graph_api: wa.FakeGraph) -> Sender:
    return Sender(redis, graph_api, tier=1000)


def test_campaign_check_validates_the_templates(tmp_path: Path) -> None:
    campaign = load_campaign(campaign_file(tmp_path), SCHEDULE)
    assert campaign.whatsapp is not None and campaign.whatsapp.get("en").language == "en_US"  # type: ignore[union-attr]
    no_english = CAMPAIGN.replace(
        "  en: {{name: check_your_name, language: en_US, parameters: [org_name, poll_date]}}\n", ""
    )
    with pytest.raises(CampaignFileError, match="no template for en"):
        load_campaign(campaign_file(tmp_path, "a", no_english), SCHEDULE)
    with pytest.raises(CampaignFileError, match="unknown parameter 'epic'"):
        load_campaign(campaign_file(tmp_path, "b", CAMPAIGN.replace("org_name, poll_date]}}\n  en", "epic]}}\n  en")),
                      SCHEDULE)  # fmt: skip
    with pytest.raises(CampaignFileError, match="whatsapp.hi.name"):
        load_campaign(campaign_file(tmp_path, "c", CAMPAIGN.replace("check_your_name_hi", "Check Your Name")), SCHEDULE)


async def test_2000_subscribers_on_a_tier_of_1000_get_one_template_each_across_two_windows(
    sender: Sender, redis: aioredis.Redis, graph_api: wa.FakeGraph, tmp_path: Path
) -> None:
    chats = await add_subscribers(redis, 2000, first_chat=919_800_000_000, channel="whatsapp", constituency="Lucknow")
    campaign = load_campaign(campaign_file(tmp_path), SCHEDULE)
    first = await sender.run(campaign)
    assert first.sent == 1000 and first.by_status[Status.HELD_TIER.value] == 1000
    hindi = next(s.body for s in graph_api.sent if s.to == str(chats[0]))
    assert hindi["type"] == "template" and hindi["messaging_product"] == "whatsapp"
    assert hindi["template"]["name"] == "check_your_name_hi" and hindi["template"]["language"] == {"code": "hi"}
    parameters = hindi["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == [
        "Jan Sahayak",
        SCHEDULE.for_constituency("Lucknow").poll_date.strftime("%d-%m-%Y"),
    ]  # type: ignore[union-attr]
    again = await sender.run(campaign)  # the tier's 24 h have not moved: nobody more, nobody twice
    assert again.sent == 1000 and len(graph_api.sent) == 1000

    # Unattended (--wait): it waits for the window to move, then finishes.
    task = asyncio.create_task(sender.run(campaign, wait=True))
    await asyncio.sleep(0.3)
    assert len(graph_api.sent) == 1000 and not task.done()
    sender.clock.now += 24 * 3600 + 1
    done = await asyncio.wait_for(task, 60)
    assert done.sent == 2000
    assert Counter(s.to for s in graph_api.sent) == Counter({str(chat): 1 for chat in chats})


async def test_error_131048_pauses_the_campaign_and_a_rerun_resumes_without_duplicates(
    sender: Sender, redis: aioredis.Redis, graph_api: wa.FakeGraph, tmp_path: Path
) -> None:
    chats = await add_subscribers(redis, 40, first_chat=919_700_000_000, channel="whatsapp", constituency="Lucknow")
    graph_api.fail_for[str(chats[5])] = [131048]
    campaign = load_campaign(campaign_file(tmp_path), SCHEDULE)
    counts = await sender.run(campaign)
    facts = await redis.hgetall(keys.campaign(campaign.name))
    assert facts["paused"].startswith("WhatsApp error 131048")
    assert counts.sent < 40 and str(chats[5]) not in {s.to for s in graph_api.sent}
    rerun = await sender.run(campaign)
    assert rerun.sent == 40 and "paused" not in await redis.hgetall(keys.campaign(campaign.name))
    assert Counter(s.to for s in graph_api.sent) == Counter({str(chat): 1 for chat in chats})


async def test_status_webhooks_make_the_campaigns_delivery_funnel(
    sender: Sender, redis: aioredis.Redis, graph_api: wa.FakeGraph, make_whatsapp_gateway, tmp_path: Path
) -> None:
    chats = await add_subscribers(redis, 4, first_chat=919_600_000_000, channel="whatsapp", constituency="Lucknow")
    campaign = load_campaign(campaign_file(tmp_path), SCHEDULE)
    await sender.run(campaign)
    gw = await make_whatsapp_gateway()
    by_to = {s.to: s.wamid for s in graph_api.sent}
    hi, en = str(chats[0]), str(chats[1])
    statuses = [wa.status(by_to[hi], state, hi) for state in ("sent", "delivered", "read")]
    statuses += [wa.status(by_to[en], "sent", en), wa.status(by_to[en], "failed", en, error=131049)]
    assert (await gw.post(wa.webhook(wa.statuses_value(*statuses)))).status == 200
    funnel = await redis.hgetall(keys.campaign_funnel(campaign.name))
    assert funnel_lines(funnel) == [
        "WhatsApp en: sent 1, delivered 0, read 0, failed 1 (by error code: 131049: 1)",
        "WhatsApp hi: sent 1, delivered 1, read 1, failed 0",
    ]
    # Meta chose not to deliver (131049): the campaign pauses at its next send.
    assert (await redis.hgetall(keys.campaign(campaign.name)))["paused"].startswith("WhatsApp error 131049")


async def test_dry_run_needs_no_token_and_no_network(
    redis: aioredis.Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await add_subscribers(redis, 6, first_chat=919_500_000_000, channel="whatsapp")
    for name in ("WHATSAPP_ACCESS_TOKEN", "TELEGRAM_BOT_TOKEN", "SAMVAD_TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", redis_url())
    monkeypatch.setenv("SAMVAD_QUIET_HOURS", "00:00-00:00")  # no quiet hours, whatever the time of the run
    path = campaign_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace("2029-04-01 09:00", "2026-01-01 09:00")
    path.write_text(text, encoding="utf-8")
    assert await asyncio.to_thread(main, ["campaign", "send", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "audience: 6  would send now: 6" in out


async def test_a_killed_whatsapp_campaign_rerun_sends_nobody_twice(
    redis: aioredis.Redis, graph_api: wa.FakeGraph, tmp_path: Path
) -> None:
    from tests.test_outreach_cli import cli, start

    chats = await add_subscribers(redis, 400, first_chat=919_400_000_000, channel="whatsapp", constituency="Lucknow")
    path = campaign_file(tmp_path, text=CAMPAIGN.replace("2029-04-01 09:00", "2026-01-01 09:00"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMVAD_", "WHATSAPP_", "TELEGRAM_"))}
    env.update({"REDIS_URL": redis_url(), "SAMVAD_QUIET_HOURS": "00:00-00:00", "WHATSAPP_TIER": "0",
                "WHATSAPP_ACCESS_TOKEN": wa.TOKEN, "WHATSAPP_PHONE_NUMBER_ID": wa.PHONE_NUMBER_ID,
                "WHATSAPP_APP_SECRET": wa.APP_SECRET, "WHATSAPP_VERIFY_TOKEN": wa.VERIFY_TOKEN,
                "WHATSAPP_API_URL": graph_api.api_url})  # fmt: skip
    proc = await start(env, "send", str(path), "--rate", "100")
    while len(graph_api.sent) < 100:
        await asyncio.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # no chance to finish the sends in flight
    await proc.wait()
    code, _, err = await cli(env, "send", str(path), "--rate", "400")
    assert code == 0, err
    got = Counter(s.to for s in graph_api.sent)
    assert max(got.values()) == 1  # nobody twice
    statuses = await redis.hgetall(keys.campaign_status("roll-check"))
    uncertain = [c for c in chats if statuses.get(conversation_hash(f"wa:{c}")) == "sending"]
    assert len(uncertain) <= 16 and all(got[str(c)] == 1 for c in chats if c not in uncertain)

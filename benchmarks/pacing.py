"""Broadcast pacing: the campaign sender's achieved rate over its configured rate.

The real sender (bot/outreach/sender.py) and its Telegram transport send one campaign to
subscribers written into Redis, through the local Bot API stand-in, which timestamps every
message. Achieved rate = (messages - 1) / (last - first send).

    .venv/bin/python -m benchmarks.pacing [--subscribers 300] [--rate 30] [--redis-url redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from bot.settings import ROOT, Settings
from tests.helpers.subscribers import add_subscribers
from tests.helpers.telegram_api import FakeTelegram


async def measure(
    redis_url: str, *, quick: bool = False, subscribers: int | None = None, rate: float | None = None
) -> dict[str, Any]:
    # Imported here: the sender is new, and a missing one must not break the other benchmarks.
    from bot.channels.telegram import TelegramBroadcast
    from bot.outreach.campaign import Campaign
    from bot.outreach.rules import QuietHours
    from bot.outreach.sender import Broadcast, now_ist
    from bot.schedule import Schedule
    from bot.store import VoterStore

    count = subscribers or (60 if quick else 300)
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    fake = FakeTelegram()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    settings = Settings(
        redis_url=redis_url,
        telegram_bot_token=fake.token,
        telegram_api_url=str(server.make_url("")).rstrip("/"),
        **({"outreach_rate_per_s": rate} if rate else {}),
    )
    schedule = Schedule.load(ROOT / "data" / "schedule.yml")
    now = now_ist()
    campaign = Campaign.model_validate(
        {
            "name": "bench-pacing",
            "election_material": False,
            "message": {"hi": "नमस्ते, यह एक जाँच संदेश है।", "en": "Hello, this is a test message."},
            "window": {"start": now - timedelta(days=1), "end": now + timedelta(days=1)},
        },
        context={"schedule": schedule},
    )
    await add_subscribers(redis, count, first_chat=500_000)
    store = VoterStore(redis, transcript_ttl_s=60, transcript_max_turns=10, dedup_ttl_s=60)
    try:
        async with TelegramBroadcast(settings) as transport:
            broadcast = Broadcast(
                campaign, redis=redis, transport=transport, voters=store, schedule=schedule,
                quiet=QuietHours("00:00-00:00"), rate_per_s=settings.outreach_rate_per_s,
                concurrency=settings.outreach_concurrency, values={"org_name": "Samvad", "org_url": settings.org_url},
            )  # fmt: skip
            await broadcast.run()
    finally:
        await server.close()
        await redis.flushdb()
        await redis.aclose()
    times = sorted(m.at for m in fake.sent)
    achieved = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    configured = settings.outreach_rate_per_s
    return {
        "messages": len(times),
        "subscribers": count,
        "configured_per_s": configured,
        "achieved_per_s": round(achieved, 3),
        "ratio": round(achieved / configured, 3),
        "seconds": round(times[-1] - times[0], 3) if times else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=300)
    parser.add_argument("--rate", type=float, help="msgs/s (default: the outreach_rate_per_s setting)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    args = parser.parse_args()
    result = asyncio.run(measure(args.redis_url, subscribers=args.subscribers, rate=args.rate))
    print(json.dumps(result))
    rates = f"{result['achieved_per_s']:.2f} / {result['configured_per_s']:.2f} msgs/s"
    print(f"broadcast pacing: {rates} = {result['ratio']:.3f}")


if __name__ == "__main__":
    main()

"""Hand-off latency: a voter's Telegram message in, until it shows in the agent's console websocket.

Real parts: the gateway app in-process on loopback, the real Redis, a logged-in agent's websocket.
Only Telegram's servers are the local stand-in. Prints p50/p99 in milliseconds.

    .venv/bin/python -m benchmarks.handoff_latency [--messages 500] [--voters 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import aiohttp
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from bot import keys, logs
from bot.app import create_app
from bot.console.accounts import Accounts, Role
from bot.conversation import Conversations
from bot.handoff import HandoffReason, HandoffSignal
from bot.settings import Settings
from tests.helpers.telegram_api import FakeTelegram, text_update

SECRET = "bench-secret-0123456789"
PASSWORD = "bench password 123"


async def run(messages: int, voters: int, redis_url: str) -> dict[str, float]:
    redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
    await redis.flushdb()
    fake = FakeTelegram()
    tg = TestServer(fake.app(), host="127.0.0.1")
    await tg.start_server()
    settings = Settings(
        redis_url=redis_url,
        rasa_url="http://127.0.0.1:9",
        telegram_bot_token=fake.token,
        telegram_api_url=str(tg.make_url("")).rstrip("/"),
        webhook_secret=SECRET,
        chat_interval_s=0,
        agent_hours="00:00-00:00",
        log_level="WARNING",
    )
    gateway = TestServer(create_app(settings), host="127.0.0.1")
    await gateway.start_server()
    base = str(gateway.make_url("")).rstrip("/")
    settings_origin = settings.public_url

    queue = Conversations(redis)
    await Accounts(redis).add("bench", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=voters)
    for n in range(voters):
        conv = f"tg:{7000000 + n}"
        await redis.hset(keys.voter(conv), mapping={"channel": "telegram", "chat_id": conv[3:], "language": "hi"})
        await queue.hand_off(conv, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
        await queue.take_next("bench", ["hi"])

    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        login = {"name": "bench", "password": PASSWORD}  # from the console's page, as the CSRF guard wants
        await http.post(f"{base}/console/api/login", json=login, headers={"Origin": settings_origin})
        ws = await http.ws_connect(f"{base}/console/ws", headers={"Origin": settings_origin})
        await ws.receive_json()  # queue figures

        async def listen() -> None:
            async for frame in ws:
                event = json.loads(frame.data)
                if event.get("type") == "voter_message" and event["text"] in sent_at:
                    latencies.append((time.perf_counter() - sent_at.pop(event["text"])) * 1000)
                    if len(latencies) == messages:
                        done.set()

        listener = asyncio.create_task(listen())
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for n in range(messages):
            text = f"संदेश {n}"
            sent_at[text] = time.perf_counter()
            update = text_update(10_000 + n, 7000000 + n % voters, text)
            async with http.post(f"{base}/telegram/webhook", json=update, headers=headers) as resp:
                assert resp.status == 200
            await asyncio.sleep(0.005)  # ~200 msgs/s offered, well below saturation
        await asyncio.wait_for(done.wait(), 60)
        listener.cancel()
        await ws.close()
    await gateway.close()
    await tg.close()
    await redis.flushdb()
    await redis.aclose()
    ordered = sorted(latencies)
    return {
        "messages": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--voters", type=int, default=20)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    logs.configure("WARNING")  # the in-process gateway's info lines would bury the figures
    result = asyncio.run(run(args.messages, args.voters, args.redis_url))
    print(json.dumps(result))
    figures = f"p50: {result['p50_ms']:.2f} ms  p99: {result['p99_ms']:.2f} ms"
    print(f"hand-off latency {figures}  ({result['messages']} messages)")


if __name__ == "__main__":
    main()

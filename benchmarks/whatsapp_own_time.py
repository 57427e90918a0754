"""The WhatsApp channel's own time per message, beside Telegram's, in one process against one real Rasa.

Both channels run in the same gateway (in-process, the Graph API and Bot API stand-ins of the tests),
each voter's messages one at a time, each after the reply to the last, with the message mix of
`make bench` (benchmarks/messages.py). The figure is the gateway's own-time histogram
(`samvad_gateway_own_seconds`: webhook in to last reply out, minus the waits for Rasa and the
platform), split by channel by reading it before and after each channel's run.

    .venv/bin/python -m benchmarks.whatsapp_own_time --redis-url redis://127.0.0.1:6393 --messages 300
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any

import redis.asyncio as aioredis
from aiohttp.test_utils import TestClient, TestServer

from benchmarks.messages import mix
from bot import metrics
from bot.app import ROUTER, create_app
from bot.devstack import Stack, free_port
from bot.settings import ROOT, Settings
from tests.helpers import graph_api as wa
from tests.helpers.telegram_api import FakeTelegram, text_update

TOKEN = "bench-rasa-token"


def buckets() -> dict[float, float]:
    """The own-time histogram: cumulative count per upper bound (seconds)."""
    found: dict[float, float] = {}
    for family in metrics.GATEWAY_OWN.collect():
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                found[float(sample.labels["le"])] = sample.value
    return found


def quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    delta = {le: after[le] - before.get(le, 0.0) for le in sorted(after)}
    total = delta[float("inf")]
    previous_le, previous = 0.0, 0.0
    for le, count in delta.items():
        if count >= q * total:
            if le == float("inf"):
                return previous_le * 1000
            share = (q * total - previous) / max(count - previous, 1e-9)
            return round((previous_le + share * (le - previous_le)) * 1000, 2)  # linear inside the bucket, ms
        previous_le, previous = le, count
    return float("nan")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    base = args.redis_url.rstrip("/")
    stack = Stack(log_dir=ROOT / ".run" / "bench-whatsapp")
    graph, telegram = wa.FakeGraph(), FakeTelegram()
    servers = [TestServer(graph.app(), host="127.0.0.1"), TestServer(telegram.app(), host="127.0.0.1")]
    try:
        for db in (11, 12):
            await aioredis.Redis.from_url(f"{base}/{db}").flushdb()
        actions = stack.start_actions(free_port(), f"{base}/11")
        rasa = stack.start_rasa(free_port(), TOKEN, f"{base}/11", actions, rasa_db=12)
        for server in servers:
            await server.start_server()
        graph.base_url = str(servers[0].make_url("")).rstrip("/")
        settings = Settings(
            redis_url=f"{base}/11", rasa_url=rasa, rasa_token=TOKEN, rasa_tracker_redis_url=f"{base}/12",  # type: ignore[arg-type]
            telegram_bot_token=telegram.token, telegram_api_url=str(servers[1].make_url("")).rstrip("/"),  # type: ignore[arg-type]
            webhook_secret="bench-secret", chat_interval_s=0.0, agent_hours="00:00-00:00",  # type: ignore[arg-type]
            whatsapp_access_token=wa.TOKEN, whatsapp_phone_number_id=wa.PHONE_NUMBER_ID,  # type: ignore[arg-type]
            whatsapp_app_secret=wa.APP_SECRET, whatsapp_verify_token=wa.VERIFY_TOKEN, whatsapp_api_url=graph.api_url,  # type: ignore[arg-type]
        )  # fmt: skip
        client = TestClient(TestServer(create_app(settings), host="127.0.0.1"))
        await client.start_server()
        lanes = client.server.app[ROUTER].lanes
        results: dict[str, Any] = {"messages_per_channel": args.messages}
        update_ids = itertools.count(1)

        async def whatsapp(voter: int, text: str) -> None:
            raw, headers = wa.signed(wa.webhook(wa.messages_value(str(voter), wa.text(text))))
            (await client.post("/whatsapp/webhook", data=raw, headers=headers)).release()

        async def tg(voter: int, text: str) -> None:
            headers = {"X-Telegram-Bot-Api-Secret-Token": "bench-secret"}
            update = text_update(next(update_ids), voter, text)
            (await client.post("/telegram/webhook", json=update, headers=headers)).release()

        rounds = [("warm-up", whatsapp), ("warm-up telegram", tg)]
        rounds += [(f"{name} {n}", post) for n in (1, 2) for name, post in (("whatsapp", whatsapp), ("telegram", tg))]
        for name, post in rounds:
            count = 30 if name.startswith("warm-up") else args.messages
            before, started, sent = buckets(), time.perf_counter(), 0
            voter = 919_000_000_000 + hash(name) % 1_000_000 * 100
            for script in mix():
                voter += 1
                for text in script.messages:
                    await post(voter, text)
                    await lanes.wait_idle()
                    sent += 1
                if sent >= count:
                    break
            after = buckets()
            results[name] = {"p50_ms": quantile(before, after, 0.5), "p99_ms": quantile(before, after, 0.99),
                             "messages": sent, "wall_s": round(time.perf_counter() - started, 1)}  # fmt: skip
            print(name, results[name], flush=True)
        await client.close()
        return results
    finally:
        for server in servers:
            await server.close()
        stack.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--messages", type=int, default=300)
    results = asyncio.run(run(parser.parse_args()))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

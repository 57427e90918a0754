"""Hand-off durability with real processes: a Redis restart, a killed gateway, two gateways racing."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp.test_utils import TestServer

from bot import keys
from bot.console.accounts import Accounts, Role
from bot.conversation import Conversations
from bot.devstack import Stack, free_port, wait_for_http
from bot.handoff import HandoffReason, HandoffSignal
from bot.settings import ROOT
from tests.conftest import WEBHOOK_SECRET, redis_url
from tests.helpers.telegram_api import FakeTelegram, text_update
from tests.helpers.voters import enqueue

PASSWORD = "correct horse battery"


def signal_for(language: str) -> HandoffSignal:
    return HandoffSignal(reason=HandoffReason.ASK_HUMAN, language=language)


async def queue_state(redis: aioredis.Redis) -> dict[str, object]:
    state: dict[str, object] = {}
    for language in ("hi", "en"):
        stream = keys.handoff_queue(language)
        state[f"{language}:entries"] = [fields["conversation_id"] for _, fields in await redis.xrange(stream)]
        pending = await redis.xpending_range(stream, keys.HANDOFF_GROUP, "-", "+", 1000)
        state[f"{language}:held"] = sorted((p["message_id"], p["consumer"]) for p in pending)
    return state


async def test_redis_restart_with_aof_loses_and_duplicates_nothing(own_redis) -> None:
    port, start, stop = own_redis
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
    queue = Conversations(client)
    for n in range(10):
        await enqueue(queue, f"tg:{n}", signal_for("hi" if n % 2 else "en"))
    taken = [await queue.take_next("asha", ["hi"]), await queue.take_next("ravi", ["en"])]
    before = await queue_state(client)
    await client.aclose()

    stop(signal.SIGKILL)  # a crash, not a clean shutdown: only the append-only file survives
    start()
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0", decode_responses=True)
    queue = Conversations(client)
    try:
        assert await queue_state(client) == before
        for assignment in taken:
            assert assignment is not None
            assert (await queue.assignment(assignment.conversation_id)).agent == assignment.agent  # type: ignore[union-attr]
        rest = []
        while (got := await queue.take_next("meera", ["hi", "en"])) is not None:
            rest.append(got.conversation_id)
        held = {a.conversation_id for a in taken if a}
        assert sorted(rest + list(held)) == sorted(f"tg:{n}" for n in range(10))
    finally:
        await client.aclose()


class GatewayProcess:
    """`python -m bot serve` as a real child process, serving the Telegram webhook and the console."""

    def __init__(self, stack: Stack, name: str, api_url: str, token: str, db_url: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name
        self.stack = stack
        self.env = {
            "SAMVAD_PORT": str(self.port),
            "SAMVAD_PUBLIC_URL": self.url,
            "REDIS_URL": db_url,
            "SAMVAD_RASA_URL": "http://127.0.0.1:9",
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_URL": api_url,
            "WEBHOOK_URL": self.url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SAMVAD_CHAT_INTERVAL_S": "0",
            "SAMVAD_AGENT_ABANDON_AFTER_S": "600",
            # These tests send a voter's 40 messages (and Telegram's redeliveries) at once: not a flood here.
            "SAMVAD_VOTER_MESSAGES_PER_WINDOW": "1000",
        }

    def start(self) -> None:
        self.stack.spawn(self.name, [sys.executable, "-m", "bot", "serve"], self.env)
        wait_for_http(f"{self.url}/healthz", self.name, 30, proc=self.stack.procs[self.name])

    def kill(self) -> None:
        self.stack.stop(self.name, signal.SIGKILL)


@pytest.fixture
async def fake_telegram():  # type: ignore[no-untyped-def]
    fake = FakeTelegram()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
def stack():  # type: ignore[no-untyped-def]
    stack = Stack(log_dir=ROOT / ".run" / "tests")
    yield stack
    stack.stop_all()


async def test_gateway_killed_mid_chat_keeps_the_assignment_and_every_acknowledged_message(
    redis, fake_telegram, stack
) -> None:
    fake, api_url = fake_telegram
    voter = 5551001
    conv = f"tg:{voter}"
    await redis.hset(keys.voter(conv), mapping={"channel": "telegram", "chat_id": str(voter), "language": "hi"})
    queue = Conversations(redis)
    await enqueue(queue, conv, signal_for("hi"))
    await queue.take_next("asha", ["hi"])

    gateway = GatewayProcess(stack, "gateway-kill", api_url, fake.token, redis_url())
    await asyncio.to_thread(gateway.start)
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    texts = [f"संदेश {n}" for n in range(40)]
    acknowledged: set[int] = set()

    async with aiohttp.ClientSession() as http:

        async def deliver(n: int) -> None:
            try:
                async with http.post(
                    f"{gateway.url}/telegram/webhook", json=text_update(100 + n, voter, texts[n]), headers=headers
                ) as resp:
                    if resp.status == 200:
                        acknowledged.add(n)
            except aiohttp.ClientError:
                pass  # Telegram would deliver it again

        sends = [asyncio.create_task(deliver(n)) for n in range(40)]
        await asyncio.sleep(0.05)
        gateway.kill()
        await asyncio.gather(*sends)

        await asyncio.to_thread(gateway.start)
        # Telegram redelivers whatever was not acknowledged; repeats of acknowledged ones are dropped.
        for n in range(40):
            async with http.post(
                f"{gateway.url}/telegram/webhook", json=text_update(100 + n, voter, texts[n]), headers=headers
            ) as resp:
                assert resp.status == 200
        for _ in range(300):  # a lane held by the killed process frees itself within the lease time
            turns = [json.loads(t) for t in await redis.lrange(keys.transcript(conv), 0, -1)]
            if len([t for t in turns if t["who"] == "voter"]) >= 40:
                break
            await asyncio.sleep(0.1)

    voter_turns = Counter(t["text"] for t in turns if t["who"] == "voter")
    assert set(voter_turns) == set(texts)
    assert max(voter_turns.values()) <= 2  # at-least-once: a message in flight at the kill may repeat once
    assert sum(voter_turns.values()) - 40 <= 1
    assignment = await queue.assignment(conv)
    assert assignment is not None and assignment.agent == "asha"
    assert await redis.hget(keys.voter(conv), "mode") == "agent"


async def test_two_gateways_200_handoffs_5_agents_no_double_assignment(redis, fake_telegram, stack) -> None:
    fake, api_url = fake_telegram
    queue = Conversations(redis)
    for n in range(200):
        conv = f"tg:{6000000 + n}"
        await redis.hset(keys.voter(conv), mapping={"channel": "telegram", "chat_id": conv[3:], "mode": "queued"})
        await enqueue(queue, conv, signal_for("hi" if n % 3 else "en"))
    accounts = Accounts(redis)
    for n in range(5):
        await accounts.add(f"agent{n}", PASSWORD, role=Role.AGENT, languages=["hi", "en"], capacity=500)
    gateways = [GatewayProcess(stack, f"gateway-{i}", api_url, fake.token, redis_url()) for i in range(2)]
    for gateway in gateways:
        await asyncio.to_thread(gateway.start)

    async def agent(n: int) -> list[str]:
        base = gateways[n % 2].url
        taken: list[str] = []
        # unsafe=True: keep cookies for an IP-address host such as 127.0.0.1.
        async with aiohttp.ClientSession(
            base_url=base, cookie_jar=aiohttp.CookieJar(unsafe=True), headers={"Origin": base}
        ) as http:
            async with http.post("/console/api/login", json={"name": f"agent{n}", "password": PASSWORD}) as resp:
                assert resp.status == 200
            while True:
                async with http.post("/console/api/take", json={}) as resp:
                    assert resp.status == 200, await resp.text()
                    chat = (await resp.json())["chat"]
                if chat is None:
                    return taken
                taken.append(chat["conversation_id"])

    results = await asyncio.gather(*(agent(n) for n in range(5)))
    everything = [conv for taken in results for conv in taken]
    assert len(everything) == 200 and len(set(everything)) == 200
    assert sum(1 for taken in results if taken) >= 2
    holders = {}
    for language in ("hi", "en"):
        for p in await redis.xpending_range(keys.handoff_queue(language), keys.HANDOFF_GROUP, "-", "+", 1000):
            holders[(language, p["message_id"])] = p["consumer"]
    assert len(holders) == 200

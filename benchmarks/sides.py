"""How the benchmark talks to each side: one voter message in, until its last reply is out.

A (stock): POST to Rasa's REST channel; the HTTP answer carries every reply.
B (Samvad): a Telegram update POSTed to the gateway's webhook (secret header, de-duplication,
state); the replies reach the local Bot API stand-in, and the exchange ends when the last reply
for that message arrived there. How many replies a message gets is learnt once per script in a
calibration pass that waits until the gateway's lane for the conversation is idle.
Agent mode: the same webhook, for voters an agent already holds; the exchange ends when the
message is published to the agent consoles (Redis pub/sub), with no Rasa involved.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from benchmarks.messages import SCRIPTS, Script
from bot import keys
from bot.devstack import free_port
from bot.language import Language, detect
from bot.models import Mode
from tests.helpers.telegram_api import FakeTelegram, text_update

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Update ids are unique per bot: one counter for every side in the process, as the gateways de-duplicate by id.
_UPDATE_IDS = itertools.count(1)


class StockSide:
    """Side A: Rasa's REST channel, straight.

    With `gateway_metadata`, each message carries what the gateway would add (channel, and the
    language it detects on the voter's first message): B's Rasa without the gateway in front.
    """

    def __init__(self, http: aiohttp.ClientSession, rasa_url: str, *, gateway_metadata: bool = False) -> None:
        self._http = http
        self._url = f"{rasa_url}/webhooks/rest/webhook"
        self._metadata = gateway_metadata
        self._languages: dict[str, str] = {}
        self.replies: collections.Counter[int] = collections.Counter()

    async def exchange(self, voter: str, script: Script, index: int) -> None:
        text = script.messages[index]
        body: dict[str, Any] = {"sender": f"bench-{voter}", "message": text}
        if self._metadata:
            language = self._languages.setdefault(voter, (detect(text) or Language.HI).value)
            body["metadata"] = {"channel": "telegram", "language": language}
        async with self._http.post(self._url, json=body) as resp:
            if resp.status != 200:
                raise RuntimeError(f"rasa answered {resp.status}")
            replies = await resp.json()
        self.replies[len(replies)] += 1


@dataclass
class CountingTelegram(FakeTelegram):
    """The Bot API stand-in, also waking whoever waits for a chat's n-th message."""

    counts: collections.Counter[int] = field(default_factory=collections.Counter)
    waiters: dict[int, tuple[int, asyncio.Future[None]]] = field(default_factory=dict)
    keep_messages: bool = False

    async def _m_sendmessage(self, params: dict[str, Any]) -> web.Response:
        response = await super()._m_sendmessage(params)
        if not self.keep_messages:  # a long run would otherwise keep every message it saw
            self.sent.clear()
            self.calls.clear()
        chat = int(params["chat_id"])
        self.counts[chat] += 1
        waiter = self.waiters.get(chat)
        if waiter is not None and self.counts[chat] >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)
        return response


async def serve_bot_api(telegram: CountingTelegram) -> tuple[web.AppRunner, str]:
    """Start the Bot API stand-in on this loop, on a free port; returns its runner and URL."""
    runner = web.AppRunner(telegram.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


class SamvadSide:
    """Side B: Telegram updates into the gateway, replies counted at the Bot API stand-in."""

    def __init__(
        self, http: aiohttp.ClientSession, gateway_url: str, secret: str, telegram: CountingTelegram, redis_url: str
    ) -> None:
        self._http = http
        self._url = f"{gateway_url}/telegram/webhook"
        self._headers = {SECRET_HEADER: secret}
        self.telegram = telegram
        self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        # script name -> replies expected for each of its messages
        self.expected: dict[str, list[int]] = {}

    async def post(self, chat_id: int, text: str) -> None:
        update = text_update(next(_UPDATE_IDS), chat_id, text)
        async with self._http.post(self._url, json=update, headers=self._headers) as resp:
            if resp.status != 200:
                raise RuntimeError(f"gateway answered {resp.status}")
            await resp.read()

    async def exchange(self, voter: str, script: Script, index: int) -> None:
        chat = int(voter)
        expected = self.expected[script.name][index]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.telegram.waiters[chat] = (self.telegram.counts[chat] + expected, future)
        try:
            await self.post(chat, script.messages[index])
            if expected:
                await future
            else:
                await self._lane_idle(chat)
        finally:
            self.telegram.waiters.pop(chat, None)

    async def _lane_idle(self, chat: int, timeout_s: float = 30.0) -> None:
        conversation = f"tg:{chat}"
        deadline = asyncio.get_running_loop().time() + timeout_s
        while await self._redis.exists(keys.inbox(conversation), keys.lane_lock(conversation)):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"lane of {conversation} still busy")
            await asyncio.sleep(0.005)

    async def calibrate(self, first_chat: int) -> dict[str, list[int]]:
        """Send every script once, waiting for the lane to go idle; remember the reply counts."""
        for n, script in enumerate(SCRIPTS):
            chat = first_chat + n
            counts = []
            for text in script.messages:
                before = self.telegram.counts[chat]
                await self.post(chat, text)
                await self._lane_idle(chat)
                counts.append(self.telegram.counts[chat] - before)
            self.expected[script.name] = counts
        return self.expected

    async def close(self) -> None:
        await self._redis.aclose()


class AgentModeSide:
    """The gateway alone: voters an agent holds, so messages go to the consoles, not to Rasa."""

    def __init__(self, samvad: SamvadSide, redis_url: str) -> None:
        self._samvad = samvad
        self._redis = aioredis.Redis.from_url(redis_url, decode_responses=True)
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._counter = itertools.count()

    async def start(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(keys.CONSOLE_EVENTS)
        ready = asyncio.Event()

        async def listen() -> None:
            ready.set()
            async for frame in pubsub.listen():
                if frame.get("type") != "message":
                    continue
                event = json.loads(frame["data"])
                future = self._waiting.pop(str(event.get("text")), None)
                if future is not None and not future.done():
                    future.set_result(None)

        self._listener = asyncio.create_task(listen())
        await ready.wait()

    async def exchange(self, voter: str, script: Script, index: int) -> None:
        conversation = f"tg:{voter}"
        if index == 0:  # an agent took this voter over before they wrote
            mapping = {"channel": "telegram", "chat_id": voter, "language": "hi", "mode": Mode.AGENT.value}
            await self._redis.hset(keys.voter(conversation), mapping=mapping)
        text = f"{script.messages[index]} #{next(self._counter)}"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[text] = future
        try:
            await self._samvad.post(int(voter), text)
            await future
        finally:
            self._waiting.pop(text, None)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        await self._redis.aclose()

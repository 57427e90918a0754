"""Sending to Telegram: flood limits are waited out, blocked voters are marked, long polling works."""

from __future__ import annotations

import time

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY

from bot import keys
from bot.app import TELEGRAM, create_app
from bot.models import Button, Channel, OutboundMessage
from tests.conftest import make_settings
from tests.helpers.telegram_api import text_update


async def test_retry_after_is_honoured_and_nothing_is_dropped(make_gateway) -> None:
    gw = await make_gateway()
    gw.telegram.fail_next["sendMessage"] = [("retry_after", 1), ("retry_after", 1)]
    throttled_before = REGISTRY.get_sample_value("samvad_throttled_total", {"channel": "telegram"}) or 0.0
    started = time.monotonic()
    message = OutboundMessage(
        channel=Channel.TELEGRAM, chat_id="5550301", text="नमस्ते", buttons=[Button(title="A", payload="/a")]
    )
    await gw.app[TELEGRAM].send(message)
    waited = time.monotonic() - started
    assert gw.telegram.texts_to(5550301) == ["नमस्ते"]
    assert gw.telegram.too_many == 2 and waited >= 1.5
    assert REGISTRY.get_sample_value("samvad_throttled_total", {"channel": "telegram"}) == throttled_before + 2


async def test_blocked_voter_is_marked_unreachable(make_gateway, redis) -> None:
    gw = await make_gateway()
    gw.telegram.blocked_chats.add(5550302)
    await gw.app[TELEGRAM].send(OutboundMessage(channel=Channel.TELEGRAM, chat_id="5550302", text="hi"))
    assert await redis.hget(keys.voter("tg:5550302"), "unreachable") == "1"


async def test_long_text_is_split_under_telegrams_limit(make_gateway) -> None:
    gw = await make_gateway()
    text = ("मतदान केंद्र की जानकारी " * 400).strip()
    await gw.app[TELEGRAM].send(OutboundMessage(channel=Channel.TELEGRAM, chat_id="5550303", text=text))
    parts = gw.telegram.texts_to(5550303)
    assert len(parts) >= 3 and all(len(p) <= 4096 for p in parts)
    assert " ".join(parts).split() == text.split()


async def test_long_polling_receives_updates(telegram_api, redis) -> None:
    fake, api_url = telegram_api
    settings = make_settings(
        telegram_bot_token=fake.token, telegram_api_url=api_url, rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0
    )
    async with TestClient(TestServer(create_app(settings, telegram_polling=True), host="127.0.0.1")):
        assert ("deleteWebhook", {}) in [(m, {}) for m, _ in fake.calls]
        await fake.updates.put(text_update(70, 5550304, "where is my booth"))
        sent = await fake.wait_for_messages(1, chat_id=5550304, timeout=15)
        assert "1950" in sent[0].text  # Rasa is down in this test: the English apology


async def test_webhook_is_registered_once_with_the_secret(make_gateway) -> None:
    gw = await make_gateway(webhook_url="https://bot.example.org")
    webhook_calls = [params for method, params in gw.telegram.calls if method == "setWebhook"]
    assert len(webhook_calls) == 1
    assert webhook_calls[0]["url"] == "https://bot.example.org/telegram/webhook"
    assert webhook_calls[0]["secret_token"] == "test-secret-xxxxxxxx"


async def test_of_several_replicas_only_one_registers_the_webhook(make_gateway) -> None:
    """Replicas that start together must not all call setWebhook (Telegram answers the rest with 429)."""
    first = await make_gateway(webhook_url="https://bot.example.org")
    for _ in range(3):
        await make_gateway(webhook_url="https://bot.example.org")
    assert [method for method, _ in first.telegram.calls].count("setWebhook") == 1
    await make_gateway(webhook_url="https://new.example.org")  # a deploy that moved the webhook registers it again
    assert [method for method, _ in first.telegram.calls].count("setWebhook") == 2

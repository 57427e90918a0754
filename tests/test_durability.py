"""Nothing is lost: unfinished inboxes are resumed, and a Redis outage makes Telegram redeliver."""

from __future__ import annotations

import asyncio
import json

import redis.asyncio as aioredis

from bot import keys
from bot.app import ROUTER
from bot.models import Channel, InboundMessage
from tests.helpers.telegram_api import text_update


async def test_inbox_left_by_a_dead_process_is_answered_at_start_up(redis, make_gateway) -> None:
    left = InboundMessage(channel=Channel.TELEGRAM, chat_id="5550101", text="hello there, where do I vote")
    await redis.rpush(keys.inbox(left.conversation_id), left.model_dump_json())
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    await gw.telegram.wait_for_messages(1, chat_id=5550101, timeout=10)
    await gw.idle()
    assert await redis.llen(keys.inbox(left.conversation_id)) == 0
    assert [json.loads(r)["text"] for r in await redis.lrange(keys.RETRY, 0, -1)] == [left.text]


async def test_redis_restart_makes_telegram_redeliver_and_nothing_is_lost(make_gateway, own_redis) -> None:
    port, start, stop = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    gw = await make_gateway(redis_url=url, rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    voter = 5550202
    assert (await gw.post_update(text_update(1, voter, "first message"))).status == 200
    await gw.idle()

    stop()
    during = await gw.post_update(text_update(2, voter, "sent while redis is down"))
    assert during.status == 503  # Telegram keeps the update and delivers it again

    start()
    await asyncio.sleep(0.2)
    redelivered = await gw.post_update(text_update(2, voter, "sent while redis is down"))
    assert redelivered.status == 200
    await gw.idle()
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        held = [json.loads(r)["text"] for r in await client.lrange(keys.RETRY, 0, -1)]
    finally:
        await client.aclose()
    assert held == ["first message", "sent while redis is down"]


async def test_conversations_an_older_gateway_left_paused_in_rasa_are_carried_over_at_start_up(
    redis, make_gateway
) -> None:
    """Gateways before the voter hash's "resume_pending" field kept these in a set; an upgrade must not
    leave them paused in Rasa. A voter erased since then gets no hash back."""
    known, erased = "tg:5550301", "tg:5550302"
    await redis.hset(keys.voter(known), mapping={"channel": "telegram", "chat_id": "5550301", "mode": "bot"})
    await redis.sadd(keys.LEGACY_RESUME_PENDING, known, erased)
    gw = await make_gateway()
    store = gw.app[ROUTER].store
    assert (await store.get(known)).resume_pending
    assert not await redis.exists(keys.voter(erased), keys.LEGACY_RESUME_PENDING)

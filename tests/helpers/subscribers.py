"""Subscribed voters written straight into Redis, as the consent action leaves them."""

from __future__ import annotations

import redis.asyncio as aioredis

from bot import keys


async def add_subscribers(
    redis: aioredis.Redis,
    count: int,
    *,
    first_chat: int = 100_000,
    language: str | None = None,
    constituency: str | None = None,
    channel: str = "telegram",
) -> list[int]:
    """``count`` subscribed voters with chat ids from ``first_chat``; languages alternate hi/en unless given."""
    chats = list(range(first_chat, first_chat + count))
    short = {"telegram": "tg", "webchat": "web", "whatsapp": "wa"}[channel]
    async with redis.pipeline(transaction=False) as pipe:
        for index, chat in enumerate(chats):
            conversation = f"{short}:{chat}"
            lang = language or ("hi", "en")[index % 2]
            pipe.hset(keys.voter(conversation), mapping={"channel": channel, "chat_id": str(chat), "language": lang})
            consent = {"state": "subscribed", "at": "2026-11-29T10:00:00+00:00", "channel": channel,
                       "language": lang, "notice_version": "1"}  # fmt: skip
            if constituency:
                consent["constituency"] = constituency
            pipe.hset(keys.consent(conversation), mapping=consent)
            pipe.sadd(keys.SUBSCRIBERS, conversation)
        await pipe.execute()
    return chats

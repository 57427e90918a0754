"""Voters as the gateway makes them, for tests that start below the router."""

from __future__ import annotations

from redis.asyncio import Redis

from bot import keys
from bot.conversation import Conversations
from bot.handoff import HandoffSignal
from bot.models import parse_conversation_id


async def make_voter(redis: Redis, conversation_id: str, language: str = "hi") -> None:
    """A voter hash like the one a first message creates (mode bot)."""
    channel, chat_id = parse_conversation_id(conversation_id)
    fields = {"channel": channel.value, "chat_id": chat_id, "mode": "bot", "language": language, "first_seen": "0"}
    for field, value in fields.items():
        await redis.hsetnx(keys.voter(conversation_id), field, value)


async def enqueue(conversations: Conversations, conversation_id: str, signal: HandoffSignal) -> str:
    """A known voter, handed off to people."""
    await make_voter(conversations.redis, conversation_id, signal.language)
    return await conversations.hand_off(conversation_id, signal)

"""The human queue: conversations the assistant handed over, one Redis stream per language."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot import keys, metrics
from bot.handoff import HandoffSignal


class HandoffQueue:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def enqueue(self, conversation_id: str, signal: HandoffSignal) -> str:
        """Put a conversation on its language's queue; returns the stream entry id."""
        entry_id: str = await self.redis.xadd(
            keys.handoff_queue(signal.language),
            {
                "conversation_id": conversation_id,
                "reason": signal.reason.value,
                "topic": signal.topic or "",
                "queued_at": str(time.time()),
            },
        )
        await self.refresh_depth(signal.language)
        return entry_id

    async def depth(self, language: str) -> int:
        return int(await self.redis.xlen(keys.handoff_queue(language)))

    async def refresh_depth(self, language: str) -> None:
        metrics.HANDOFF_DEPTH.labels(language).set(await self.depth(language))

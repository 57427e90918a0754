"""A waiting voter's place in the queue: told on arrival, and again when it changed meaningfully."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis

from bot import keys
from bot.handoff.queue import HandoffQueue
from bot.language import Language
from bot.outbox import Outbox, TurnBatch
from bot.store import VoterProfile, VoterStore
from bot.texts import Texts


class Positions:
    def __init__(self, redis: Redis, queue: HandoffQueue, store: VoterStore, outbox: Outbox, texts: Texts) -> None:
        self.redis = redis
        self.queue = queue
        self.store = store
        self.outbox = outbox
        self.texts = texts

    async def tell(
        self,
        profile: VoterProfile,
        language: Language,
        position: int | None = None,
        *,
        batch: TurnBatch | None = None,
    ) -> float | None:
        """Tell a waiting voter their place and the estimated wait; returns the wait (None if not waiting)."""
        if position is None:
            position = await self.queue.position(profile.conversation_id)
        if position is None:
            return None
        wait_s = await self.queue.estimated_wait_s(position, language.value)
        minutes = max(1, round(wait_s / 60))
        text = self.texts.get("handoff_position", language.value).format(position=position, minutes=minutes)
        await self.outbox.send(profile, language, text, batch=batch)
        await self.redis.hset(keys.voter(profile.conversation_id), "told_position", str(position))
        return wait_s

    async def update(self) -> int:
        """Tell waiting voters their new place when it halved, or they are next; returns how many were told."""
        told_count = 0
        for language in self.queue.languages:
            # One read of the queue gives every place; asking each voter's position would rescan it per voter.
            waiting = await self.queue.waiting(language)
            for position, conversation_id in enumerate(waiting, start=1):
                told = int(cast(str | None, await self.redis.hget(keys.voter(conversation_id), "told_position")) or 0)
                if not told or not (position * 2 <= told or position == 1 < told):
                    continue
                profile = await self.store.get(conversation_id)
                if profile is not None:
                    await self.tell(profile, Language(language), position)
                    told_count += 1
        return told_count

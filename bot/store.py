"""Voter state in Redis: profile, conversation mode, transcript and de-duplication."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from bot import keys
from bot.language import Language
from bot.models import Channel, InboundMessage, Mode


class VoterProfile(BaseModel):
    conversation_id: str
    channel: Channel
    chat_id: str
    language: Language | None = None
    # True once the voter chose a language; then detection no longer changes it.
    language_locked: bool = False
    mode: Mode = Mode.BOT
    first_seen: float = 0.0
    unreachable: bool = False

    @property
    def is_new(self) -> bool:
        return self.language is None


class VoterStore:
    def __init__(self, redis: Redis, *, transcript_ttl_s: int, transcript_max_turns: int, dedup_ttl_s: int) -> None:
        self.redis = redis
        self._transcript_ttl_s = transcript_ttl_s
        self._transcript_max_turns = transcript_max_turns
        self.dedup_ttl_s = dedup_ttl_s

    async def profile(self, message: InboundMessage) -> VoterProfile:
        """The voter's profile, created on first contact."""
        key = keys.voter(message.conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "channel", message.channel.value)
            pipe.hsetnx(key, "chat_id", message.chat_id)
            pipe.hsetnx(key, "first_seen", str(message.received_at))
            pipe.hsetnx(key, "mode", Mode.BOT.value)
            pipe.hgetall(key)
            *_, raw = await pipe.execute()
        return _profile(message.conversation_id, raw)

    async def get(self, conversation_id: str) -> VoterProfile | None:
        raw = await self.redis.hgetall(keys.voter(conversation_id))
        return _profile(conversation_id, raw) if raw else None

    async def set_language(self, conversation_id: str, language: Language, *, locked: bool) -> None:
        fields = {"language": language.value}
        if locked:
            fields["language_locked"] = "1"
        await self.redis.hset(keys.voter(conversation_id), mapping=fields)

    async def set_mode(self, conversation_id: str, mode: Mode) -> None:
        await self.redis.hset(keys.voter(conversation_id), "mode", mode.value)

    async def mark_unreachable(self, conversation_id: str) -> None:
        await self.redis.hset(keys.voter(conversation_id), "unreachable", "1")

    async def erase(self, conversation_id: str) -> None:
        """Remove every key with the voter's personal data (see ``keys.personal``)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*keys.personal(conversation_id))
            pipe.srem(keys.SUBSCRIBERS, conversation_id)
            pipe.srem(keys.VOLUNTEERS, conversation_id)
            pipe.srem(keys.RESUME_PENDING, conversation_id)
            await pipe.execute()

    async def add_turn(self, conversation_id: str, who: str, text: str, **extra: Any) -> None:
        """Append one turn (voter, bot or agent) to the conversation's transcript."""
        turn = json.dumps({"who": who, "text": text, "at": time.time(), **extra}, ensure_ascii=False)
        key = keys.transcript(conversation_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, turn)
            pipe.ltrim(key, -self._transcript_max_turns, -1)
            pipe.expire(key, self._transcript_ttl_s)
            await pipe.execute()

    async def transcript(self, conversation_id: str, last: int = 50) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(keys.transcript(conversation_id), -last, -1)
        return [json.loads(item) for item in raw]

    async def first_delivery(self, update_id: int) -> bool:
        """True the first time an update id is seen, False on every redelivery."""
        return bool(await self.redis.set(keys.telegram_update(update_id), "1", nx=True, ex=self.dedup_ttl_s))


def _profile(conversation_id: str, raw: dict[str, str]) -> VoterProfile:
    return VoterProfile(
        conversation_id=conversation_id,
        channel=Channel(raw["channel"]),
        chat_id=raw["chat_id"],
        language=Language(raw["language"]) if raw.get("language") else None,
        language_locked=raw.get("language_locked") == "1",
        mode=Mode(raw.get("mode") or Mode.BOT.value),
        first_seen=float(raw.get("first_seen") or 0),
        unreachable=raw.get("unreachable") == "1",
    )

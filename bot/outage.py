"""While Rasa is down: hold voter messages, replay them without loss once it is back, escalate long waits.

Held messages sit in a Redis list. A replay moves one at a time into a processing list (LMOVE), puts it
back in its conversation's inbox, and only then removes it from the processing list; a replay a crash
interrupted starts by carrying the processing list back. A message put back twice reaches its inbox once
(a per-message once-key). Messages held longer than ``SAMVAD_RETRY_MAX_AGE_S`` go to the dead letters.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import cast

import structlog
from redis.asyncio import Redis

from bot import keys
from bot.deadletters import DeadKind, DeadLetters
from bot.handoff import HandoffReason, HandoffSignal
from bot.lanes import Lanes
from bot.language import Language
from bot.models import InboundMessage, Mode
from bot.rasa_client import RasaClient
from bot.store import VoterProfile, VoterStore

log = structlog.get_logger(__name__)

HandOff = Callable[[VoterProfile, HandoffSignal], Awaitable[None]]


def held_id(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


class Outage:
    def __init__(
        self,
        redis: Redis,
        *,
        rasa: RasaClient,
        lanes: Lanes,
        store: VoterStore,
        dead: DeadLetters,
        escalate_after_s: float,
        max_age_s: float,
    ) -> None:
        self.redis = redis
        self.rasa = rasa
        self.lanes = lanes
        self.store = store
        self.dead = dead
        self._escalate_after_s = escalate_after_s
        self._max_age_s = max_age_s

    async def hold(self, message: InboundMessage) -> None:
        """Keep a message Rasa could not answer, to replay it later."""
        await self.redis.rpush(keys.RETRY, message.model_dump_json())

    async def replay(self) -> int:
        """Put held messages back in their inboxes once Rasa answers again; returns how many."""
        await self._recover()
        moved = 0
        while await self.redis.llen(keys.RETRY) and await self.rasa.ready():
            raw = cast(str | None, await self.redis.lmove(keys.RETRY, keys.RETRY_PROCESSING, "LEFT", "RIGHT"))
            if raw is None:
                break
            moved += await self._put_back(raw)
            await self.redis.lrem(keys.RETRY_PROCESSING, 1, raw)  # only once it is safe in its inbox
        if moved:
            log.info("replayed held messages", count=moved)
        return moved

    async def _put_back(self, raw: str) -> int:
        try:
            message = InboundMessage.model_validate_json(raw)
        except ValueError:
            await self.dead.record(DeadKind.INBOUND, "", raw=raw, text=raw[:200], reason="held message unreadable")
            return 0
        conversation_id = message.conversation_id
        if time.time() - message.received_at > self._max_age_s:
            await self.dead.record(
                DeadKind.INBOUND, conversation_id, raw=raw, text=message.text, reason="held too long"
            )
            return 0
        profile = await self.store.get(conversation_id)
        if profile is None:
            return 0  # erased meanwhile
        if profile.mode is not Mode.BOT:
            return 0  # people took the conversation during the outage; the transcript has the message
        return int(await self.lanes.submit(conversation_id, raw, once=f"replay:{held_id(raw)}"))

    async def _recover(self) -> None:
        """Messages a crashed replay left in the processing list go back to the head of the held list."""
        while await self.redis.lmove(keys.RETRY_PROCESSING, keys.RETRY, "RIGHT", "LEFT") is not None:
            pass

    async def escalate(self, hand_off: HandOff) -> int:
        """Rasa has been down too long: hand conversations with held messages to people."""
        held = []
        for raw in cast(list[str], await self.redis.lrange(keys.RETRY, 0, -1)):
            try:
                held.append(InboundMessage.model_validate_json(raw))
            except ValueError:
                continue
        due = {m.conversation_id for m in held if time.time() - m.received_at > self._escalate_after_s}
        if not due or await self.rasa.ready():
            return 0
        escalated = 0
        for conversation_id in sorted(due):
            profile = await self.store.get(conversation_id)
            if profile is None or profile.mode is not Mode.BOT:
                continue
            language = profile.language or Language.HI
            await hand_off(profile, HandoffSignal(reason=HandoffReason.RASA_UNAVAILABLE, language=language.value))
            escalated += 1
        return escalated

    async def forget(self, conversation_id: str) -> int:
        """"Delete my data": drop the voter's held messages; returns how many."""
        removed = 0
        for key in (keys.RETRY, keys.RETRY_PROCESSING):
            for raw in cast(list[str], await self.redis.lrange(key, 0, -1)):
                try:
                    mine = InboundMessage.model_validate_json(raw).conversation_id == conversation_id
                except ValueError:
                    mine = False
                if mine:
                    removed += int(await self.redis.lrem(key, 0, raw))
        return removed

    async def upgrade(self) -> int:
        """Carry the held list of older gateways (a key without a hash tag) over; returns how many."""
        moved = 0
        if await self.redis.exists(keys.LEGACY_RETRY):
            while await self.redis.lmove(keys.LEGACY_RETRY, keys.RETRY, "LEFT", "RIGHT") is not None:
                moved += 1
        return moved

"""The satisfaction question after a resolved chat, and the voter's answer, handled before the assistant.

- ``ask``: after an agent closes a chat as resolved, one question in the voter's language with five buttons
  (``1 😞`` … ``5 😀``; Telegram shows an inline keyboard, the web chat buttons, WhatsApp a list, as the
  outbox renders any buttons). Never twice in 24 hours (``keys.csat_asked``, SET NX). The open question is
  the ``csat_pending`` field of the voter hash (this module's field), so the router reads it with the
  profile it already has, at no extra round trip.
- ``answer``: the next voter message (or any press of the question's buttons). A button payload
  (``/csat_3``) or a bare digit 1-5 (also Devanagari १-५) is recorded against the close and the agent in
  ``keys.CSAT`` and thanked; anything else drops the question (skipping is fine) and goes on to the
  assistant as usual. A button pressed again later is thanked and not counted.
"""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING

import structlog
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.consent import conversation_hash
from bot.identifiers import to_ascii_digits
from bot.language import Language
from bot.models import Button
from bot.redis_client import stream_entries

if TYPE_CHECKING:
    from bot.outbox import Outbox, TurnBatch
    from bot.store import VoterProfile, VoterStore
    from bot.texts import Texts

log = structlog.get_logger(__name__)

FIELD = "csat_pending"
ASK_EVERY_S = 24 * 3600
OPEN_FOR_S = 24 * 3600  # an unanswered question lapses after this
KEEP_ANSWERS_S = 400 * 24 * 3600
PAYLOAD = re.compile(r"/csat_([1-5])")
FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😀"}


def buttons() -> list[Button]:
    return [Button(title=f"{n} {FACES[n]}", payload=f"/csat_{n}") for n in range(1, 6)]


def is_payload(text: str) -> bool:
    """A press of one of the question's buttons (which only this module understands, never the assistant)."""
    return PAYLOAD.fullmatch(text.strip()) is not None


def score_of(text: str) -> int | None:
    """1-5 from a button payload or a bare digit; None for anything else."""
    text = to_ascii_digits(text.strip())
    if match := PAYLOAD.fullmatch(text):
        return int(match.group(1))
    return int(text) if text in ("1", "2", "3", "4", "5") else None


class Survey:
    def __init__(self, redis: Redis, store: VoterStore, outbox: Outbox, texts: Texts) -> None:
        self.redis = redis
        self.store = store
        self.outbox = outbox
        self.texts = texts

    async def ask(self, conversation_id: str, agent: str, close_id: str) -> bool:
        """Ask the voter about the chat `agent` just closed; False when asked already today (or gone)."""
        profile = await self.store.get(conversation_id)
        if profile is None:
            return False
        if not await self.redis.set(keys.csat_asked(conversation_id), "1", nx=True, ex=ASK_EVERY_S):
            return False
        pending = json.dumps({"agent": agent, "close_id": close_id, "at": time.time()})
        await self.redis.hset(keys.voter(conversation_id), FIELD, pending)
        language = profile.language or Language.HI
        await self.outbox.send(profile, language, self.texts.get("csat_question", language.value), buttons())
        return True

    async def answer(self, profile: VoterProfile, language: Language, text: str, batch: TurnBatch) -> bool:
        """True when `text` answered the open question (recorded and thanked); the question is closed either way."""
        raw = profile.csat_pending
        if not raw:
            if not is_payload(text):
                return False
            # A second press, or one after the question lapsed: thanked, not counted, kept from the assistant.
            await self.outbox.send(profile, language, self.texts.get("csat_thanks", language.value), batch=batch)
            return True
        await self.redis.hdel(keys.voter(profile.conversation_id), FIELD)
        profile.csat_pending = None
        try:
            pending = json.loads(raw)
        except ValueError:
            return False
        score = score_of(text)
        if score is None or time.time() - float(pending.get("at") or 0) > OPEN_FOR_S:
            return False  # skipped: the message goes to the assistant
        fields: dict[FieldT, EncodableT] = {
            "close_id": str(pending.get("close_id", "")),
            "conversation": conversation_hash(profile.conversation_id)[:16],
            "agent": str(pending.get("agent", "")),
            "language": language.value,
            "channel": profile.channel.value,
            "score": score,
        }
        minid = f"{int((time.time() - KEEP_ANSWERS_S) * 1000)}-0"
        await self.redis.xadd(keys.CSAT, fields, minid=minid, approximate=True)
        await self.outbox.send(profile, language, self.texts.get("csat_thanks", language.value), batch=batch)
        log.info("satisfaction answer recorded", score=score)
        return True

    async def answers(self, since: float, until: float) -> list[dict[str, str]]:
        """The answers given between two unix times, oldest first."""
        raw = await self.redis.xrange(keys.CSAT, min=f"{int(since * 1000)}-0", max=f"{int(until * 1000)}-99999999")
        return [{**fields, "id": entry_id} for entry_id, fields in stream_entries(raw)]

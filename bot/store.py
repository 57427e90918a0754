"""Voter state in Redis: profile, conversation mode, transcript and de-duplication."""

from __future__ import annotations

import json
import time
from typing import Any, cast

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

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
    # A person handed the conversation back while Rasa was down: un-pause it before the next message.
    resume_pending: bool = False
    # Written only by bot.conversation; read here so a queued voter without an entry can be healed.
    queue_entry: str | None = None
    queue_token: str | None = None

    @property
    def stranded(self) -> bool:
        """Queued, but with no queue entry and no hand-off under way: no agent could ever take it."""
        return self.mode is Mode.QUEUED and not self.queue_entry and not self.queue_token

    @property
    def is_new(self) -> bool:
        return self.language is None


# A voter message is stored: create the profile on first contact and append the voter's turn to the
# transcript. Runs inside the lanes' store step (`Lanes(on_store=...)`), so it costs no round trip;
# returns the profile's fields when `leased` (the message is processed right away), else false.
# K: voter hash, transcript. A: channel, chat_id, first_seen, mode, max turns, transcript TTL, the turn.
ARRIVAL_LUA = """
local function on_store(leased, K, A)
  redis.call('hsetnx', K[1], 'channel', A[1])
  redis.call('hsetnx', K[1], 'chat_id', A[2])
  redis.call('hsetnx', K[1], 'first_seen', A[3])
  redis.call('hsetnx', K[1], 'mode', A[4])
  redis.call('rpush', K[2], A[7])
  redis.call('ltrim', K[2], -tonumber(A[5]), -1)
  redis.call('expire', K[2], A[6])
  if leased then return redis.call('hgetall', K[1]) end
  return false
end
"""
_ARRIVE = ARRIVAL_LUA + "return on_store(true, KEYS, ARGV)"
# Append turns to a transcript, keep the last ARGV[1], expire after ARGV[2] s. KEYS: transcript.
_APPEND = """
for i = 3, #ARGV do redis.call('rpush', KEYS[1], ARGV[i]) end
redis.call('ltrim', KEYS[1], -tonumber(ARGV[1]), -1)
redis.call('expire', KEYS[1], ARGV[2])
"""
# Set a field of a hash that exists; returns 1 if it did. KEYS: the hash. ARGV: field, value.
_MARK_IF_KNOWN = """
if redis.call('exists', KEYS[1]) == 0 then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class VoterStore:
    def __init__(self, redis: Redis, *, transcript_ttl_s: int, transcript_max_turns: int, dedup_ttl_s: int) -> None:
        self.redis = redis
        self._transcript_ttl_s = transcript_ttl_s
        self._transcript_max_turns = transcript_max_turns
        self.dedup_ttl_s = dedup_ttl_s
        self._arrive = redis.register_script(_ARRIVE)
        self._append = redis.register_script(_APPEND)
        self._mark_if_known = redis.register_script(_MARK_IF_KNOWN)

    def arrival(self, message: InboundMessage, text: str) -> tuple[list[str], list[str | int]]:
        """The keys and arguments of ARRIVAL_LUA for `message`, with `text` as the voter's turn."""
        args: list[str | int] = [message.channel.value, message.chat_id, str(message.received_at), Mode.BOT.value]
        # Media is kept as the channel's reference only (fetched for an agent on demand): it goes with the transcript.
        media = {"media": message.attachment.model_dump(exclude_none=True)} if message.attachment else {}
        args += [self._transcript_max_turns, self._transcript_ttl_s, turn_json("voter", text, **media)]
        return [keys.voter(message.conversation_id), keys.transcript(message.conversation_id)], args

    async def arrive(self, message: InboundMessage, text: str) -> VoterProfile:
        """A voter message came in: their profile (created on first contact), with `text` in the transcript."""
        keys_, args = self.arrival(message, text)
        return profile_from_fields(message.conversation_id, await self._arrive(keys=keys_, args=args))

    async def get(self, conversation_id: str) -> VoterProfile | None:
        # The client decodes responses: fields and values are str.
        raw = cast(dict[str, str], await self.redis.hgetall(keys.voter(conversation_id)))
        return _profile(conversation_id, raw) if raw else None

    async def set_language(self, conversation_id: str, language: Language, *, locked: bool) -> None:
        fields: dict[FieldT, EncodableT] = {"language": language.value}
        if locked:
            fields["language_locked"] = "1"
        await self.redis.hset(keys.voter(conversation_id), mapping=fields)

    async def mark_unreachable(self, conversation_id: str) -> None:
        await self.redis.hset(keys.voter(conversation_id), "unreachable", "1")

    async def erase(self, conversation_id: str) -> None:
        """Remove every key with the voter's personal data (see ``keys.personal``).

        The voter's own keys go in one step (one cluster slot); then the process-wide sets, on other slots. A
        crash in between leaves only the id in those sets, and without the consent hash nobody is messaged.
        """
        await self.redis.delete(*keys.personal(conversation_id))
        await self.redis.srem(keys.SUBSCRIBERS, conversation_id)
        await self.redis.srem(keys.VOLUNTEERS, conversation_id)

    async def add_turns(self, conversation_id: str, turns: list[str]) -> None:
        """Append turns made by `turn_json`, in order, in one round trip."""
        if turns:
            args: list[str | int] = [self._transcript_max_turns, self._transcript_ttl_s, *turns]
            await self._append(keys=[keys.transcript(conversation_id)], args=args)

    async def set_resume_pending(self, conversation_id: str, pending: bool) -> None:
        key = keys.voter(conversation_id)
        await (self.redis.hset(key, "resume_pending", "1") if pending else self.redis.hdel(key, "resume_pending"))

    async def upgrade_resume_pending(self) -> int:
        """Carry conversations from the set older gateways kept into the voter hash's field; returns how many.

        Each member leaves the set only after its field is written, so an interrupted upgrade resumes
        at the next start. A voter erased meanwhile gets no hash back.
        """
        moved = 0
        for conversation_id in cast(set[str], await self.redis.smembers(keys.LEGACY_RESUME_PENDING)):
            moved += await self._mark_if_known(keys=[keys.voter(conversation_id)], args=["resume_pending", "1"])
            await self.redis.srem(keys.LEGACY_RESUME_PENDING, conversation_id)
        return moved

    async def transcript(self, conversation_id: str, last: int = 50) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(keys.transcript(conversation_id), -last, -1)
        return [json.loads(item) for item in raw]



def profile_from_fields(conversation_id: str, flat: list[str]) -> VoterProfile:
    """The profile from HGETALL's reply inside a script: field, value, field, value, ..."""
    return _profile(conversation_id, dict(zip(flat[::2], flat[1::2], strict=True)))


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
        resume_pending=raw.get("resume_pending") == "1",
        queue_entry=raw.get("queue_entry") or None,
        queue_token=raw.get("queue_token") or None,
    )


def turn_json(who: str, text: str, **extra: Any) -> str:
    """One transcript turn: who said it (voter, bot, agent), what, when."""
    return json.dumps({"who": who, "text": text, "at": time.time(), **extra}, ensure_ascii=False)

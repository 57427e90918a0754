"""Dead letters: voter messages that failed to process, and replies that could not be sent.

Both are streams trimmed by age (``SAMVAD_DEAD_LETTER_TTL_S``), listed in the supervisor's console with
masked text, where each can be replayed or discarded. "Delete my data" removes a voter's entries.
"""

from __future__ import annotations

import time
from enum import Enum
from typing import Any, cast

import structlog
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot import keys, metrics
from bot.logs import mask
from bot.models import InboundMessage
from bot.redis_client import stream_entries

log = structlog.get_logger(__name__)

MAX_ENTRIES = 10_000  # each stream also keeps at most this many, newest first


class DeadKind(str, Enum):
    INBOUND = "inbound"  # a voter message whose processing raised
    OUTBOUND = "outbound"  # a reply the channel refused or could not deliver

    @property
    def key(self) -> str:
        return keys.DEAD_LETTERS if self is DeadKind.INBOUND else keys.OUTBOUND_DEAD


class DeadLetters:
    def __init__(self, redis: Redis, *, ttl_s: float) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def record(self, kind: DeadKind, conversation_id: str, **fields: str) -> str:
        """Keep one failed message; returns its entry id."""
        entry = cast(dict[FieldT, EncodableT], {"conversation_id": conversation_id, "at": str(time.time()), **fields})
        entry_id = cast(str, await self.redis.xadd(kind.key, entry, maxlen=MAX_ENTRIES, approximate=True))
        metrics.DEAD_LETTERS.labels(kind.value).inc()
        await self.trim(kind)
        return entry_id

    async def trim(self, kind: DeadKind) -> None:
        """Drop entries older than the TTL (entry ids start with their time in ms)."""
        oldest_ms = int((time.time() - self.ttl_s) * 1000)
        await self.redis.xtrim(kind.key, minid=f"{max(oldest_ms, 0)}-0", approximate=False)

    async def list(self, kind: DeadKind, count: int = 50) -> list[dict[str, Any]]:
        """Newest first, text masked: what a supervisor sees."""
        entries = stream_entries(await self.redis.xrevrange(kind.key, count=count))
        return [
            {
                "id": entry_id,
                "kind": kind.value,
                "conversation": mask(fields.get("conversation_id", "")),
                "conversation_id": fields.get("conversation_id", ""),
                "text": mask(fields.get("text", "")),
                "reason": fields.get("reason", ""),
                "at": float(fields.get("at") or 0),
            }
            for entry_id, fields in entries
        ]

    async def get(self, kind: DeadKind, entry_id: str) -> dict[str, str] | None:
        found = stream_entries(await self.redis.xrange(kind.key, min=entry_id, max=entry_id))
        return found[0][1] if found else None

    async def discard(self, kind: DeadKind, entry_id: str) -> bool:
        return bool(await self.redis.xdel(kind.key, entry_id))

    async def forget(self, conversation_id: str) -> int:
        """"Delete my data": remove the voter's entries from both streams; returns how many."""
        removed = 0
        for kind in DeadKind:
            start = "-"
            while True:
                batch = stream_entries(await self.redis.xrange(kind.key, min=start, count=500))
                mine = [entry_id for entry_id, fields in batch if fields.get("conversation_id") == conversation_id]
                if mine:
                    removed += int(await self.redis.xdel(kind.key, *mine))
                if len(batch) < 500:
                    break
                start = "(" + batch[-1][0]
        return removed

    async def upgrade(self) -> int:
        """Carry the inbox dead letters older gateways kept in a list into the stream; returns how many."""
        moved = 0
        while (raw := cast(str | None, await self.redis.lindex(keys.LEGACY_DEAD_LETTERS, 0))) is not None:
            conversation_id, text = _read(raw)
            await self.record(DeadKind.INBOUND, conversation_id, raw=raw, text=text, reason="from an older gateway")
            await self.redis.lpop(keys.LEGACY_DEAD_LETTERS)  # only after it is in the stream
            moved += 1
        return moved



def _read(raw: str) -> tuple[str, str]:
    """(conversation id, text) of a stored inbox message; ('', the start of it) when it does not parse."""
    try:
        message = InboundMessage.model_validate_json(raw)
    except ValueError:
        return "", raw[:200]
    return message.conversation_id, message.text

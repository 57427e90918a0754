"""What happens when an agent closes a chat, besides the transition itself (``Conversations.close``).

The close record goes to ``keys.CLOSES``: conversation hash (never the id), agent, language, channel,
disposition, the chat's labels, handle time and first-response time (queued until the first agent reply).
The reports read it by time range. Then the chat's labels are cleared for the voter's next chat, the
search index gets the finished conversation, and after a resolved close (never a spam close) the voter is
asked the satisfaction question (bot/csat.py), at most once a day.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import cast

import structlog
from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.consent import conversation_hash
from bot.csat import Survey
from bot.handoff.queue import Assignment, Disposition
from bot.redis_client import StreamEntry, stream_entries
from bot.store import VoterStore

log = structlog.get_logger(__name__)

KEEP_S = 400 * 24 * 3600  # a year of reports, and some
# Called with (conversation id, the close record) once it is written: the search index.
AfterClose = Callable[[str, dict[str, str]], Awaitable[None]]


def first_response_s(turns: list[dict[str, object]], queued_at: float) -> float | None:
    """Seconds from joining the queue to the first agent reply after it; None if no agent replied."""
    for turn in turns:
        at = float(cast(float, turn.get("at") or 0))
        if turn.get("who") == "agent" and at >= queued_at:
            return max(0.0, at - queued_at)
    return None


class Closings:
    def __init__(self, redis: Redis, store: VoterStore, survey: Survey | None) -> None:
        self.redis = redis
        self.store = store
        self.survey = survey
        self.after: list[AfterClose] = []

    async def record(self, assignment: Assignment, disposition: Disposition, handle_s: float, labels: list[str]) -> str:
        """Write the close record; returns its id."""
        conversation_id = assignment.conversation_id
        profile = await self.store.get(conversation_id)
        turns = await self.store.transcript(conversation_id, 200)
        first = first_response_s(turns, assignment.queued_at)
        record = {
            "conversation": conversation_hash(conversation_id)[:16],
            "agent": assignment.agent,
            "language": assignment.language,
            "channel": profile.channel.value if profile else "",
            "disposition": disposition.value,
            "labels": ",".join(labels),
            "handle_s": f"{handle_s:.1f}",
            "first_response_s": "" if first is None else f"{first:.1f}",
            "queued_at": f"{assignment.queued_at:.3f}",
            "taken_at": f"{assignment.taken_at:.3f}",
            "topic": assignment.topic,
        }
        minid = f"{int((time.time() - KEEP_S) * 1000)}-0"
        close_id = cast(
            str,
            await self.redis.xadd(keys.CLOSES, cast(dict[FieldT, EncodableT], record), minid=minid, approximate=True),
        )
        await self.redis.delete(keys.labels(conversation_id))
        for hook in self.after:
            try:
                await hook(conversation_id, {**record, "close_id": close_id})
            except Exception:  # the close stands; the index catches up at its next refresh
                log.exception("after-close step failed", conversation_id=conversation_id)
        return close_id

    async def ask(self, assignment: Assignment, disposition: Disposition, close_id: str) -> bool:
        """The satisfaction question, after a resolved close only."""
        if disposition is not Disposition.RESOLVED or self.survey is None:
            return False
        return await self.survey.ask(assignment.conversation_id, assignment.agent, close_id)

    async def since(self, start: float, end: float) -> list[StreamEntry]:
        """Close records between two unix times, oldest first."""
        raw = await self.redis.xrange(keys.CLOSES, min=f"{int(start * 1000)}-0", max=f"{int(end * 1000)}-99999999")
        return stream_entries(raw)


def labels_of(record: dict[str, str]) -> list[str]:
    return [label for label in record.get("labels", "").split(",") if label]

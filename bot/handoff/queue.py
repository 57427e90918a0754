"""The human queue: conversations the assistant handed over, one Redis stream per language.

- ``enqueue`` adds one entry to the language's stream.
- ``take_next`` gives an agent exactly one entry, with one XREADGROUP (or one LPOP of an
  entry taken back from a vanished agent, then XCLAIM), so no conversation is ever held by
  two agents.
- ``close`` acknowledges the entry: only a closed conversation leaves the stream.
- ``heartbeat`` keeps an agent's entries fresh; ``sweep`` (the janitor) uses XAUTOCLAIM to
  take back entries whose agent stopped heartbeating, puts them at the head of the queue,
  and moves entries that keep failing to the dead-letter stream.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, cast

import structlog
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis.typing import EncodableT, FieldT

from bot import keys, metrics
from bot.handoff import HandoffSignal
from bot.models import Mode
from bot.redis_client import StreamEntry, stream_entries

log = structlog.get_logger(__name__)

IST = timezone(timedelta(hours=5, minutes=30))
JANITOR = "_janitor"
DEFAULT_HANDLE_S = 300.0  # assumed handle time until there is history


class Disposition(str, Enum):
    RESOLVED = "resolved"
    CALLBACK_NEEDED = "callback_needed"
    SPAM = "spam"
    TRANSFERRED = "transferred"


@dataclass(frozen=True)
class Assignment:
    conversation_id: str
    agent: str
    language: str
    entry_id: str
    reason: str
    topic: str
    queued_at: float
    taken_at: float


class HandoffQueue:
    def __init__(self, redis: Redis, languages: tuple[str, ...] = ("hi", "en"), max_deliveries: int = 3) -> None:
        self.redis = redis
        self.languages = languages
        self.max_deliveries = max_deliveries
        self._groups_ready: set[str] = set()

    async def _stream(self, language: str) -> str:
        stream = keys.handoff_queue(language)
        if stream not in self._groups_ready:
            try:
                await self.redis.xgroup_create(stream, keys.HANDOFF_GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._groups_ready.add(stream)
        return stream

    # --- the voter side -------------------------------------------------------------------

    async def enqueue(self, conversation_id: str, signal: HandoffSignal) -> str:
        """Put a conversation on its language's queue; returns the stream entry id."""
        stream = await self._stream(signal.language)
        entry_id = cast(
            str,
            await self.redis.xadd(
                stream,
                {
                    "conversation_id": conversation_id,
                    "reason": signal.reason.value,
                    "topic": signal.topic or "",
                    "queued_at": str(time.time()),
                },
            ),
        )
        await self.redis.hset(
            keys.voter(conversation_id), mapping={"queue_entry": entry_id, "queue_language": signal.language}
        )
        await self._changed(signal.language)
        return entry_id

    async def position(self, conversation_id: str) -> int | None:
        """1 for the next voter to be served, None when the conversation is not waiting."""
        entry_id, language = cast(
            list[str | None], await self.redis.hmget(keys.voter(conversation_id), "queue_entry", "queue_language")
        )
        if not entry_id or not language or await self.redis.exists(keys.assignment(conversation_id)):
            return None
        stream = await self._stream(language)
        requeued = cast(list[str], await self.redis.lrange(keys.handoff_requeue(language), 0, -1))
        if entry_id in requeued:
            return requeued.index(entry_id) + 1
        last = await self._last_delivered(stream)
        ahead = stream_entries(await self.redis.xrange(stream, min=f"({last}" if last != "0-0" else "-", max=entry_id))
        return len(requeued) + len(ahead)

    async def waiting(self, language: str) -> list[str]:
        """Conversation ids waiting in one language, next to be served first."""
        stream = await self._stream(language)
        requeued = cast(list[str], await self.redis.lrange(keys.handoff_requeue(language), 0, -1))
        last = await self._last_delivered(stream)
        fresh = stream_entries(await self.redis.xrange(stream, min=f"({last}" if last != "0-0" else "-"))
        fields = [f for _, f in await self._entries(stream, requeued)] + [f for _, f in fresh]
        return [f["conversation_id"] for f in fields if f.get("conversation_id")]

    async def _entries(self, stream: str, ids: list[str]) -> list[StreamEntry]:
        found: list[StreamEntry] = []
        for entry_id in ids:
            found += stream_entries(await self.redis.xrange(stream, min=entry_id, max=entry_id))
        return found

    async def estimated_wait_s(self, position: int, language: str) -> float:
        """Position times the median recent handle time, shared by the agents on duty."""
        recent = [float(x) for x in await self.redis.lrange(keys.HANDLE_TIMES, 0, 49)]
        median = statistics.median(recent) if recent else DEFAULT_HANDLE_S
        on_duty = max(1, await self.available_agents(language))
        return position * median / on_duty

    async def leave(self, conversation_id: str) -> bool:
        """The voter chose to go back to the bot while still waiting: drop their entry."""
        entry_id, language = cast(
            list[str | None], await self.redis.hmget(keys.voter(conversation_id), "queue_entry", "queue_language")
        )
        if not entry_id or not language or await self.redis.exists(keys.assignment(conversation_id)):
            return False
        stream = await self._stream(language)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xdel(stream, entry_id)
            pipe.lrem(keys.handoff_requeue(language), 0, entry_id)
            pipe.hdel(keys.voter(conversation_id), "queue_entry", "queue_language")
            pipe.hset(keys.voter(conversation_id), "mode", Mode.BOT.value)
            await pipe.execute()
        await self._changed(language)
        return True

    # --- the agent side -------------------------------------------------------------------

    async def take_next(self, agent: str, languages: list[str]) -> Assignment | None:
        """Give the agent the longest-waiting conversation in their languages, or None."""
        for language in sorted(languages, key=self.languages.index):
            stream = await self._stream(language)
            while (entry := await self._next_entry(stream, language, agent)) is not None:
                entry_id, fields = entry
                assignment = await self._assign(agent, language, entry_id, fields)
                if assignment is not None:
                    await self._changed(language)
                    return assignment
        return None

    async def _next_entry(self, stream: str, language: str, agent: str) -> StreamEntry | None:
        while (requeued := cast(str | None, await self.redis.lpop(keys.handoff_requeue(language)))) is not None:
            # An entry deleted meanwhile comes back without fields.
            claimed = cast(
                list[tuple[str, dict[str, str] | None]],
                await self.redis.xclaim(stream, keys.HANDOFF_GROUP, agent, min_idle_time=0, message_ids=[requeued]),
            )
            if claimed and claimed[0][1]:
                return claimed[0][0], claimed[0][1]
        # RESP2's reply: [[stream, entries]], here for the one stream asked for.
        read = cast(
            list[tuple[str, list[StreamEntry]]],
            await self.redis.xreadgroup(keys.HANDOFF_GROUP, agent, {stream: ">"}, count=1),
        )
        if not read or not read[0][1]:
            return None
        entry_id, fields = read[0][1][0]
        return entry_id, fields

    async def _assign(self, agent: str, language: str, entry_id: str, fields: dict[str, str]) -> Assignment | None:
        conversation_id = fields.get("conversation_id", "")
        voter_key = keys.voter(conversation_id)
        if not conversation_id or await self.redis.hget(voter_key, "queue_entry") != entry_id:
            # The voter left the queue or erased their data meanwhile: nothing to hold.
            await self._finish_entry(await self._stream(language), entry_id)
            return None
        assignment = Assignment(
            conversation_id=conversation_id,
            agent=agent,
            language=language,
            entry_id=entry_id,
            reason=fields.get("reason", ""),
            topic=fields.get("topic", ""),
            queued_at=float(fields.get("queued_at") or time.time()),
            taken_at=time.time(),
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.assignment(conversation_id), mapping=_to_hash(assignment))
            pipe.sadd(keys.agent_chats(agent), conversation_id)
            pipe.hset(voter_key, "mode", Mode.AGENT.value)
            await pipe.execute()
        log.info("conversation taken", agent=agent, conversation_id=conversation_id)
        return assignment

    async def assignment(self, conversation_id: str) -> Assignment | None:
        raw = cast(dict[str, str], await self.redis.hgetall(keys.assignment(conversation_id)))
        return _from_hash(raw) if raw else None

    async def close(self, assignment: Assignment, disposition: Disposition) -> float:
        """Acknowledge the conversation's entry and free the agent; returns the handle time."""
        stream = await self._stream(assignment.language)
        handle_s = max(0.0, time.time() - assignment.taken_at)
        day = datetime.now(IST).strftime("%Y-%m-%d")
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(stream, keys.HANDOFF_GROUP, assignment.entry_id)
            pipe.xdel(stream, assignment.entry_id)
            pipe.delete(keys.assignment(assignment.conversation_id))
            pipe.srem(keys.agent_chats(assignment.agent), assignment.conversation_id)
            pipe.hdel(keys.voter(assignment.conversation_id), "queue_entry", "queue_language")
            pipe.hset(keys.voter(assignment.conversation_id), "mode", Mode.BOT.value)
            pipe.hincrby(keys.dispositions_on(day), disposition.value, 1)
            pipe.expire(keys.dispositions_on(day), 8 * 24 * 3600)
            if disposition is not Disposition.TRANSFERRED:
                pipe.lpush(keys.HANDLE_TIMES, f"{handle_s:.1f}")
                pipe.ltrim(keys.HANDLE_TIMES, 0, 199)
                pipe.rpush(keys.handled_on(day), f"{handle_s:.1f}")
                pipe.expire(keys.handled_on(day), 8 * 24 * 3600)
            await pipe.execute()
        await self._changed(assignment.language)
        log.info("conversation closed", agent=assignment.agent, disposition=disposition.value)
        return handle_s

    async def transfer_to_agent(self, assignment: Assignment, to_agent: str) -> Assignment:
        """Hand the same entry to a named agent: XCLAIM moves it, so it is never held twice."""
        stream = await self._stream(assignment.language)
        await self.redis.xclaim(
            stream, keys.HANDOFF_GROUP, to_agent, min_idle_time=0, message_ids=[assignment.entry_id]
        )
        moved = Assignment(**{**assignment.__dict__, "agent": to_agent, "taken_at": time.time()})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.assignment(assignment.conversation_id), mapping=_to_hash(moved))
            pipe.srem(keys.agent_chats(assignment.agent), assignment.conversation_id)
            pipe.sadd(keys.agent_chats(to_agent), assignment.conversation_id)
            await pipe.execute()
        return moved

    async def transfer_to_language(self, assignment: Assignment, language: str, signal: HandoffSignal) -> str:
        """Close the entry as transferred and queue the conversation again in another language."""
        await self.close(assignment, Disposition.TRANSFERRED)
        entry_id = await self.enqueue(assignment.conversation_id, signal.model_copy(update={"language": language}))
        await self.redis.hset(keys.voter(assignment.conversation_id), "mode", Mode.QUEUED.value)
        return entry_id

    async def heartbeat(self, agent: str) -> None:
        """Reset the idle time of the agent's entries, so the janitor leaves them alone."""
        for conversation_id in cast(set[str], await self.redis.smembers(keys.agent_chats(agent))):
            found = await self.assignment(conversation_id)
            if found is not None and found.agent == agent:
                stream = await self._stream(found.language)
                await self.redis.xclaim(
                    stream, keys.HANDOFF_GROUP, agent, min_idle_time=0, message_ids=[found.entry_id], justid=True
                )

    async def sweep(self, abandon_after_s: float) -> int:
        """The janitor: take back entries of agents gone longer than `abandon_after_s`."""
        returned = 0
        for language in self.languages:
            stream = await self._stream(language)
            start = "0-0"
            while True:
                start, claimed, _deleted = await self.redis.xautoclaim(
                    stream, keys.HANDOFF_GROUP, JANITOR, int(abandon_after_s * 1000), start_id=start, count=50
                )
                for entry_id, fields in claimed:
                    await self._take_back(stream, language, entry_id, fields or {})
                    returned += 1
                if start == "0-0" or not claimed:
                    break
        return returned

    async def _take_back(self, stream: str, language: str, entry_id: str, fields: dict[str, str]) -> None:
        conversation_id = fields.get("conversation_id", "")
        found = await self.assignment(conversation_id) if conversation_id else None
        pending = await self.redis.xpending_range(stream, keys.HANDOFF_GROUP, min=entry_id, max=entry_id, count=1)
        deliveries = int(pending[0]["times_delivered"]) if pending else 0
        async with self.redis.pipeline(transaction=True) as pipe:
            if found is not None:
                pipe.delete(keys.assignment(conversation_id))
                pipe.srem(keys.agent_chats(found.agent), conversation_id)
            if deliveries > self.max_deliveries or not conversation_id:
                dead = {**fields, "entry_id": entry_id, "language": language, "at": str(time.time())}
                pipe.xadd(keys.HANDOFF_DEAD, cast(dict[FieldT, EncodableT], dead))
                pipe.xack(stream, keys.HANDOFF_GROUP, entry_id)
                pipe.xdel(stream, entry_id)
            else:
                pipe.lpush(keys.handoff_requeue(language), entry_id)
                pipe.hset(keys.voter(conversation_id), "mode", Mode.QUEUED.value)
            await pipe.execute()
        log.warning(
            "agent gone: conversation back in the queue", conversation_id=conversation_id, deliveries=deliveries
        )
        await self._changed(language)

    async def _finish_entry(self, stream: str, entry_id: str) -> None:
        await self.redis.xack(stream, keys.HANDOFF_GROUP, entry_id)
        await self.redis.xdel(stream, entry_id)

    # --- figures --------------------------------------------------------------------------

    async def depth(self, language: str) -> int:
        """Conversations waiting (not yet taken) in one language."""
        stream = await self._stream(language)
        groups = await self.redis.xinfo_groups(stream)
        lag = next((g.get("lag") for g in groups if g["name"] == keys.HANDOFF_GROUP), None)
        if lag is None:  # Redis < 7: count undelivered entries by hand
            lag = len(stream_entries(await self.redis.xrange(stream, min=f"({await self._last_delivered(stream)}")))
        return int(lag) + int(await self.redis.llen(keys.handoff_requeue(language)))

    async def oldest_wait_s(self, language: str) -> float:
        stream = await self._stream(language)
        requeued = cast(list[str], await self.redis.lrange(keys.handoff_requeue(language), 0, -1))
        last = await self._last_delivered(stream)
        nxt = stream_entries(await self.redis.xrange(stream, min=f"({last}" if last != "0-0" else "-", count=1))
        ids = requeued + [e[0] for e in nxt]
        if not ids:
            return 0.0
        oldest_ms = min(int(i.split("-")[0]) for i in ids)
        return max(0.0, time.time() - oldest_ms / 1000)

    async def available_agents(self, language: str) -> int:
        count = 0
        for name in cast(set[str], await self.redis.smembers(keys.AGENTS)):
            if await self.redis.get(keys.agent_presence(name)) == "available":
                languages = (cast(str | None, await self.redis.hget(keys.agent(name), "languages")) or "").split(",")
                count += language in languages
        return count

    async def dead_letters(self, count: int = 50) -> list[dict[str, Any]]:
        return [{"id": i, **f} for i, f in stream_entries(await self.redis.xrevrange(keys.HANDOFF_DEAD, count=count))]

    async def dispositions_today(self) -> dict[str, int]:
        day = datetime.now(IST).strftime("%Y-%m-%d")
        counts = cast(dict[str, str], await self.redis.hgetall(keys.dispositions_on(day)))
        return {k: int(v) for k, v in counts.items()}

    async def handled_today(self) -> list[float]:
        day = datetime.now(IST).strftime("%Y-%m-%d")
        return [float(x) for x in await self.redis.lrange(keys.handled_on(day), 0, -1)]

    async def refresh_depth(self, language: str) -> None:
        metrics.HANDOFF_DEPTH.labels(language).set(await self.depth(language))

    async def _last_delivered(self, stream: str) -> str:
        groups = await self.redis.xinfo_groups(stream)
        return next((str(g["last-delivered-id"]) for g in groups if g["name"] == keys.HANDOFF_GROUP), "0-0")

    async def _changed(self, language: str) -> None:
        await self.refresh_depth(language)
        await self.redis.publish(keys.CONSOLE_EVENTS, json.dumps({"type": "queues", "language": language}))


def _to_hash(assignment: Assignment) -> dict[FieldT, EncodableT]:
    return {k: str(v) for k, v in assignment.__dict__.items()}


def _from_hash(raw: dict[str, str]) -> Assignment:
    return Assignment(
        conversation_id=raw["conversation_id"],
        agent=raw["agent"],
        language=raw["language"],
        entry_id=raw["entry_id"],
        reason=raw.get("reason", ""),
        topic=raw.get("topic", ""),
        queued_at=float(raw.get("queued_at") or 0),
        taken_at=float(raw.get("taken_at") or 0),
    )

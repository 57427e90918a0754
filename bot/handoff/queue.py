"""The human queue: conversations the assistant handed over, one Redis stream per language.

This module knows the streams and nothing of a voter's mode; ``bot.conversation`` owns the
transitions and calls it:

- ``add`` puts one entry on the language's stream.
- ``next_entry`` claims exactly one entry for an agent, with one XREADGROUP (or an entry taken
  back from a vanished agent, then XCLAIM), so no entry is ever delivered to two agents.
- ``finish`` acknowledges and deletes an entry: only a closed conversation leaves the stream.
- ``claim`` refreshes an agent's entry; ``abandoned`` (the janitor) uses XAUTOCLAIM to find the
  entries whose agent stopped heartbeating; ``bury`` moves entries that keep failing to the
  dead-letter stream.
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

from bot import keys, metrics, pubsub
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

    def to_hash(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> Assignment:
        return cls(
            conversation_id=raw["conversation_id"],
            agent=raw["agent"],
            language=raw["language"],
            entry_id=raw["entry_id"],
            reason=raw.get("reason", ""),
            topic=raw.get("topic", ""),
            queued_at=float(raw.get("queued_at") or 0),
            taken_at=float(raw.get("taken_at") or 0),
        )


class HandoffQueue:
    """The streams themselves. It never writes a voter's mode: `bot.conversation` does, and calls these."""

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

    # --- entries ----------------------------------------------------------------------------

    async def add(self, conversation_id: str, signal: HandoffSignal) -> str:
        """A new entry on the language's stream; returns its id."""
        stream = await self._stream(signal.language)
        fields: dict[FieldT, EncodableT] = {
            "conversation_id": conversation_id,
            "reason": signal.reason.value,
            "topic": signal.topic or "",
            "queued_at": str(time.time()),
        }
        return cast(str, await self.redis.xadd(stream, fields))

    async def next_entry(self, language: str, agent: str) -> StreamEntry | None:
        """Claim the next entry for `agent`: one taken back from a vanished agent first, else a new one."""
        stream = await self._stream(language)
        while (requeued := cast(str | None, await self.redis.lpop(keys.handoff_requeue(language)))) is not None:
            # Popped, then claimed: a crash in between leaves the entry idle in the group's pending list, where
            # the janitor finds it again. An entry deleted meanwhile comes back without fields.
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

    async def claim(self, language: str, entry_id: str, agent: str) -> None:
        """Make `agent` the entry's consumer (and reset its idle time)."""
        stream = await self._stream(language)
        await self.redis.xclaim(stream, keys.HANDOFF_GROUP, agent, min_idle_time=0, message_ids=[entry_id], justid=True)

    async def finish(self, language: str, entry_id: str) -> None:
        """Acknowledge and delete an entry: done with, or stale."""
        if not language or not entry_id:
            return
        stream = await self._stream(language)
        await self.redis.xack(stream, keys.HANDOFF_GROUP, entry_id)
        await self.redis.xdel(stream, entry_id)

    async def drop(self, language: str, entry_id: str) -> None:
        """An entry that nobody took: out of the stream and of the requeue list."""
        await self.finish(language, entry_id)
        await self.redis.lrem(keys.handoff_requeue(language), 0, entry_id)

    async def drop_conversation(self, language: str, conversation_id: str) -> int:
        """Every entry of one conversation ("delete my data"); the stream holds only those waiting or held."""
        stream = await self._stream(language)
        removed, start = 0, "-"
        while True:
            batch = stream_entries(await self.redis.xrange(stream, min=start, count=500))
            for entry_id, fields in batch:
                if fields.get("conversation_id") == conversation_id:
                    await self.drop(language, entry_id)
                    removed += 1
            if len(batch) < 500:
                return removed
            start = "(" + batch[-1][0]

    async def requeue(self, language: str, entry_id: str) -> None:
        """Serve this entry before new ones (it was taken back from a vanished agent)."""
        await self.redis.lrem(keys.handoff_requeue(language), 0, entry_id)
        await self.redis.lpush(keys.handoff_requeue(language), entry_id)

    async def bury(self, language: str, entry_id: str, fields: dict[str, str]) -> None:
        """An entry that kept failing goes to the dead-letter stream, for supervisors."""
        dead = {**fields, "entry_id": entry_id, "language": language, "at": str(time.time())}
        await self.redis.xadd(keys.HANDOFF_DEAD, cast(dict[FieldT, EncodableT], dead), maxlen=10_000, approximate=True)
        metrics.DEAD_LETTERS.labels("handoff").inc()
        await self.finish(language, entry_id)

    async def abandoned(self, language: str, idle_s: float) -> list[tuple[str, dict[str, str], int]]:
        """Entries idle longer than `idle_s` (their agent stopped heartbeating), claimed by the janitor.

        Each comes with how often it has been delivered. Entries the janitor already holds (taken back,
        waiting at the head of the queue) are left alone: waiting for an agent is not a failed delivery.
        """
        stream = await self._stream(language)
        found: list[tuple[str, dict[str, str], int]] = []
        idle_ms = int(idle_s * 1000)
        start = "-"
        while True:
            pending = await self.redis.xpending_range(
                stream, keys.HANDOFF_GROUP, min=start, max="+", count=100, idle=idle_ms
            )
            for item in pending:
                if item["consumer"] == JANITOR:
                    continue
                # Claimed only if still idle that long (an agent's heartbeat meanwhile keeps it), and without
                # counting a delivery: only agents' takes count towards max_deliveries.
                entry_id = str(item["message_id"])
                claimed = await self.redis.xclaim(
                    stream, keys.HANDOFF_GROUP, JANITOR, min_idle_time=idle_ms, message_ids=[entry_id], justid=True
                )
                if claimed:
                    entries = stream_entries(await self.redis.xrange(stream, min=entry_id, max=entry_id))
                    fields = entries[0][1] if entries else {}
                    found.append((entry_id, fields, int(item["times_delivered"])))
            if len(pending) < 100:
                return found
            start = "(" + str(pending[-1]["message_id"])

    async def record_close(self, assignment: Assignment, disposition: Disposition) -> float:
        """Count the closed conversation in the day's figures; returns its handle time."""
        handle_s = max(0.0, time.time() - assignment.taken_at)
        day = datetime.now(IST).strftime("%Y-%m-%d")
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hincrby(keys.dispositions_on(day), disposition.value, 1)
            pipe.expire(keys.dispositions_on(day), 8 * 24 * 3600)
            if disposition is not Disposition.TRANSFERRED:
                pipe.lpush(keys.HANDLE_TIMES, f"{handle_s:.1f}")
                pipe.ltrim(keys.HANDLE_TIMES, 0, 199)
                pipe.rpush(keys.handled_on(day), f"{handle_s:.1f}")
                pipe.expire(keys.handled_on(day), 8 * 24 * 3600)
            await pipe.execute()
        return handle_s

    # --- the voter's place ------------------------------------------------------------------

    async def position(self, conversation_id: str) -> int | None:
        """1 for the next voter to be served, None when the conversation is not waiting."""
        entry_id, language, mode = cast(
            list[str | None],
            await self.redis.hmget(keys.voter(conversation_id), "queue_entry", "queue_language", "mode"),
        )
        if not entry_id or not language or mode != Mode.QUEUED.value:
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
        ids = [f["conversation_id"] for f in fields if f.get("conversation_id")]
        return list(dict.fromkeys(ids))  # a stale duplicate entry does not count twice

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

    async def refresh_figures(self, language: str) -> None:
        """The queue's gauges, at scrape time: depth and the oldest wait."""
        await self.refresh_depth(language)
        metrics.HANDOFF_OLDEST_WAIT.labels(language).set(await self.oldest_wait_s(language))

    async def _last_delivered(self, stream: str) -> str:
        try:
            groups = await self.redis.xinfo_groups(stream)
        except ResponseError:  # the stream was deleted under us (an operator, a flush): make it again
            self._groups_ready.discard(stream)
            return "0-0"
        return next((str(g["last-delivered-id"]) for g in groups if g["name"] == keys.HANDOFF_GROUP), "0-0")

    async def changed(self, language: str) -> None:
        """Tell every console the queue changed."""
        await self.refresh_depth(language)
        await pubsub.publish(self.redis, keys.CONSOLE_EVENTS, json.dumps({"type": "queues", "language": language}))


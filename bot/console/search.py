"""Search over open and closed conversations, on PostgreSQL full-text search (the local Redis has no RediSearch).

The index holds a masked copy: every text through ``bot.identifiers.mask`` before it is stored, the
conversation behind an opaque ``ref`` (its hash), so neither the index nor a result shows a phone or EPIC
number. Texts are indexed with the ``simple`` configuration (no stemming), which splits Devanagari and
Latin words alike, so a Hindi word finds its transcript.

It is filled, never by scanning every transcript, at three moments:

- a chat closes (bot/console/closing.py's hook): the conversation with its agent, disposition and labels;
- every ``REFRESH_S`` (a maintenance task): the chats open now, waiting or held, which are few;
- "delete my data" (the router's erase hook): the conversation and its turns are deleted.

Rows whose conversation was last seen longer ago than the transcript's TTL are purged in the same task.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import asyncpg
import structlog

from bot import keys
from bot.consent import conversation_hash
from bot.identifiers import mask
from bot.store import VoterStore

if TYPE_CHECKING:
    from bot.conversation import Conversations

log = structlog.get_logger(__name__)

REFRESH_S = 30.0
MAX_RESULTS = 50
SCHEMA = """
CREATE TABLE IF NOT EXISTS search_conversations (
    ref text PRIMARY KEY,
    conversation_id text UNIQUE NOT NULL,
    masked text NOT NULL,
    channel text NOT NULL DEFAULT '',
    language text NOT NULL DEFAULT '',
    state text NOT NULL,
    agent text NOT NULL DEFAULT '',
    disposition text NOT NULL DEFAULT '',
    labels text[] NOT NULL DEFAULT '{}',
    closed_at timestamptz,
    turn_count integer NOT NULL DEFAULT 0,
    last_at double precision NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS search_turns (
    ref text NOT NULL REFERENCES search_conversations (ref) ON DELETE CASCADE,
    n integer NOT NULL,
    who text NOT NULL,
    agent text NOT NULL DEFAULT '',
    at timestamptz NOT NULL,
    text text NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED,
    PRIMARY KEY (ref, n)
);
CREATE TABLE IF NOT EXISTS search_chats (
    ref text NOT NULL REFERENCES search_conversations (ref) ON DELETE CASCADE,
    close_id text NOT NULL,
    agent text NOT NULL DEFAULT '',
    disposition text NOT NULL DEFAULT '',
    labels text[] NOT NULL DEFAULT '{}',
    closed_at timestamptz NOT NULL,
    PRIMARY KEY (ref, close_id)
);
CREATE INDEX IF NOT EXISTS search_turns_tsv ON search_turns USING gin (tsv);
CREATE INDEX IF NOT EXISTS search_chats_agent ON search_chats (agent, disposition);
CREATE INDEX IF NOT EXISTS search_chats_labels ON search_chats USING gin (labels);
CREATE INDEX IF NOT EXISTS search_conversations_labels ON search_conversations USING gin (labels);
CREATE INDEX IF NOT EXISTS search_conversations_updated ON search_conversations (updated_at);
"""


class SearchUnavailable(RuntimeError):
    """The configured search database cannot be reached at start-up."""


def ref_of(conversation_id: str) -> str:
    return conversation_hash(conversation_id)[:24]


def _when(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


class SearchIndex:
    def __init__(self, pool: asyncpg.Pool, store: VoterStore, keep_s: float) -> None:
        self.pool = pool
        self.store = store
        self.keep_s = keep_s

    @classmethod
    async def open(cls, dsn: str, store: VoterStore, keep_s: float) -> SearchIndex:
        try:
            pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5, command_timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            # Not started without it: an index the gateway cannot reach could not forget a voter.
            raise SearchUnavailable(f"SAMVAD_SEARCH_DATABASE_URL: cannot reach PostgreSQL ({exc})") from None
        async with pool.acquire() as conn:
            await conn.execute(SCHEMA)
        return cls(pool, store, keep_s)

    async def close(self) -> None:
        await self.pool.close()

    async def index(self, conversation_id: str, *, state: str, meta: dict[str, str] | None = None) -> None:
        """(Re)index one conversation from its transcript in Redis; `meta`: a close record's fields."""
        meta = meta or {}
        profile = await self.store.get(conversation_id)
        turns = await self.store.transcript(conversation_id, 10_000)
        if profile is None or not turns:
            await self.forget(conversation_id)
            return
        ref = ref_of(conversation_id)
        last_at = float(turns[-1].get("at") or 0)
        labels = [label for label in meta.get("labels", "").split(",") if label]
        if state != "closed":  # an open chat's refresh: skip it when nothing changed since the last one
            async with self.pool.acquire() as conn:
                seen = await conn.fetchrow(
                    "SELECT state, turn_count, last_at, labels, agent FROM search_conversations WHERE ref = $1", ref
                )
            if (
                seen is not None
                and (seen["state"], seen["turn_count"], seen["last_at"], list(seen["labels"]))
                == (state, len(turns), last_at, labels)
                and seen["agent"] == (meta.get("agent") or seen["agent"])
            ):
                async with self.pool.acquire() as conn:
                    await conn.execute("UPDATE search_conversations SET updated_at = now() WHERE ref = $1", ref)
                return
        closed_at = _when(time.time()) if state == "closed" else None
        rows = [
            (ref, n, str(t.get("who", "")), str(t.get("agent") or ""), _when(float(t.get("at") or 0)),
             mask(str(t.get("text", ""))))
            for n, t in enumerate(turns)
        ]  # fmt: skip
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                """
                INSERT INTO search_conversations
                    (ref, conversation_id, masked, channel, language, state, agent, disposition, labels,
                     closed_at, turn_count, last_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
                ON CONFLICT (ref) DO UPDATE SET
                    channel = $4, language = $5, state = $6,
                    agent = CASE WHEN $7 = '' THEN search_conversations.agent ELSE $7 END,
                    disposition = CASE WHEN $6 = 'closed' THEN $8 ELSE search_conversations.disposition END,
                    labels = $9,
                    closed_at = COALESCE($10, search_conversations.closed_at),
                    turn_count = $11, last_at = $12, updated_at = now()
                """,
                ref, conversation_id, mask(conversation_id), profile.channel.value,
                (profile.language.value if profile.language else meta.get("language", "")),
                state, meta.get("agent", ""), meta.get("disposition", ""), labels, closed_at, len(turns), last_at,
            )  # fmt: skip
            if state == "closed" and meta.get("close_id"):  # every chat of the voter, for the filters
                await conn.execute(
                    """INSERT INTO search_chats (ref, close_id, agent, disposition, labels, closed_at)
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
                    ref, meta["close_id"], meta.get("agent", ""), meta.get("disposition", ""), labels, closed_at,
                )  # fmt: skip
            await conn.execute("DELETE FROM search_turns WHERE ref = $1", ref)
            await conn.copy_records_to_table(
                "search_turns", records=rows, columns=["ref", "n", "who", "agent", "at", "text"]
            )

    async def forget(self, conversation_id: str) -> None:
        """'Delete my data': the conversation and every indexed turn of it.

        If PostgreSQL fails now, the ref (a hash, no personal data) waits in Redis for the next refresh.
        """
        ref = ref_of(conversation_id)
        try:
            await self._delete(ref)
        except (OSError, asyncpg.PostgresError):
            log.error("search index unreachable: the voter is removed at the next refresh", exc_info=True)
            await self.store.redis.sadd(keys.SEARCH_FORGET, ref)

    async def _delete(self, ref: str) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("DELETE FROM search_conversations WHERE ref = $1", ref)

    async def after_close(self, conversation_id: str, record: dict[str, str]) -> None:
        await self.index(conversation_id, state="closed", meta=record)

    async def refresh_open(self, conversations: Conversations, agents: list[str]) -> int:
        """Index the chats open now (held by `agents`, or waiting), and purge what outlived the transcripts."""
        for ref in cast(set[str], await self.store.redis.smembers(keys.SEARCH_FORGET)):
            await self._delete(ref)
            await self.store.redis.srem(keys.SEARCH_FORGET, ref)
        done = 0
        for agent in agents:
            for conversation_id in await conversations.holds(agent):
                on = sorted(cast(set[str], await self.store.redis.smembers(keys.labels(conversation_id))))
                await self.index(conversation_id, state="held", meta={"agent": agent, "labels": ",".join(on)})
                done += 1
        for language in conversations.queue.languages:
            for conversation_id in await conversations.queue.waiting(language):
                await self.index(conversation_id, state="waiting")
                done += 1
        async with self.pool.acquire() as conn:
            await conn.execute(
                "DELETE FROM search_conversations WHERE updated_at < now() - make_interval(secs => $1)", self.keep_s
            )
        return done

    async def search(
        self,
        *,
        text: str = "",
        label: str = "",
        agent: str = "",
        disposition: str = "",
        language: str = "",
        state: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Conversations matching every filter given, best match (then newest) first, masked."""
        where, args = ["TRUE"], []

        def arg(value: object) -> str:
            args.append(value)
            return f"${len(args)}"

        if language:
            where.append(f"c.language = {arg(language)}")
        if state == "open":
            where.append("c.state IN ('waiting', 'held')")
        elif state == "closed":
            where.append("c.state = 'closed'")
        # Agent, disposition, label and dates describe one chat: any closed chat of the voter's that matches
        # them all, or the chat open now.
        closed_chat, open_chat = ["h.ref = c.ref"], ["c.state IN ('waiting', 'held')"]
        if agent:
            value = arg(agent)
            closed_chat.append(f"h.agent = {value}")
            open_chat.append(f"c.agent = {value}")
        if disposition:
            closed_chat.append(f"h.disposition = {arg(disposition)}")
            open_chat.append("FALSE")  # an open chat has no disposition yet
        if label:
            value = arg(label)
            closed_chat.append(f"{value} = ANY (h.labels)")
            open_chat.append(f"{value} = ANY (c.labels)")
        if since is not None:
            value = arg(since)
            closed_chat.append(f"h.closed_at >= {value}")
            open_chat.append(f"c.updated_at >= {value}")
        if until is not None:
            value = arg(until)
            closed_chat.append(f"h.closed_at < {value}")
            open_chat.append(f"c.updated_at < {value}")
        if len(closed_chat) > 1:
            any_closed = f"EXISTS (SELECT 1 FROM search_chats h WHERE {' AND '.join(closed_chat)})"
            where.append(f"({any_closed} OR ({' AND '.join(open_chat)}))")
        columns = "c.ref, c.masked, c.channel, c.language, c.state, c.agent, c.disposition, c.labels, c.closed_at"
        if text:
            query = f"plainto_tsquery('simple', {arg(text)})"
            # Rank every matching turn, keep each conversation's best, and only then build the 50 snippets
            # (ts_headline is the costly part).
            sql = f"""
                WITH best AS (
                    SELECT DISTINCT ON (t.ref) t.ref, t.n, ts_rank(t.tsv, {query}) AS rank
                    FROM search_turns t JOIN search_conversations c USING (ref)
                    WHERE t.tsv @@ {query} AND {" AND ".join(where)}
                    ORDER BY t.ref, rank DESC, t.n
                ), top AS (
                    SELECT best.*, COALESCE(c.closed_at, c.updated_at) AS seen
                    FROM best JOIN search_conversations c USING (ref)
                    ORDER BY best.rank DESC, seen DESC LIMIT {MAX_RESULTS}
                )
                SELECT {columns}, top.n AS turn,
                    ts_headline('simple', t.text, {query}, 'StartSel=«, StopSel=», MaxFragments=1') AS snippet
                FROM top JOIN search_conversations c USING (ref) JOIN search_turns t ON t.ref = top.ref AND t.n = top.n
                ORDER BY top.rank DESC, top.seen DESC"""
        else:
            sql = f"""
                SELECT {columns}, NULL::integer AS turn, '' AS snippet FROM search_conversations c
                WHERE {" AND ".join(where)}
                ORDER BY COALESCE(c.closed_at, c.updated_at) DESC LIMIT {MAX_RESULTS}"""
        async with self.pool.acquire() as conn:
            found = await conn.fetch(sql, *args)
        return [
            {
                "ref": r["ref"],
                "conversation": r["masked"],
                "channel": r["channel"],
                "language": r["language"],
                "state": r["state"],
                "agent": r["agent"],
                "disposition": r["disposition"],
                "labels": list(r["labels"]),
                "closed_at": r["closed_at"].isoformat() if r["closed_at"] else None,
                "turn": r["turn"],
                "snippet": r["snippet"],
            }
            for r in found
        ]

    async def transcript(self, ref: str) -> tuple[str, list[dict[str, Any]]] | None:
        """The indexed (masked) transcript of `ref`, and the conversation id it stands for."""
        async with self.pool.acquire() as conn:
            conversation = await conn.fetchrow(
                "SELECT conversation_id, masked FROM search_conversations WHERE ref = $1", ref
            )
            if conversation is None:
                return None
            turns = await conn.fetch("SELECT n, who, agent, at, text FROM search_turns WHERE ref = $1 ORDER BY n", ref)
        listed = [
            {"n": t["n"], "who": t["who"], "agent": t["agent"], "at": t["at"].timestamp(), "text": t["text"]}
            for t in turns
        ]
        return cast(str, conversation["conversation_id"]), listed

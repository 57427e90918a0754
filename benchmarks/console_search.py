"""How long the console's search takes on a PostgreSQL index of realistic size (docs/console.md).

Fills a database of its own (created, then dropped) with N conversations of T turns of mixed Hindi and
English text straight through COPY, then times each kind of query 20 times and prints the median and max.

    .venv/bin/python -m benchmarks.console_search --conversations 5000 --turns 30
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from bot.console.search import SCHEMA, SearchIndex
from tests.helpers.postgres import temporary_database

TEXT = (
    "मेरा नाम वोटर लिस्ट में नहीं है मतदान केंद्र कहाँ है कार्ड खो गया फ़ॉर्म आठ पता बदलना बूथ लाइन लंबी शिकायत"
    " अधिकारी मदद धन्यवाद my name is missing polling station card lost form address change booth queue"
    " complaint officer help thanks"
)
WORDS = TEXT.split(" ")
LABELS = ["registration", "correction", "polling-station", "booth-problem", "complaint", "follow-up"]


async def fill(url: str, conversations: int, turns: int) -> None:
    rng = random.Random(18)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SCHEMA)
        start = datetime(2026, 11, 1, tzinfo=UTC)
        rows, turn_rows, chat_rows = [], [], []
        for n in range(conversations):
            ref = f"ref{n:08d}"
            closed = start + timedelta(minutes=n)
            rows.append((ref, f"tg:{n}", f"tg:{n}", "telegram", rng.choice(["hi", "en"]), "closed",
                         f"agent{n % 50}", rng.choice(["resolved", "spam", "callback_needed"]),
                         rng.sample(LABELS, rng.randint(0, 2)), closed, turns, 0.0, closed))  # fmt: skip
            chat_rows.append((ref, f"{n}-0", rows[-1][6], rows[-1][7], rows[-1][8], closed))
            for t in range(turns):
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 14)))
                turn_rows.append((ref, t, rng.choice(["voter", "agent", "bot"]), "", closed, text))
        columns = ["ref", "conversation_id", "masked", "channel", "language", "state", "agent", "disposition",
                   "labels", "closed_at", "turn_count", "last_at", "updated_at"]  # fmt: skip
        await conn.copy_records_to_table("search_conversations", records=rows, columns=columns)
        await conn.copy_records_to_table(
            "search_chats",
            records=chat_rows,
            columns=["ref", "close_id", "agent", "disposition", "labels", "closed_at"],
        )
        await conn.copy_records_to_table(
            "search_turns", records=turn_rows, columns=["ref", "n", "who", "agent", "at", "text"]
        )
        # A rare word in a few conversations: what a supervisor looks for.
        await conn.execute("UPDATE search_turns SET text = text || ' रैंप' WHERE n = 3 AND ref LIKE '%7'")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def main(conversations: int, turns: int) -> None:
    async with temporary_database() as url:
        began = time.perf_counter()
        await fill(url, conversations, turns)
        print(f"filled {conversations} conversations x {turns} turns in {time.perf_counter() - began:.1f} s")
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        index = SearchIndex(pool, store=None, keep_s=0)  # type: ignore[arg-type]
        queries = {
            "rare Hindi word": {"text": "रैंप"},
            "common Hindi word": {"text": "मतदान"},
            "two words + label": {"text": "कार्ड खो", "label": "complaint"},
            "agent + disposition": {"agent": "agent7", "disposition": "spam"},
            "date range only": {"since": datetime(2026, 11, 2, tzinfo=UTC), "until": datetime(2026, 11, 3, tzinfo=UTC)},
        }
        for name, params in queries.items():
            times, found = [], 0
            for _ in range(20):
                t0 = time.perf_counter()
                found = len(await index.search(**params))  # type: ignore[arg-type]
                times.append((time.perf_counter() - t0) * 1000)
            print(f"{name:22s} {found:3d} results  median {statistics.median(times):6.1f} ms  max {max(times):6.1f} ms")
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.conversations, args.turns))

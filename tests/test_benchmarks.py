"""Benchmarks run at a tiny size so they cannot rot; their figures are not asserted."""

from __future__ import annotations

from benchmarks.handoff_latency import run
from tests.conftest import redis_url


async def test_handoff_latency_benchmark_runs(redis) -> None:
    result = await run(messages=20, voters=3, redis_url=redis_url(12))
    assert result["messages"] == 20 and result["p50_ms"] > 0

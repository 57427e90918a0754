"""Benchmarks run at a tiny size so they cannot rot; their figures are not asserted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import conversation_length, gateway_overhead
from benchmarks.e2e import main_async, parse_args, summary_line
from benchmarks.handoff_latency import run
from bot.settings import ROOT
from tests.conftest import REDIS_HOST, REDIS_PORT, redis_url


async def test_handoff_latency_benchmark_runs(redis) -> None:
    result = await run(messages=20, voters=3, redis_url=redis_url(12))
    assert result["messages"] == 20 and result["p50_ms"] > 0


@pytest.mark.rasa
@pytest.mark.slow
async def test_e2e_benchmark_runs_both_sides_at_a_tiny_size(tmp_path: Path) -> None:
    """The whole `make bench` path at a tiny size: both stacks start, take load, and report.

    Covered: A (`rasa run`, REST channel, in-memory tracker, action server) and B (gateway
    subprocess on the Telegram webhook, Rasa with Redis tracker and lock store and two Sanic
    workers, the schema-cache launcher, replies at the Bot API stand-in), closed and open loop,
    per-process CPU and memory, agent mode, hand-off, the summary line. Not covered: training
    the stock model and the F1 runs (minutes to an hour): A runs the project's model from models/
    here, and F1 is skipped. No figure is asserted.
    """
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    out = tmp_path / "bench.json"
    args = parse_args(
        ["--quick", "--skip-f1", "--voters", "2", "--warmup-s", "0.5", "--measure-s", "2", "--duration-s", "3",
         "--rate", "5", "--stock-model", str(models[-1]), "--samvad-model", str(models[-1]),
         "--redis-url", f"redis://{REDIS_HOST}:{REDIS_PORT}", "--out", str(out)]
    )  # fmt: skip
    result = await main_async(args)

    for side in ("A", "B"):
        assert result[side]["saturation"][0]["count"] > 0, result[side]
        assert result[side]["fixed_load"]["count"] > 0, result[side]
        assert result[side]["saturation"][0]["errors"] == 0 and result[side]["fixed_load"]["errors"] == 0
        assert result[side]["fixed_load"]["processes"]["rasa"]["cpu_s"] > 0
    assert set(result["B"]["fixed_load"]["processes"]) >= {"rasa", "actions", "gateway", "bench-driver"}
    # Every message of the mix got at least one reply through the gateway to the Bot API stand-in.
    assert all(count >= 1 for counts in result["B"]["replies_per_message"].values() for count in counts)
    assert result["B"]["agent_mode"]["ceiling"]["count"] > 0
    overhead = result["B"]["gateway_overhead"]["runs"][0]
    assert overhead["paths"]["direct"]["count"] > 0 and overhead["paths"]["gateway"]["count"] > 0
    assert overhead["overhead"]["gateway"]["own_p50_ms"] is not None  # the gateway's own-time histogram moved
    assert result["B"]["fixed_load"]["gateway_own_p50_ms"] is not None
    assert result["handoff"]["messages"] == 100
    assert result["conversation_length"]["sides"]["after"]["12"]["latency_p50_ms"] > 0
    assert re.fullmatch(
        r"throughput ratio B/A: \d+\.\d\d  p99 ratio B/A: \d+\.\d\d  f1 A: (n/a|\d\.\d{3})  f1 B: (n/a|\d\.\d{3})",
        summary_line(result),
    )


def test_histogram_quantile_interpolates_within_the_bucket() -> None:
    buckets = {0.001: 0.0, 0.002: 10.0, 0.004: 20.0, float("inf"): 20.0}
    assert gateway_overhead.quantile(buckets, 0.5) == 2.0
    assert gateway_overhead.quantile(buckets, 0.25) == 1.5
    assert gateway_overhead.quantile(buckets, 0.75) == 3.0
    assert gateway_overhead.quantile({0.001: 0.0, float("inf"): 0.0}, 0.5) is None


@pytest.mark.rasa
@pytest.mark.slow
async def test_gateway_overhead_benchmark_runs_before_and_after_side_by_side() -> None:
    """Direct to Rasa, the gateway, the gateway on PTB's httpx client and the gateway of HEAD, all at once."""
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    args = gateway_overhead.parse_args(
        ["--rate", "8", "--duration-s", "3", "--rounds", "1", "--pairs", "10", "--compare-httpx", "--baseline", "HEAD",
         "--model", str(models[-1]), "--redis-url", f"redis://{REDIS_HOST}:{REDIS_PORT}"]
    )  # fmt: skip
    result = await gateway_overhead.main_async(args)
    paths = result["runs"][0]["paths"]
    assert set(paths) == {"direct", "gateway", "gateway-httpx", "gateway-HEAD"}
    assert all(path["count"] > 0 and path["errors"] == 0 for path in paths.values()), paths
    assert set(result["median"]) == {"gateway", "gateway-httpx", "gateway-HEAD"}
    assert {name: pairs["pairs"] for name, pairs in result["one_at_a_time"].items()} == dict.fromkeys(
        ("gateway", "gateway-httpx", "gateway-HEAD"), 10
    )


@pytest.mark.rasa
@pytest.mark.slow
async def test_conversation_length_benchmark_runs_before_and_after_side_by_side() -> None:
    """One conversation, message for message, to the Rasa side of HEAD and of this checkout."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    args = conversation_length.parse_args(
        ["--quick", "--baseline", "HEAD", "--redis-url", f"redis://{REDIS_HOST}:{REDIS_PORT}"]
    )
    result = await conversation_length.run(args)

    assert set(result["sides"]) == {"after", "before"}
    for rows in result["sides"].values():
        assert rows["1"]["latency_p50_ms"] > 0 and rows["10"]["tracker_kb"] > 0, rows
        assert rows["12"]["messages"] == [2, 12]
    assert result["answers"]["compared"] == 12
    assert "| after (" in conversation_length.table(result)

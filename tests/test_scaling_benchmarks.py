"""The scaling benchmarks (docs/scaling.md, "Measured costs") run at a tiny size so they cannot rot.

Only that they run and print their figure lines is checked; no figure is asserted.
"""

from __future__ import annotations

import re

import pytest

from benchmarks import redis_memory, websocket_rss


def test_redis_memory_benchmark_prints_bytes_per_voter(capsys) -> None:
    results = redis_memory.run([50, 120])
    out = capsys.readouterr().out
    assert re.search(r"redis-memory: +50 voters +\d+ B/voter used_memory", out), out
    assert re.search(r"redis-memory: +120 voters +\d+ B/voter used_memory", out), out
    assert re.search(r"redis-memory: \d+ B per in-flight message", out), out
    assert [r["voters"] for r in results[:2]] == [50, 120] and results[1]["keys"] > 120


def test_the_generator_writes_the_same_voters_on_every_run() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, tuple[object, ...], str]] = []

        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return lambda *args, **kwargs: self.calls.append((name, args, repr(sorted(kwargs.items()))))

    first, second = Recorder(), Recorder()
    for recorder in (first, second):
        generator = redis_memory.Generator()
        for index in range(30):
            generator.write(recorder, index)
    assert first.calls == second.calls
    assert {"hset", "rpush", "expire"} <= {name for name, _, _ in first.calls}


@pytest.mark.slow
def test_websocket_rss_benchmark_prints_rss_per_socket(capsys) -> None:
    result = websocket_rss.run(40, concurrency=20)
    out = capsys.readouterr().out
    assert re.search(r"websocket-rss: gateway RSS [\d.]+ MiB before, .* with 40 sockets", out), out
    assert re.search(r"websocket-rss: -?[\d.]+ KiB per socket over all 40", out), out
    assert result["rss_open"] > 0


@pytest.mark.rasa
@pytest.mark.slow
async def test_tracker_stores_benchmark_runs_both_stores_and_two_servers_behind_haproxy(capsys) -> None:
    """Both stores, then two Rasa servers behind HAProxy and a Sentinel failover: 4 messages each."""
    from benchmarks import tracker_stores

    args = tracker_stores.parse_args(["--quick", "--messages", "4"])
    result = await tracker_stores.run(args)
    out = capsys.readouterr().out
    assert re.search(r"\| sentinel \| 1 \(1-1, 2 msgs\) \| [\d.]+ ms \| [\d.]+ ms \|", out), out
    assert re.search(r"\| postgres \| 4 \(2-4, 6 msgs\) \| [\d.]+ ms \|", out), out
    assert re.search(r"tracker-stores: shared: 2 Rasa servers behind HAProxy, .* msgs/s  p50 [\d.]+ ms", out), out
    assert re.search(r"tracker-stores: failover: master \d+ -> \d+ during \d+ messages", out), out
    assert set(result["shared"]["per_server"]) == {"rasa1", "rasa2"}

"""Load generators: closed loop (N voters back to back) and open loop (a fixed offered rate).

Both work on any side through one call, `exchange(voter, script, index) -> None`, that sends a
voter's message and returns when its last reply arrived (raising on a timeout or an error). A
voter never sends its next message before the reply to the previous one.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.messages import Script, mix

Exchange = Callable[[str, Script, int], Awaitable[None]]


@dataclass
class Voter:
    id: str
    script: Script
    next_index: int = 0


@dataclass
class Recorder:
    """Latencies (ms) of exchanges that finished inside the measured window."""

    window_start: float = 0.0
    window_end: float = float("inf")
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    error_kinds: collections.Counter[str] = field(default_factory=collections.Counter)

    def record(self, started: float, finished: float) -> None:
        if self.window_start <= finished <= self.window_end:
            self.latencies_ms.append((finished - started) * 1000)

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        self.error_kinds[type(exc).__name__] += 1


class VoterPool:
    """New voters, each with the next script of the mix and an id unique to this run."""

    def __init__(self, prefix: int) -> None:
        self._scripts = mix()
        self._ids = itertools.count(prefix)

    def new(self) -> Voter:
        return Voter(str(next(self._ids)), next(self._scripts))


async def _one(exchange: Exchange, voter: Voter, recorder: Recorder, timeout_s: float) -> bool:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(exchange(voter.id, voter.script, voter.next_index), timeout_s)
    except Exception as exc:  # counted and reported; the voter gives up on this conversation
        recorder.failed(exc)
        return False
    recorder.record(started, time.perf_counter())
    voter.next_index += 1
    return True


def summarize(latencies_ms: list[float]) -> dict[str, float]:
    if not latencies_ms:
        return {"count": 0}
    ordered = sorted(latencies_ms)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)

    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


async def closed_loop(
    exchange: Exchange, pool: VoterPool, voters: int, warmup_s: float, measure_s: float, timeout_s: float = 30.0
) -> dict[str, Any]:
    """`voters` concurrent voters, each sending as soon as it has its reply; msgs/s over the window."""
    recorder = Recorder()
    stop_at = time.perf_counter() + warmup_s + measure_s
    recorder.window_start = time.perf_counter() + warmup_s
    recorder.window_end = stop_at

    async def run_voter() -> None:
        while time.perf_counter() < stop_at:
            voter = pool.new()
            while voter.next_index < len(voter.script.messages) and time.perf_counter() < stop_at:
                if not await _one(exchange, voter, recorder, timeout_s):
                    break

    await asyncio.gather(*(run_voter() for _ in range(voters)))
    return {
        "voters": voters,
        "measure_s": measure_s,
        "msgs_per_s": round(len(recorder.latencies_ms) / measure_s, 2),
        "errors": recorder.errors,
        "error_kinds": dict(recorder.error_kinds),
        **summarize(recorder.latencies_ms),
    }


async def open_loop(
    exchange: Exchange,
    pool: VoterPool,
    rate: float,
    duration_s: float,
    *,
    seed: int = 0,
    timeout_s: float = 30.0,
    warmup_s: float = 0.0,
) -> dict[str, Any]:
    """Messages arrive at `rate` per second (Poisson, seeded) for `duration_s`.

    Each arrival is the next message of a voter who has had the reply to their previous one
    (oldest first), or the first message of a new voter when none is waiting, so the offered
    rate does not depend on how fast the side answers.
    """
    rng = random.Random(seed)
    recorder = Recorder()
    idle: collections.deque[Voter] = collections.deque()
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    recorder.window_start = start + warmup_s

    async def send(voter: Voter) -> None:
        if await _one(exchange, voter, recorder, timeout_s) and voter.next_index < len(voter.script.messages):
            idle.append(voter)

    sent = 0
    next_at = start
    while True:
        next_at += rng.expovariate(rate)
        if next_at - start > warmup_s + duration_s:
            break
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        voter = idle.popleft() if idle else pool.new()
        task = asyncio.create_task(send(voter))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    offered_s = time.perf_counter() - start
    unfinished = 0
    if tasks:
        _, pending = await asyncio.wait(list(tasks), timeout=timeout_s + 5)
        unfinished = len(pending)
        for task in pending:  # cannot happen with the per-message timeout; never leave one running
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    return {
        "offered_rate": rate,
        "duration_s": duration_s,
        "sent": sent,
        "achieved_send_rate": round(sent / offered_s, 2),
        "errors": recorder.errors + unfinished,
        "error_kinds": dict(recorder.error_kinds),
        **summarize(recorder.latencies_ms),
    }

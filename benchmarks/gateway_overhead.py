"""What the gateway adds to a voter's wait: the same messages through the gateway and straight to Rasa, at once.

    .venv/bin/python -m benchmarks.gateway_overhead [--baseline REF] [--compare-httpx] [--rate 15] [--duration-s 60]

One Samvad stack (Rasa with the project's model and layout, action server, Redis). The offered load
is split between paths that run at the same time, so the machine's noise hits them alike:

- `direct`: POST to the same Rasa's REST channel with the metadata the gateway would add;
  the answer carries every reply.
- `gateway`: a Telegram update into the gateway's webhook, until the last reply reaches the
  Bot API stand-in (secret check, de-duplication, the voter's lane and state in Redis, Rasa,
  python-telegram-bot's sends).
- with `--compare-httpx`, `gateway-httpx`: a second gateway process, identical except that
  python-telegram-bot sends through its own httpx client (`SAMVAD_TELEGRAM_HTTP_CLIENT=httpx`).
- with `--compare-uvloop`, `gateway-uvloop`: the same gateway on uvloop's event loop.
- with `--baseline REF`, `gateway-REF`: the gateway of an older commit (checked out as a git
  worktree under results/bench/baseline/ for the run), run with the same interpreter: before and
  after, in one run.

Under load, the overhead of a gateway is its p50 minus the direct path's p50 (and the same for
means); Rasa's own spread makes that difference noisy. So each gateway then also runs messages one
at a time, paired with the same message straight to Rasa (`paired`): the median of the pairs'
differences. Both report the gateway's own-time histogram (`samvad_gateway_own_seconds`: webhook
to last reply, minus the waits for Rasa and the Bot API). CPU per message comes from /proc.
Nothing here is asserted; it prints figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from benchmarks import training
from benchmarks.load import Exchange, VoterPool, open_loop
from benchmarks.procstats import ProcStats
from benchmarks.sides import CountingTelegram, SamvadSide, StockSide, serve_bot_api
from benchmarks.stacks import GATEWAY_DB, RASA_DB, WEBHOOK_SECRET, Running, start_gateway, start_redis, start_samvad
from bot.devstack import Stack
from bot.settings import ROOT

HTTPX_GATEWAY_DB = 13  # each extra gateway keeps its state apart from the others'
BASELINE_GATEWAY_DB = 14
UVLOOP_GATEWAY_DB = 15


async def measure(
    running: Running,
    telegram: CountingTelegram,
    stats: ProcStats,
    *,
    gateways: dict[str, tuple[str, int]],
    rate: float,
    duration_s: float,
    rounds: int,
    log: Any,
    sequential: int = 200,
) -> dict[str, Any]:
    """`rounds` runs; in each, `direct` and every gateway share `rate` msgs/s for `duration_s`.

    Then, for each gateway, `sequential` pairs of messages one at a time (see `paired`).
    """
    redis_base = running.urls["redis"]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        direct = StockSide(http, running.urls["rasa"], gateway_metadata=True)
        sides = {
            name: SamvadSide(http, url, WEBHOOK_SECRET, telegram, f"{redis_base}/{db}")
            for name, (url, db) in gateways.items()
        }
        for n, side in enumerate(sides.values()):
            await side.calibrate(first_chat=5_000 + 100 * n)  # chats 100.. are make bench's own calibration
        exchanges = {"direct": direct.exchange, **{name: side.exchange for name, side in sides.items()}}
        share = rate / len(exchanges)
        runs: list[dict[str, Any]] = []
        for round_ in range(rounds):
            before = {name: await own_time_buckets(http, url) for name, (url, _) in gateways.items()}
            stats.start()
            loops = [
                open_loop(exchange, VoterPool(30_000_000 + 1_000_000 * (10 * round_ + n)), share, duration_s, seed=n)
                for n, exchange in enumerate(exchanges.values())
            ]
            results = dict(zip(exchanges, await asyncio.gather(*loops), strict=True))
            processes = stats.stop()
            run = {"paths": results, "processes": processes, **_overhead(results, processes)}
            for name, (url, _) in gateways.items():
                own = delta(before[name], await own_time_buckets(http, url))
                run["overhead"][name]["own_p50_ms"] = quantile(own, 0.5)
                run["overhead"][name]["own_p99_ms"] = quantile(own, 0.99)
            runs.append(run)
            log(_line(round_, run))
        before = {name: await own_time_buckets(http, url) for name, (url, _) in gateways.items()}
        one_at_a_time = await paired(direct.exchange, {name: side.exchange for name, side in sides.items()}, sequential)
        for name, (url, _) in gateways.items():
            own = delta(before[name], await own_time_buckets(http, url))
            pairs = one_at_a_time[name]
            pairs.update(own_p50_ms=quantile(own, 0.5), own_p99_ms=quantile(own, 0.99))
            log(f"{name}, one message at a time, {pairs['pairs']} pairs: the gateway path takes "
                f"{pairs['overhead_p50_ms']} ms more than the direct one (median of the pairs' differences); "
                f"own time p50 {pairs['own_p50_ms']} ms  p99 {pairs['own_p99_ms']} ms")  # fmt: skip
        for side in sides.values():
            await side.close()
    return {
        "rate": rate, "duration_s": duration_s, "runs": runs, "median": _medians(runs), "one_at_a_time": one_at_a_time,
    }  # fmt: skip


async def paired(direct: Exchange, gateways: dict[str, Exchange], steps: int) -> dict[str, dict[str, Any]]:
    """One message at a time: each step of a script straight to Rasa and through every gateway, back to back.

    Each gateway's figure is the median, over `steps` steps, of its time minus the direct path's time
    for the same step of the same script, sent right before or after it (the order rotates), so
    Rasa's own time and the machine's mood mostly cancel out of the difference.
    """
    paths = {"direct": direct, **gateways}
    pools = {name: VoterPool(80_000_000 + 1_000_000 * n) for n, name in enumerate(paths)}
    took: dict[str, list[float]] = {name: [] for name in paths}
    while len(took["direct"]) < steps:
        voters = {name: pool.new() for name, pool in pools.items()}
        for index in range(len(voters["direct"].script.messages)):
            if len(took["direct"]) == steps:
                break
            names = list(paths)
            shift = len(took["direct"]) % len(names)
            for name in names[shift:] + names[:shift]:
                started = time.perf_counter()
                await paths[name](voters[name].id, voters[name].script, index)
                took[name].append((time.perf_counter() - started) * 1000)
    result = {}
    for name in gateways:
        differences = [mine - direct_ms for mine, direct_ms in zip(took[name], took["direct"], strict=True)]
        result[name] = {
            "pairs": len(differences),
            "overhead_p50_ms": round(statistics.median(differences), 2),
            "overhead_mean_ms": round(statistics.fmean(differences), 2),
            "direct_p50_ms": round(statistics.median(took["direct"]), 2),
            "p50_ms": round(statistics.median(took[name]), 2),
        }
    return result


OWN_TIME = "samvad_gateway_own_seconds"


async def own_time_buckets(http: aiohttp.ClientSession, gateway: str) -> dict[float, float]:
    """The gateway's own-time histogram (cumulative count per upper bound, seconds); {} if it has none."""
    async with http.get(f"{gateway}/metrics") as resp:
        text = await resp.text()
    pattern = rf'^{OWN_TIME}_bucket{{le="([^"]+)"}} (\S+)$'
    return {float(le): float(count) for le, count in re.findall(pattern, text, re.M)}


def delta(before: dict[float, float], after: dict[float, float]) -> dict[float, float]:
    return {le: count - before.get(le, 0.0) for le, count in after.items()}


def quantile(buckets: dict[float, float], q: float) -> float | None:
    """Like Prometheus' histogram_quantile: linear within the bucket the quantile falls in (ms)."""
    bounds = sorted(buckets)
    if not bounds or not buckets[bounds[-1]]:
        return None
    rank = q * buckets[bounds[-1]]
    lower, below = 0.0, 0.0
    for le in bounds:
        if buckets[le] >= rank:
            if le == float("inf"):
                return round(lower * 1000, 2)
            share = (rank - below) / (buckets[le] - below) if buckets[le] > below else 1.0
            return round((lower + (le - lower) * share) * 1000, 2)
        lower, below = le, buckets[le]
    return None


def _overhead(paths: dict[str, dict[str, Any]], processes: dict[str, dict[str, float]]) -> dict[str, Any]:
    direct = paths["direct"]
    out: dict[str, Any] = {}
    for name, path in paths.items():
        if name == "direct" or not path.get("count") or not direct.get("count"):
            continue
        out[name] = {
            "overhead_p50_ms": round(path["p50_ms"] - direct["p50_ms"], 2),
            "overhead_mean_ms": round(path["mean_ms"] - direct["mean_ms"], 2),
            "cpu_ms_per_msg": round(processes[name]["cpu_s"] / path["count"] * 1000, 2),
        }
    return {"overhead": out}


def _medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    names = runs[0]["overhead"].keys() if runs else []
    return {
        name: {
            key: round(statistics.median(run["overhead"][name][key] for run in runs), 2)
            for key in ("overhead_p50_ms", "overhead_mean_ms", "cpu_ms_per_msg")
        }
        | {
            key: _median_or_none([run["overhead"][name].get(key) for run in runs])
            for key in ("own_p50_ms", "own_p99_ms")
        }
        for name in names
    }


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


def _line(round_: int, run: dict[str, Any]) -> str:
    paths = run["paths"]
    parts = [f"round {round_ + 1}: direct p50 {paths['direct'].get('p50_ms')} ms"]
    for name, figures in run["overhead"].items():
        parts.append(
            f"{name} p50 {paths[name].get('p50_ms')} ms (overhead p50 {figures['overhead_p50_ms']} ms, "
            f"mean {figures['overhead_mean_ms']} ms, CPU {figures['cpu_ms_per_msg']} ms/msg, "
            f"own time p50 {figures.get('own_p50_ms')} ms)"
        )
    return "; ".join(parts)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    model = args.model or training.ensure_model("samvad", training.PROJECT_CONFIG, allow_stale=True)[0]
    log_dir = ROOT / "results" / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    telegram = CountingTelegram()
    runner, api_url = await serve_bot_api(telegram)
    own = Stack(log_dir=log_dir)
    baseline: Path | None = None
    try:
        redis_base = args.redis_url.rstrip("/") if args.redis_url else start_redis(own)
        await flush(redis_base, GATEWAY_DB, RASA_DB, HTTPX_GATEWAY_DB, BASELINE_GATEWAY_DB, UVLOOP_GATEWAY_DB)
        running = await asyncio.to_thread(
            start_samvad, model, redis_base, log_dir, api_url, telegram.token, rasa_workers=2, rasa_schema_cache=True,
            profile_gateway=args.profile_gateway,
        )  # fmt: skip
        try:
            gateways = {"gateway": (running.urls["gateway"], GATEWAY_DB)}
            variants: list[tuple[str, int, dict[str, Any]]] = []
            if args.compare_httpx:
                variants.append(("gateway-httpx", HTTPX_GATEWAY_DB, {"env": {"SAMVAD_TELEGRAM_HTTP_CLIENT": "httpx"}}))
            if args.compare_uvloop:
                variants.append(("gateway-uvloop", UVLOOP_GATEWAY_DB, {"uvloop": True}))
            if args.baseline:
                baseline = await asyncio.to_thread(_worktree, args.baseline)
                variants.append((f"gateway-{args.baseline}", BASELINE_GATEWAY_DB, {"source": baseline}))
            for name, db, options in variants:
                env = {**options.pop("env", {}), "SAMVAD_REDIS_URL": f"{redis_base}/{db}"}
                url = await asyncio.to_thread(
                    start_gateway, running.stack, name, running.urls["rasa"], redis_base, api_url, telegram.token,
                    env=env, **options,
                )  # fmt: skip
                gateways[name] = (url, db)
            stats = ProcStats()
            for name, pid in running.pids().items():
                stats.track(name, pid)
            result = await measure(
                running, telegram, stats, gateways=gateways, rate=args.rate, duration_s=args.duration_s,
                rounds=args.rounds, log=print, sequential=args.pairs,
            )  # fmt: skip
        finally:
            await asyncio.to_thread(running.stop)
    finally:
        own.stop_all()
        await runner.cleanup()
        if baseline is not None:
            await asyncio.to_thread(_remove_worktree, baseline)
    result["model"] = model.name
    return result


async def flush(redis_base: str, *dbs: int) -> None:
    for db in dbs:
        client = aioredis.Redis.from_url(f"{redis_base}/{db}")
        await client.flushdb()
        await client.aclose()


def _worktree(ref: str) -> Path:
    """A checkout of `ref` to run an older gateway from (removed after the run: `_remove_worktree`)."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    path = ROOT / "results" / "bench" / "baseline" / sha[:12]
    if not (path / "bot").is_dir():
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True)
    return path


def _remove_worktree(path: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=15.0, help="msgs/s offered, shared by every path")
    parser.add_argument("--duration-s", dest="duration_s", type=float, default=60.0, help="seconds per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=300, help="messages one at a time, each path (see paired)")
    parser.add_argument("--compare-httpx", action="store_true", help="a second gateway on PTB's httpx client")
    parser.add_argument("--compare-uvloop", action="store_true", help="a second gateway on uvloop")
    parser.add_argument("--baseline", metavar="REF", help="also run the gateway of this git commit (before/after)")
    parser.add_argument("--model", type=Path, help="the Rasa model (default: the benchmark's cached one)")
    parser.add_argument("--redis-url", help="redis://host:port to use (DBs 10, 11, 13-15 are flushed)")
    parser.add_argument("--profile-gateway", type=Path, help="write a cProfile of the (aiohttp) gateway here")
    parser.add_argument("--out", type=Path, help="write the raw figures here as JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = asyncio.run(main_async(args))
    for name, figures in result["median"].items():
        print(
            f"{name}: overhead p50 {figures['overhead_p50_ms']} ms, mean {figures['overhead_mean_ms']} ms, "
            f"CPU {figures['cpu_ms_per_msg']} ms/msg, own time p50 {figures['own_p50_ms']} ms "
            f"p99 {figures['own_p99_ms']} ms (median of {args.rounds} rounds)"
        )
    for name, pairs in result["one_at_a_time"].items():
        print(
            f"{name}, one at a time: {pairs['overhead_p50_ms']} ms more than straight to Rasa (median of "
            f"{pairs['pairs']} pairs), own time p50 {pairs['own_p50_ms']} ms p99 {pairs['own_p99_ms']} ms"
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

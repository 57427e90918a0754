"""End to end, side by side: stock Rasa (A) against the Samvad stack (B), same data, same message mix.

    .venv/bin/python -m benchmarks.e2e [--quick] [--skip-f1] [--redis-url redis://127.0.0.1:6392]

For each side: msgs/s at saturation (closed loop, N concurrent voters), p50/p95/p99 at a fixed
offered load (open loop, Poisson arrivals), CPU seconds and peak RSS of every process, and the
cross-validated intent F1 of its config. Then the gateway's own ceiling (agent mode, no Rasa),
hand-off latency, broadcast pacing and one long conversation's cost per message
(conversation_length.py). Raw numbers go to results/bench.json; the last line
printed is the B/A summary. Models and F1 are cached under results/bench/ (see training.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks import training
from benchmarks.gateway_overhead import delta, flush, own_time_buckets, quantile
from benchmarks.gateway_overhead import measure as measure_overhead
from benchmarks.load import VoterPool, closed_loop, open_loop
from benchmarks.messages import SCRIPTS
from benchmarks.procstats import ProcStats
from benchmarks.sides import AgentModeSide, CountingTelegram, SamvadSide, StockSide, serve_bot_api
from benchmarks.stacks import GATEWAY_DB, RASA_DB, WEBHOOK_SECRET, Running, start_redis, start_samvad, start_stock
from bot import logs
from bot.devstack import Stack
from bot.settings import ROOT

RESULTS = ROOT / "results" / "bench.json"
HANDOFF_DB = 12


def _profile(quick: bool) -> dict[str, Any]:
    """Phase lengths: the full run, or --quick (about 3 minutes with cached models)."""
    if quick:
        return {"voters": [16], "warmup_s": 3.0, "measure_s": 10.0, "rate": 15.0, "duration_s": 20.0}
    return {"voters": [16, 32], "warmup_s": 5.0, "measure_s": 30.0, "rate": 15.0, "duration_s": 120.0}


def _track(stats: ProcStats, running: Running, extra: dict[str, int]) -> None:
    for name, pid in {**running.pids(), **extra}.items():
        stats.track(name, pid)
    stats.track("bench-driver", os.getpid(), children=False)  # its children are the servers, tracked above


async def _phase(stats: ProcStats, coro: Any) -> dict[str, Any]:
    stats.start()
    result: dict[str, Any] = await coro
    result["processes"] = stats.stop()
    return result


async def saturation(
    side: str, exchange: Any, stats: ProcStats, cfg: dict[str, Any], id_base: int, log: Any
) -> dict[str, Any]:
    """Closed loop at each N; the side's figure is the best msgs/s."""
    runs = []
    for n, voters in enumerate(cfg["voters"]):
        pool = VoterPool(id_base + n * 1_000_000)
        result = await _phase(stats, closed_loop(exchange, pool, voters, cfg["warmup_s"], cfg["measure_s"]))
        runs.append(result)
        log(f"{side} saturation N={voters}: {result['msgs_per_s']:.1f} msgs/s  p50 {result.get('p50_ms')} ms  "
            f"p99 {result.get('p99_ms')} ms  errors {result['errors']}")  # fmt: skip
    return {"saturation": runs, "msgs_per_s": max(r["msgs_per_s"] for r in runs)}


async def fixed_load(
    side: str, exchange: Any, stats: ProcStats, cfg: dict[str, Any], id_base: int, log: Any
) -> dict[str, Any]:
    """Open loop at the fixed offered rate."""
    fixed = await _phase(stats, open_loop(exchange, VoterPool(id_base), cfg["rate"], cfg["duration_s"], seed=0))
    log(f"{side} fixed load {cfg['rate']:.0f} msgs/s for {cfg['duration_s']:.0f} s: p50 {fixed.get('p50_ms')} ms  "
        f"p95 {fixed.get('p95_ms')} ms  p99 {fixed.get('p99_ms')} ms  errors {fixed['errors']}")  # fmt: skip
    return fixed


async def run_stock(
    model: Path, redis_base: str, cfg: dict[str, Any], log_dir: Path, log: Any, extra_pids: dict[str, int]
) -> dict[str, Any]:
    await flush(redis_base, GATEWAY_DB, RASA_DB)
    running = await asyncio.to_thread(start_stock, model, redis_base, log_dir)
    stats = ProcStats()
    _track(stats, running, extra_pids)
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            side = StockSide(http, running.urls["rasa"])
            pool = VoterPool(100)
            for script in SCRIPTS:  # warm up: every code path once, and the reply counts for the record
                voter = pool.new()
                for index in range(len(script.messages)):
                    await side.exchange(voter.id, script, index)
            result = await saturation("A", side.exchange, stats, cfg, 10_000_000, log)
            result["fixed_load"] = await fixed_load("A", side.exchange, stats, cfg, 19_000_000, log)
            result["replies_per_message"] = dict(sorted(side.replies.items()))
    finally:
        running.stop()
    result["model"] = model.name
    return result


async def _rasa_roundtrip(http: aiohttp.ClientSession, gateway: str) -> tuple[float, float]:
    """(sum seconds, count) of the gateway's Rasa round-trip histogram."""
    async with http.get(f"{gateway}/metrics") as resp:
        text = await resp.text()
    total = re.search(r"^samvad_rasa_roundtrip_seconds_sum (\S+)$", text, re.M)
    count = re.search(r"^samvad_rasa_roundtrip_seconds_count (\S+)$", text, re.M)
    return (float(total.group(1)) if total else 0.0, float(count.group(1)) if count else 0.0)


async def run_samvad(
    model: Path,
    redis_base: str,
    cfg: dict[str, Any],
    log_dir: Path,
    log: Any,
    extra_pids: dict[str, int],
    *,
    rasa_workers: int,
    gateway_uvloop: bool,
    rasa_schema_cache: bool,
    agent_mode: bool = True,
    profile_gateway: Path | None = None,
) -> dict[str, Any]:
    await flush(redis_base, GATEWAY_DB, RASA_DB)
    telegram = CountingTelegram()
    runner, api_url = await serve_bot_api(telegram)
    # In a thread: the Bot API stand-in runs on this loop, and the gateway talks to it while starting.
    running = await asyncio.to_thread(
        start_samvad,
        model, redis_base, log_dir, api_url, telegram.token,
        rasa_workers=rasa_workers, gateway_uvloop=gateway_uvloop, rasa_schema_cache=rasa_schema_cache,
        profile_gateway=profile_gateway,
    )  # fmt: skip
    stats = ProcStats()
    _track(stats, running, extra_pids)
    gateway_redis = f"{redis_base}/{GATEWAY_DB}"
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            side = SamvadSide(http, running.urls["gateway"], WEBHOOK_SECRET, telegram, gateway_redis)
            expected = await side.calibrate(first_chat=100)
            log(f"B replies per message (calibrated): {expected}")
            result = await saturation("B", side.exchange, stats, cfg, 10_000_000, log)
            before = await _rasa_roundtrip(http, running.urls["gateway"])
            own_before = await own_time_buckets(http, running.urls["gateway"])
            result["fixed_load"] = fixed = await fixed_load("B", side.exchange, stats, cfg, 19_000_000, log)
            after = await _rasa_roundtrip(http, running.urls["gateway"])
            own = delta(own_before, await own_time_buckets(http, running.urls["gateway"]))
            fixed["gateway_own_p50_ms"], fixed["gateway_own_p99_ms"] = quantile(own, 0.5), quantile(own, 0.99)
            log(
                f"B gateway's own time at {cfg['rate']:.0f} msgs/s (webhook to last reply, without the waits for "
                f"Rasa and the Bot API): p50 {fixed['gateway_own_p50_ms']} ms  p99 {fixed['gateway_own_p99_ms']} ms"
            )
            result["replies_per_message"] = expected
            calls = after[1] - before[1]
            if calls and fixed.get("mean_ms"):
                # The gateway's own share of a message: end-to-end mean minus the mean Rasa round trip.
                rasa_mean_ms = (after[0] - before[0]) / calls * 1000
                result["rasa_roundtrip_mean_ms"] = round(rasa_mean_ms, 2)
                result["gateway_overhead_mean_ms"] = round(fixed["mean_ms"] - rasa_mean_ms, 2)
            if agent_mode:
                gateways = {"gateway": (running.urls["gateway"], GATEWAY_DB)}
                result["gateway_overhead"] = await measure_overhead(
                    running, telegram, stats, gateways=gateways, rate=cfg["rate"],
                    duration_s=min(cfg["duration_s"], 60.0), rounds=1 if cfg["duration_s"] < 60 else 3, log=log,
                    sequential=30 if cfg["duration_s"] < 60 else 300,
                )  # fmt: skip
                result["agent_mode"] = await _agent_mode(side, gateway_redis, stats, cfg, log)
            await side.close()
    finally:
        await asyncio.to_thread(running.stop)
        await runner.cleanup()
    result.update(
        model=model.name, rasa_workers=rasa_workers, gateway_uvloop=gateway_uvloop, rasa_schema_cache=rasa_schema_cache
    )
    return result


async def _agent_mode(
    samvad: SamvadSide, redis_url: str, stats: ProcStats, cfg: dict[str, Any], log: Any
) -> dict[str, Any]:
    agent = AgentModeSide(samvad, redis_url)
    await agent.start()
    try:
        ceiling = await _phase(
            stats, closed_loop(agent.exchange, VoterPool(50_000_000), 32, 2.0, min(cfg["measure_s"], 15.0))
        )
        overhead = await _phase(
            stats, open_loop(agent.exchange, VoterPool(60_000_000), cfg["rate"], min(cfg["duration_s"], 20.0))
        )
    finally:
        await agent.close()
    log(f"gateway ceiling (agent mode, no Rasa, 32 voters): {ceiling['msgs_per_s']:.0f} msgs/s; "
        f"at {cfg['rate']:.0f} msgs/s: p50 {overhead.get('p50_ms')} ms  p99 {overhead.get('p99_ms')} ms")  # fmt: skip
    return {"ceiling": ceiling, "fixed_load": overhead}


async def run_handoff(redis_base: str, messages: int, log: Any) -> dict[str, Any]:
    from benchmarks.handoff_latency import run

    result = await run(messages, 20, f"{redis_base}/{HANDOFF_DB}")
    log(f"hand-off latency p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms")
    return result


async def run_pacing(redis_base: str, log: Any, quick: bool) -> dict[str, Any] | None:
    from benchmarks.pacing import measure

    try:
        result = await measure(f"{redis_base}/{HANDOFF_DB}", quick=quick)
    except ImportError as exc:  # bot/outreach/sender.py (or what it needs) is not there
        log("broadcast pacing: not measured (sender not available)")
        log(f"  ({exc})")
        return None
    log(f"broadcast pacing: {result['achieved_per_s']:.2f} msgs/s achieved / {result['configured_per_s']:.2f} "
        f"configured = {result['ratio']:.3f}")  # fmt: skip
    return result


async def run_conversation_length(redis_base: str, args: argparse.Namespace, log: Any) -> dict[str, Any]:
    """One long conversation straight to Rasa (benchmarks/conversation_length.py), at --conversation-messages."""
    from benchmarks import conversation_length

    argv = ["--messages", str(args.conversation_messages), "--redis-url", redis_base]
    if args.conversation_baseline:
        argv += ["--baseline", args.conversation_baseline]
    result = await conversation_length.run(conversation_length.parse_args(argv))
    log(conversation_length.table(result))
    return result


def machine() -> dict[str, Any]:
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    load = os.getloadavg()
    version_file = training.RASA.parent.parent / "lib" / "python3.10" / "site-packages" / "rasa" / "version.py"
    rasa_version = re.search(r'__version__ = "([^"]+)"', version_file.read_text()) if version_file.exists() else None
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "rasa": rasa_version.group(1) if rasa_version else None,
        "redis": redis_version.split()[2].removeprefix("v=") if redis_version else None,
        "loadavg_at_start": [round(x, 2) for x in load],
    }


def _f1(side: str, config: Path, method: str, skip: bool, stale: bool, log: Any) -> dict[str, Any] | None:
    """The side's intent F1 by `method`, plus any cached figure by the other method."""
    scores: dict[str, Any] = {}
    for name in ("holdout", "cv"):
        cached = training.cached_f1(side, config, name, allow_stale=stale)
        if cached is None and name == method and not skip:
            log(f"f1 {side}: {name} (cached in results/bench/f1/ afterwards)…")
            cached = (
                training.holdout_f1(side, config) if name == "holdout" else training.cross_validated_f1(side, config)
            )
        if cached is not None:
            scores[name] = cached
    if method not in scores:
        log(f"f1 {side}: {method} not measured (--skip-f1 and nothing cached)")
        return scores or None
    return {**scores, "method": method, "overall": scores[method]["overall"]}


def summary_line(result: dict[str, Any]) -> str:
    a, b = result["A"], result["B"]
    throughput = b["msgs_per_s"] / a["msgs_per_s"] if a.get("msgs_per_s") else float("nan")
    p99_a, p99_b = a["fixed_load"].get("p99_ms"), b["fixed_load"].get("p99_ms")
    p99 = p99_b / p99_a if p99_a and p99_b else float("nan")

    def f1(side: dict[str, Any]) -> str:
        return f"{side['f1']['overall']:.3f}" if (side.get("f1") or {}).get("overall") is not None else "n/a"

    return f"throughput ratio B/A: {throughput:.2f}  p99 ratio B/A: {p99:.2f}  f1 A: {f1(a)}  f1 B: {f1(b)}"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cfg = _profile(args.quick)
    if args.voters:
        cfg["voters"] = [int(v) for v in args.voters.split(",")]
    for key in ("warmup_s", "measure_s", "duration_s", "rate"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    log_dir = ROOT / "results" / "bench" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)

    def log(line: str) -> None:
        print(line, flush=True)

    result: dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "config": cfg,
        "stock_config": str(
            args.stock_config.relative_to(ROOT) if args.stock_config.is_relative_to(ROOT) else args.stock_config
        ),  # fmt: skip
    }
    log(f"machine: {result['machine']}")
    sides = args.sides.split(",")
    models: dict[str, tuple[Path, str]] = {}
    if "a" in sides:
        models["A"] = (
            (args.stock_model, "given")
            if args.stock_model
            else _model("stock", args.stock_config, args.allow_stale_models, log)
        )
    if "b" in sides:
        models["B"] = (
            (args.samvad_model, "given")
            if args.samvad_model
            else _model("samvad", training.PROJECT_CONFIG, args.allow_stale_models, log)
        )

    own = Stack(log_dir=log_dir)
    try:
        redis_base = args.redis_url.rstrip("/") if args.redis_url else start_redis(own)
        result["redis"] = "given" if args.redis_url else "own redis-server"
        extra_pids = {name: proc.pid for name, proc in own.procs.items()}
        if "a" in sides:
            result["A"] = await run_stock(models["A"][0], redis_base, cfg, log_dir, log, extra_pids)
            result["A"]["model_note"] = models["A"][1]
        if "b" in sides:
            result["B"] = await run_samvad(
                models["B"][0], redis_base, cfg, log_dir, log, extra_pids,
                rasa_workers=args.rasa_workers, gateway_uvloop=args.gateway_uvloop,
                rasa_schema_cache=args.rasa_schema_cache, agent_mode=not args.no_extras,
                profile_gateway=args.profile_gateway,
            )  # fmt: skip
            result["B"]["model_note"] = models["B"][1]
        if not args.no_extras:
            result["handoff"] = await run_handoff(redis_base, 100 if args.quick else 500, log)
            result["pacing"] = await run_pacing(redis_base, log, args.quick)
            result["conversation_length"] = await run_conversation_length(redis_base, args, log)
            await flush(redis_base, HANDOFF_DB)
    finally:
        own.stop_all()
    if "A" in result:
        result["A"]["f1"] = _f1("stock", args.stock_config, args.f1, args.skip_f1, args.allow_stale_models, log)
    if "B" in result:
        result["B"]["f1"] = _f1("samvad", training.PROJECT_CONFIG, args.f1, args.skip_f1, args.allow_stale_models, log)
    result["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return result


def _model(side: str, config: Path, allow_stale: bool, log: Any) -> tuple[Path, str]:
    model, note = training.ensure_model(side, config, allow_stale=allow_stale)
    log(f"model {side}: {model.relative_to(ROOT) if model.is_relative_to(ROOT) else model} ({note})")
    return model, note


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases (about 3 minutes with cached models)")
    parser.add_argument("--skip-f1", action="store_true", help="use cached F1 only; never run cross-validation")
    parser.add_argument(
        "--f1",
        choices=["cv", "holdout"],
        default="cv",
        help="intent F1 by seeded 5-fold CV (stock Rasa: about an hour the first time, then cached) or one 80/20 split",
    )
    parser.add_argument("--redis-url", help="redis://host:port of a Redis to use (DBs 10-12 are flushed)")
    parser.add_argument("--sides", default="a,b", help="a,b | a | b")
    parser.add_argument("--voters", help="comma-separated N for the saturation runs, e.g. 16,32")
    parser.add_argument("--warmup-s", dest="warmup_s", type=float, help="seconds before each saturation window")
    parser.add_argument("--measure-s", dest="measure_s", type=float, help="seconds of each saturation run")
    parser.add_argument("--duration-s", dest="duration_s", type=float, help="seconds at the fixed offered load")
    parser.add_argument("--rate", type=float, help="the fixed offered load, msgs/s (default 15)")
    parser.add_argument("--rasa-workers", type=int, default=2, help="Sanic workers of B's Rasa")
    flag = argparse.BooleanOptionalAction
    parser.add_argument("--gateway-uvloop", action=flag, default=False, help="run B's gateway on uvloop")
    parser.add_argument(
        "--rasa-schema-cache", action=flag, default=True, help="B's Rasa checks the action response schema once"
    )
    parser.add_argument(
        "--no-extras", action="store_true", help="skip agent mode, hand-off, pacing and the long conversation"
    )
    parser.add_argument(
        "--conversation-messages", type=int, help="length of the long-conversation phase (default 1000, --quick 12)"
    )
    parser.add_argument("--conversation-baseline", metavar="REF", help="also run that phase on this commit's Rasa")
    parser.add_argument("--stock-config", type=Path, default=training.STOCK_CONFIG)
    parser.add_argument("--stock-model", type=Path, help="use this model for A instead of training or the cache")
    parser.add_argument("--samvad-model", type=Path, help="use this model for B instead of training or the cache")
    parser.add_argument(
        "--allow-stale-models",
        action="store_true",
        help="use the newest cached model and F1 when the data changed since (recorded in the results)",
    )
    parser.add_argument("--profile-gateway", type=Path, help="write a cProfile of B's gateway to this file")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.conversation_messages is None:
        args.conversation_messages = 12 if args.quick else 1000
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logs.configure("WARNING")  # the in-process hand-off and pacing phases' info lines would bury the figures
    result = asyncio.run(main_async(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"raw numbers: {args.out}")
    if "A" in result and "B" in result:
        print(summary_line(result))


if __name__ == "__main__":
    main()

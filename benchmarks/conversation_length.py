"""Does a long conversation cost more than a short one? One conversation, one message at a time, before and after.

    .venv/bin/python -m benchmarks.conversation_length [--messages 1000] [--baseline REF] [--baseline-messages 200]

Each side is Rasa started as `make demo` starts it (bot/devstack.py: the schema-cache launcher,
2 Sanic workers, endpoints.yml with the Redis tracker and lock store) with its own action server.
`--baseline REF` also starts the Rasa side of an older commit (its config.yml, endpoints.yml,
rasa_ext/ and bot/actions/, checked out as a git worktree under results/bench/baseline/ and
removed afterwards), with the same trained model. One conversation per side gets the same
messages, straight to Rasa's REST webhook with the metadata the gateway adds (channel, language),
each after the answer to the one before; the two sides take turns message by message, so the
machine's noise hits them alike. The baseline stops after `--baseline-messages`: before the fix
its cost grows with the square of the length, and a thousand messages would take hours.

Printed for the 1st, 10th, 50th, 200th and 1,000th message (those that fit in --messages): the
median latency of a window of messages around it (one pass of the script, so every window holds
the same mix), Rasa's CPU per message over that window (the Rasa process tree, from /proc; the
action server's separately) and the tracker's size in Redis. Then how many answers differ between
the two sides. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from benchmarks.gateway_overhead import _remove_worktree, _worktree, flush
from benchmarks.procstats import _cpu_and_rss, tree
from benchmarks.stacks import start_redis
from bot.devstack import Stack, free_port
from bot.language import Language, detect
from bot.settings import ROOT

RASA_TOKEN = "bench-rasa-token"
CHECKPOINTS = (1, 10, 50, 200, 1000)
# One voter's long chat, cycled: Hindi, English and Hinglish questions, the polling-station form
# (question, then the EPIC number or PIN code), a message the assistant does not understand (once
# per pass, never twice in a row: that hands off to a person and pauses the assistant), thanks.
SCRIPT: tuple[str, ...] = (
    "namaste ji",
    "बूथ पर कौन सा पहचान पत्र ले जाना है",
    "धन्यवाद",
    "where is my polling booth",
    "my epic number is ABC1234567",
    "thank you",
    "mera booth kaha hai",
    "pin 800001",
    "voter id card kaise banwaye",
    "asdf qwer zxcv",
    "how do i register as a new voter",
    "मेरा पोलिंग बूथ कहाँ है",
    "मेरा एपिक नंबर BRP0412345 है",
    "what documents do i need to carry to the polling booth",
    "BRP0498765 ka booth kaha hai",
    "dhanyawad",
    "hello there",
    "thanks",
)
ACTIONS_DB = {"after": 10, "before": 13}  # the action servers' (gateway) databases
RASA_DB = {"after": 11, "before": 12}  # trackers and locks


@dataclass
class Side:
    """One Rasa + action server, and what one conversation cost it message by message."""

    name: str
    rasa_url: str
    rasa_db: int
    pids: dict[str, list[int]]
    latency_ms: list[float] = field(default_factory=list)
    cpu_s: dict[str, list[float]] = field(default_factory=dict)
    tracker_bytes: dict[int, int] = field(default_factory=dict)
    answers: list[list[str]] = field(default_factory=list)


def _cpu(pids: list[int]) -> float:
    return sum(_cpu_and_rss(pid)[0] for pid in pids)


def _answer(replies: list[dict[str, Any]]) -> list[str]:
    return [json.dumps({k: r[k] for k in sorted(r) if k != "recipient_id"}, ensure_ascii=False) for r in replies]


async def send(http: aiohttp.ClientSession, side: Side, sender: str, text: str, language: str) -> None:
    body = {"sender": sender, "message": text, "metadata": {"channel": "telegram", "language": language}}
    cpu_before = {name: _cpu(pids) for name, pids in side.pids.items()}
    started = time.perf_counter()
    async with http.post(f"{side.rasa_url}/webhooks/rest/webhook", json=body) as resp:
        if resp.status != 200:
            raise RuntimeError(f"{side.name}: rasa answered {resp.status}: {(await resp.text())[:200]}")
        replies = await resp.json()
    side.latency_ms.append((time.perf_counter() - started) * 1000)
    for name, pids in side.pids.items():
        side.cpu_s.setdefault(name, []).append(_cpu(pids) - cpu_before[name])
    side.answers.append(_answer(replies))


def window(checkpoint: int, total: int, width: int) -> range:
    """1-based message numbers around `checkpoint`: the first message alone, else `width` of them within 2..total."""
    if checkpoint == 1:
        return range(1, 2)
    start = max(2, min(checkpoint - width // 2, total - width + 1))
    return range(start, min(total, start + width - 1) + 1)


def figures(side: Side, checkpoint: int, width: int) -> dict[str, Any] | None:
    if checkpoint > len(side.latency_ms):
        return None
    numbers = window(checkpoint, len(side.latency_ms), width)
    latencies = [side.latency_ms[n - 1] for n in numbers]
    cpu = {name: sum(values[n - 1] for n in numbers) / len(numbers) * 1000 for name, values in side.cpu_s.items()}
    return {
        "messages": [numbers[0], numbers[-1]],
        "latency_p50_ms": round(statistics.median(latencies), 1),
        "rasa_cpu_ms_per_msg": round(cpu.get("rasa", 0.0), 1),
        "actions_cpu_ms_per_msg": round(cpu.get("actions", 0.0), 1),
        "tracker_kb": round(side.tracker_bytes.get(checkpoint, 0) / 1024, 1),
    }


async def start_side(name: str, root: Path, redis_base: str, log_dir: Path) -> tuple[Stack, Side]:
    stack = Stack(log_dir=log_dir / name)
    try:
        actions_redis = f"{redis_base}/{ACTIONS_DB[name]}"
        actions = await asyncio.to_thread(stack.start_actions, free_port(), actions_redis, root=root)
        rasa = await asyncio.to_thread(
            stack.start_rasa, free_port(), RASA_TOKEN, f"{redis_base}/0", actions, rasa_db=RASA_DB[name], root=root
        )
    except BaseException:
        stack.stop_all()
        raise
    pids = {proc_name: tree(proc.pid) for proc_name, proc in stack.procs.items()}
    return stack, Side(name, rasa, RASA_DB[name], pids)


def _baseline_checkout(ref: str) -> Path:
    """The older commit as a worktree, with this checkout's trained model (`-m models` is relative)."""
    path = _worktree(ref)
    if not (path / "models").exists():
        (path / "models").symlink_to(ROOT / "models", target_is_directory=True)
    return path


async def run(args: argparse.Namespace) -> dict[str, Any]:
    log_dir = ROOT / "results" / "bench" / "logs" / "conversation_length"
    own = Stack(log_dir=log_dir)
    stacks: list[Stack] = []
    baseline: Path | None = None
    sender = f"long-{int(time.time())}"
    try:
        redis_base = args.redis_url.rstrip("/") if args.redis_url else start_redis(own)
        await flush(redis_base, *ACTIONS_DB.values(), *RASA_DB.values())
        roots = {"after": ROOT}
        if args.baseline:
            baseline = roots["before"] = await asyncio.to_thread(_baseline_checkout, args.baseline)
        sides: dict[str, Side] = {}
        for name, root in roots.items():
            stack, sides[name] = await start_side(name, root, redis_base, log_dir)
            stacks.append(stack)
        limits = {"after": args.messages, "before": min(args.baseline_messages, args.messages)}
        trackers = {name: aioredis.Redis.from_url(f"{redis_base}/{side.rasa_db}") for name, side in sides.items()}
        language = Language.HI.value
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
            for n in range(1, args.messages + 1):
                text = SCRIPT[(n - 1) % len(SCRIPT)]
                language = (detect(text) or Language(language)).value  # as the gateway does, message by message
                order = list(sides.values()) if n % 2 else list(reversed(sides.values()))
                for side in order:
                    if n > limits[side.name]:
                        continue
                    await send(http, side, sender, text, language)
                    if n in CHECKPOINTS or n == limits[side.name]:
                        side.tracker_bytes[n] = int(await trackers[side.name].strlen(f"samvad:tracker:{sender}"))
                if n % 50 == 0:
                    last = {s.name: round(statistics.median(s.latency_ms[-10:]), 1) for s in sides.values()}
                    print(f"  {n} messages; median of the last 10 (ms): {last}", flush=True)
        for client in trackers.values():
            await client.aclose()
    finally:
        for stack in stacks:
            await asyncio.to_thread(stack.stop_all)
        own.stop_all()
        if baseline is not None:
            (baseline / "models").unlink(missing_ok=True)
            await asyncio.to_thread(_remove_worktree, baseline)
    return report(sides, args)


def report(sides: dict[str, Side], args: argparse.Namespace) -> dict[str, Any]:
    width = min(len(SCRIPT), max(1, args.messages - 1))
    checkpoints = sorted({c for c in CHECKPOINTS if c <= args.messages} | {args.messages})
    result: dict[str, Any] = {
        "messages": args.messages,
        "baseline": args.baseline,
        "baseline_commit": _commit(args.baseline) if args.baseline else None,
        "commit": _commit("HEAD"),
        "window": width,
        "sides": {name: {str(c): figures(side, c, width) for c in checkpoints} for name, side in sides.items()},
    }
    if "before" in sides:
        both = min(len(sides["before"].answers), len(sides["after"].answers))
        differ = [n + 1 for n in range(both) if sides["before"].answers[n] != sides["after"].answers[n]]
        result["answers"] = {"compared": both, "differ": differ}
    for name, side in sides.items():
        ten, last = figures(side, 10, width), figures(side, len(side.latency_ms), width)
        if ten and last and len(side.latency_ms) > 10:
            result["sides"][name]["ratio_last_to_10th"] = {
                "latency": _ratio(last["latency_p50_ms"], ten["latency_p50_ms"]),
                "rasa_cpu": _ratio(last["rasa_cpu_ms_per_msg"], ten["rasa_cpu_ms_per_msg"]),
                "last": len(side.latency_ms),
            }
    return result


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def _commit(ref: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", ref], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def table(result: dict[str, Any]) -> str:
    lines = ["| side | message | latency p50 | Rasa CPU / msg | actions CPU / msg | tracker in Redis |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, rows in result["sides"].items():
        label = f"{name} ({result['baseline_commit'] if name == 'before' else result['commit']})"
        for checkpoint, row in rows.items():
            if checkpoint == "ratio_last_to_10th" or row is None:
                continue
            lines.append(
                f"| {label} | {checkpoint} (msgs {row['messages'][0]}-{row['messages'][1]}) | "
                f"{row['latency_p50_ms']} ms | {row['rasa_cpu_ms_per_msg']} ms | {row['actions_cpu_ms_per_msg']} ms | "
                f"{row['tracker_kb']} KB |"
            )
    for name, rows in result["sides"].items():
        ratio = rows.get("ratio_last_to_10th")
        if ratio:
            lines.append(
                f"{name}: message {ratio['last']} / message 10: "
                f"latency {ratio['latency']}x, Rasa CPU {ratio['rasa_cpu']}x"
            )
    if "answers" in result:
        differ = result["answers"]["differ"]
        lines.append(f"answers compared: {result['answers']['compared']}, different: {len(differ)} {differ[:20]}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000, help="length of the conversation (default 1000)")
    parser.add_argument("--baseline", metavar="REF", help="also run this commit's Rasa side, message for message")
    parser.add_argument(
        "--baseline-messages", type=int, default=200, help="stop the baseline after this many (default 200)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke test: 12 messages")
    parser.add_argument("--redis-url", help="redis://host:port to use (DBs 10-13 are flushed)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages = min(args.messages, 12)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not list((ROOT / "models").glob("*.tar.gz")):
        raise SystemExit("no trained model in models/: run `make train`")
    result = asyncio.run(run(args))
    print(table(result))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

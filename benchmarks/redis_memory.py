"""Redis memory per stored voter, at 1,000, 100,000 and 1,000,000 voters, written by a generator.

    .venv/bin/python -m benchmarks.redis_memory [--sizes 1000,100000,1000000] [--quick]

A throwaway redis-server of its own (no persistence, on a free port) is filled, size after size, with
voter state laid out as the gateway writes it (bot/keys.py, bot/store.py, bot/consent.py):

- the voter hash (channel, chat_id, first_seen, mode, language, language_locked), as ARRIVAL_LUA and
  `VoterStore.set_language` leave it;
- the transcript list, one `turn_json` per voter message and per reply, trimmed to the last
  `transcript_max_turns` (200) and expiring after `transcript_ttl_s` (30 days), as the gateway keeps it;
  the voters' texts are the benchmark scripts' Hindi, English and Hinglish, the replies are domain.yml's;
- for the voters who subscribed, the consent hash, the subscribers set and one consent-ledger entry.

How much each voter says is drawn from a fixed-seed distribution (most ask one to three things, a few
come back for many; 1 + a geometric number of messages, mean about 3.3, at most 100), so every run
writes the same bytes. Commands are pipelined, 500 voters a round trip. After each size it prints
used_memory per voter (the growth over the empty server's used_memory, divided by the voters), the RSS,
and MEMORY USAGE of a sample of each key kind. Then what the short-lived per-message keys cost (the
Telegram update de-duplication keys, kept 48 hours). Nothing is asserted.

Not counted here: Rasa's tracker of the same voter, which lives in Rasa's tracker store
(benchmarks.tracker_stores prints its size), and the inbox, which is empty between messages.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import yaml

from benchmarks.conversation_length import SCRIPT
from benchmarks.messages import SCRIPTS
from bot import keys
from bot.consent import ConsentState, conversation_hash, ledger_entry
from bot.devstack import free_port, wait_for_port
from bot.models import Mode
from bot.settings import ROOT

TRANSCRIPT_MAX_TURNS = 200  # Settings.transcript_max_turns
TRANSCRIPT_TTL_S = 30 * 24 * 3600  # Settings.transcript_ttl_s
DEDUP_TTL_S = 48 * 3600  # Settings.dedup_ttl_s
BATCH = 500
CHANNELS = (("telegram", "tg", 0.5), ("whatsapp", "wa", 0.35), ("webchat", "web", 0.15))
SUBSCRIBED_SHARE = 0.3
HINDI_SHARE = 0.65


def replies() -> dict[str, list[str]]:
    """domain.yml's response texts, by language (a response without a language condition goes to both)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {"hi": [], "en": []}
    for variants in domain["responses"].values():
        for variant in variants:
            if not variant.get("text"):
                continue
            languages = [c["value"] for c in variant.get("condition") or [] if c.get("name") == "language"]
            for language in languages or ["hi", "en"]:
                if language in found:
                    found[language].append(variant["text"])
    return found


def voter_texts() -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {"hi": list(SCRIPT), "en": list(SCRIPT)}
    for script in SCRIPTS:
        texts["en" if script.language == "en" else "hi"].extend(script.messages)
    return texts


@dataclass
class Generator:
    """Voter i's state, the same bytes on every run."""

    seed: int = 17

    def __post_init__(self) -> None:
        self.replies = replies()
        self.texts = voter_texts()
        self.started = 1_780_000_000.0  # a fixed clock: timestamps have the length of real ones

    def messages(self, rng: random.Random) -> int:
        count = 1
        while count < 100 and rng.random() > 0.3:
            count += 1
        return count

    def write(self, pipe: Any, index: int) -> int:
        """Queue voter `index`'s keys on the pipeline; returns how many messages the voter sent."""
        rng = random.Random(self.seed * 1_000_003 + index)
        pick = rng.random()
        channel, short = next((c, s) for c, s, share in _cumulative() if pick < share)
        chat_id = _chat_id(channel, index)
        conv = f"{short}:{chat_id}"
        language = "hi" if rng.random() < HINDI_SHARE else "en"
        first_seen = self.started + index * 0.37
        pipe.hset(
            keys.voter(conv),
            mapping={
                "channel": channel,
                "chat_id": chat_id,
                "first_seen": str(first_seen),
                "mode": Mode.BOT.value,
                "language": language,
                **({"language_locked": "1"} if rng.random() < 0.4 else {}),
            },
        )
        sent = self.messages(rng)
        turns: list[str] = []
        at = first_seen
        for _ in range(sent):
            at += rng.uniform(5, 600)
            turns.append(_turn("voter", rng.choice(self.texts[language]), at))
            turns.append(_turn("bot", rng.choice(self.replies[language]), at + 0.6))
        turns = turns[-TRANSCRIPT_MAX_TURNS:]
        pipe.rpush(keys.transcript(conv), *turns)
        pipe.expire(keys.transcript(conv), TRANSCRIPT_TTL_S)
        if rng.random() < SUBSCRIBED_SHARE:
            details = {"channel": channel, "language": language, "notice_version": "1"}
            if rng.random() < 0.5:
                details["constituency"] = f"AC-{rng.randrange(1, 4124):04d}"
            now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(at))
            pipe.hset(keys.consent(conv), mapping={"state": ConsentState.SUBSCRIBED.value, "at": now, **details})
            pipe.sadd(keys.SUBSCRIBERS, conv)
            pipe.xadd(keys.CONSENT_LEDGER, ledger_entry(conv, ConsentState.SUBSCRIBED, now, details))
        return sent


def _cumulative() -> list[tuple[str, str, float]]:
    total, out = 0.0, []
    for channel, short, share in CHANNELS:
        total += share
        out.append((channel, short, total))
    out[-1] = (out[-1][0], out[-1][1], 1.01)
    return out


def _chat_id(channel: str, index: int) -> str:
    if channel == "telegram":
        return str(5_000_000_000 + index * 7)
    if channel == "whatsapp":
        return f"91{7_000_000_000 + index * 13}"
    return conversation_hash(f"web{index}")[:32]  # the web chat's client-made identity


def _turn(who: str, text: str, at: float) -> str:
    """`bot.store.turn_json` with a given clock."""
    return json.dumps({"who": who, "text": text, "at": at}, ensure_ascii=False)


def start_redis() -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(port, "redis", 20)
    return proc, port


def sample_usage(client: redis.Redis, voters: int, count: int = 200) -> dict[str, float]:
    """Mean MEMORY USAGE of each key kind over a sample of voters (those that have it)."""
    rng = random.Random(5)
    sizes: dict[str, list[int]] = {"voter": [], "transcript": [], "consent": []}
    for _ in range(min(count, voters)):
        index = rng.randrange(voters)
        cumulative = random.Random(Generator.seed * 1_000_003 + index).random()
        channel, short = next((c, s) for c, s, share in _cumulative() if cumulative < share)
        conv = f"{short}:{_chat_id(channel, index)}"
        for kind, key in (
            ("voter", keys.voter(conv)),
            ("transcript", keys.transcript(conv)),
            ("consent", keys.consent(conv)),
        ):
            usage = client.memory_usage(key, samples=0)
            if usage:
                sizes[kind].append(int(usage))
    return {kind: (sum(v) / len(v) if v else 0.0) for kind, v in sizes.items()}


def dedup_cost(client: redis.Redis, count: int) -> float:
    """Bytes per Telegram update de-duplication key (one per message, kept DEDUP_TTL_S)."""
    before = int(client.info("memory")["used_memory"])
    with client.pipeline(transaction=False) as pipe:
        for update_id in range(900_000_000, 900_000_000 + count):
            pipe.set(keys.telegram_update(update_id), "1", nx=True, ex=DEDUP_TTL_S)
            if update_id % BATCH == 0:
                pipe.execute()
        pipe.execute()
    return (int(client.info("memory")["used_memory"]) - before) / count


def run(sizes: list[int], out: Path | None = None) -> list[dict[str, Any]]:
    proc, port = start_redis()
    results: list[dict[str, Any]] = []
    try:
        client = redis.Redis(port=port)
        baseline = int(client.info("memory")["used_memory"])
        generator, written, messages = Generator(), 0, 0
        print(f"redis-memory: redis-server {client.info('server')['redis_version']} on port {port}, "
              f"empty used_memory {baseline} B")  # fmt: skip
        for size in sorted(sizes):
            started = time.perf_counter()
            with client.pipeline(transaction=False) as pipe:
                while written < size:
                    messages += generator.write(pipe, written)
                    written += 1
                    if written % BATCH == 0:
                        pipe.execute()
                pipe.execute()
            info = client.info("memory")
            used = int(info["used_memory"])
            row = {
                "voters": size,
                "messages": messages,
                "keys": int(client.dbsize()),
                "used_memory": used,
                "bytes_per_voter": (used - baseline) / size,
                "rss_per_voter": int(info["used_memory_rss"]) / size,
                "sample": sample_usage(client, size),
                "write_s": time.perf_counter() - started,
            }
            results.append(row)
            sample = row["sample"]
            print(
                f"redis-memory: {size:>9,} voters  {row['bytes_per_voter']:7.0f} B/voter used_memory  "
                f"{row['rss_per_voter']:7.0f} B/voter RSS  total {used / 2**20:8.1f} MiB  "
                f"({messages / size:.1f} messages/voter; sample: hash {sample['voter']:.0f} B, "
                f"transcript {sample['transcript']:.0f} B, consent {sample['consent']:.0f} B)",
                flush=True,
            )
        dedup = dedup_cost(client, min(10_000, max(sizes)))
        print(f"redis-memory: {dedup:.0f} B per in-flight message (Telegram de-duplication key, kept 48 h)")
        results.append({"dedup_bytes_per_message": dedup})
    finally:
        proc.terminate()
        proc.wait(10)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated voter counts")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 200 and 1,000 voters")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    sizes = [200, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    run(sizes, args.out)


if __name__ == "__main__":
    sys.exit(main())

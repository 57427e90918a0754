"""`make scale-demo`: many gateways and Rasa servers on a real Redis Cluster, under load, with faults.

Starts benchmarks/scale_stack.py's layout, then voters in Hindi, English and Hinglish (benchmarks/scale_load.py)
and agents in the console. While the load runs it kills one gateway (SIGKILL) and stalls one Redis master
(DEBUG SLEEP) until its replica takes over. Prints what each process cost and, last:

    scale-demo: throughput X msgs/s  p99 Y ms  lost N  out_of_order N  double_assigned N

    .venv/bin/python -m benchmarks.scale_demo [--voters 45] [--duration-s 60] [--agents 4] [--no-faults]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp
from aiohttp import web

from benchmarks import scale_stack
from benchmarks.procstats import ProcStats
from benchmarks.scale_load import QUESTIONS, Agents, Load, RecordingTelegram, score
from bot import redis_client
from bot.console.accounts import Accounts, Role
from bot.devstack import free_port

PASSWORD = "scale demo password 1"
SLEEP_S = 8  # how long the stalled master stays silent: well past the cluster's node timeout (2 s)


async def main(args: argparse.Namespace) -> int:
    telegram = RecordingTelegram()
    runner = web.AppRunner(telegram.app())
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("scale-demo: starting 3 Redis masters + 3 replicas, 2 Rasa servers, the action server, HAProxy, 2 gateways")
    started = time.monotonic()
    scale = await asyncio.to_thread(scale_stack.start, f"http://127.0.0.1:{port}", telegram.token)
    print(f"scale-demo: up in {time.monotonic() - started:.0f} s; logs in {scale.stack.log_dir}")
    try:
        return await _run(args, telegram, scale)
    finally:
        await asyncio.to_thread(scale.stop)
        await runner.cleanup()


async def _run(args: argparse.Namespace, telegram: RecordingTelegram, scale: scale_stack.ScaleStack) -> int:
    redis = redis_client.connect(scale.urls["redis"], cluster=True)
    accounts = Accounts(redis)
    names = [f"agent{n}" for n in range(1, args.agents + 1)]
    for name in names:
        await accounts.add(name, PASSWORD, role=Role.AGENT, languages=["hi", "en"], capacity=3)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=500)) as session:
        load = Load(telegram, scale.urls["lb_gateway"], session)
        await load.learn(chat_base=9_000_000)
        known = {lang: len(found) for lang, found in load.expected.items()}
        print(f"scale-demo: questions with a known first answer, by language: {known}")
        stats = ProcStats()
        for name, pid in scale.pids().items():
            stats.track(name, pid)
        stats.start()
        redis_before = await asyncio.to_thread(_redis_totals, scale)
        sent_before = load.tally.sent
        agents = Agents(load, scale.urls["lb_gateway"])
        languages = list(QUESTIONS)
        voters = [
            asyncio.create_task(load.voter(1_000_000 + n, languages[n % len(languages)], args.ask_person_every))
            for n in range(args.voters)
        ]
        workers = [asyncio.create_task(agents.work(name, PASSWORD)) for name in names]
        began = time.monotonic()
        faults = asyncio.create_task(_faults(scale, args.duration_s)) if not args.no_faults else None
        await asyncio.sleep(args.duration_s)
        load.running = False
        await asyncio.gather(*voters)  # each finishes its round: every answer it waits for has come, or its timeout
        elapsed = time.monotonic() - began
        load.staffed = False
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        fault_notes = await faults if faults else []
        redis_used = {k: v - redis_before.get(k, 0) for k, v in (await asyncio.to_thread(_redis_totals, scale)).items()}
        for chat, last in list(load.unanswered.items())[:3]:
            print(f"scale-demo: hand-off of chat {chat} unanswered; its last replies: {last}")
        if agents.refused:
            print(f"scale-demo: console calls refused: {dict(agents.refused)}")
        costs = stats.stop()
    await redis.aclose()
    messages = load.tally.sent - sent_before
    per = {k: v / max(messages, 1) for k, v in redis_used.items()}
    print(
        f"scale-demo: Redis per voter message: cluster {per['cluster_commands']:.1f} commands, "
        f"{per['cluster_in'] / 1024:.1f} KB in, {per['cluster_out'] / 1024:.1f} KB out (replication included); "
        f"Rasa's tracker Redis {per['tracker_commands']:.1f} commands, {per['tracker_in'] / 1024:.1f} KB in, "
        f"{per['tracker_out'] / 1024:.1f} KB out"
    )
    return report(load, telegram, costs, fault_notes, messages, elapsed)


def _redis_totals(scale: scale_stack.ScaleStack) -> dict[str, int]:
    """Commands processed and network bytes so far, summed over the cluster's nodes, and for Rasa's Redis."""
    totals = {"cluster_commands": 0, "cluster_in": 0, "cluster_out": 0}
    fields = {"total_commands_processed": "commands", "total_net_input_bytes": "in", "total_net_output_bytes": "out"}
    for port in scale.cluster.live_ports():
        stats = scale.cluster.info_section(port, "stats")
        for field, name in fields.items():
            totals[f"cluster_{name}"] += int(stats.get(field, 0))
    tracker_port = int(scale.urls["tracker"].rsplit(":", 1)[1])
    stats = scale.cluster.info_section(tracker_port, "stats")
    for field, name in fields.items():
        totals[f"tracker_{name}"] = int(stats.get(field, 0))
    return totals


async def _faults(scale: scale_stack.ScaleStack, duration_s: float) -> list[str]:
    notes = []
    await asyncio.sleep(duration_s * 0.3)
    victim = scale.gateways[-1]
    at = time.monotonic()
    scale.stack.stop(victim, signal.SIGKILL)
    notes.append(f"killed {victim} (SIGKILL) at {duration_s * 0.3:.0f} s")
    await asyncio.sleep(max(duration_s * 0.6 - (time.monotonic() - at) - duration_s * 0.3, 0))
    cluster = scale.cluster
    masters = [port for port, role in (await asyncio.to_thread(cluster.roles)).items() if role == "master"]
    stalled = masters[0]
    subprocess.Popen(["redis-cli", "-p", str(stalled), "debug", "sleep", str(SLEEP_S)], stdout=subprocess.DEVNULL)
    began = time.monotonic()
    others = [port for port in cluster.live_ports() if port != stalled]
    took_over = None
    while time.monotonic() - began < SLEEP_S + 10:
        roles = await asyncio.to_thread(lambda: {p: cluster._cli(p, "role").split("\n")[0] for p in others})
        if sum(role == "master" for role in roles.values()) == len(masters):
            took_over = time.monotonic() - began
            break
        await asyncio.sleep(0.2)
    promoted = f"its replica was master {took_over:.1f} s later" if took_over else "no replica took over"
    at_s = duration_s * 0.6
    notes.append(f"stalled Redis master :{stalled} for {SLEEP_S} s (DEBUG SLEEP) at {at_s:.0f} s; {promoted}")
    return notes


def report(
    load: Load,
    telegram: RecordingTelegram,
    costs: dict[str, dict[str, float]],
    faults: list[str],
    messages: int,
    elapsed: float,
) -> int:
    scored = score(load.tally, telegram.by_chat)
    latencies = sorted(scored["latencies_ms"]) or [0.0]
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    tally = load.tally
    for note in faults:
        print(f"scale-demo: fault: {note}")
    print(
        f"scale-demo: voter messages {messages} in {elapsed:.0f} s; "
        f"questions {sum(map(len, tally.questions.values()))}; "
        f"hand-offs asked {tally.handoffs_asked}, answered by an agent {tally.handoffs_answered}; "
        f"webhook deliveries repeated {tally.webhook_retries}; agent calls repeated {tally.agent_errors}"
    )
    print(f"scale-demo: answer latency p50 {p50:.0f} ms  p99 {p99:.0f} ms")
    print(f"scale-demo: {'process':<18} {'CPU ms/msg':>10} {'peak RSS MB':>12}")
    for name, cost in sorted(costs.items()):
        per_message = cost["cpu_s"] * 1000 / max(messages, 1)
        print(f"scale-demo: {name:<18} {per_message:>10.2f} {cost['peak_rss_mb']:>12.1f}")
    print(
        "scale-demo: a stalled or killed Redis master can lose the writes it acknowledged but had not yet sent "
        "to its replica (replication is asynchronous), and at most about 1 s of writes on a crash of both "
        "(appendfsync everysec); a killed gateway loses nothing (inboxes are in Redis, Telegram redelivers)"
    )
    print(
        f"scale-demo: throughput {messages / elapsed:.1f} msgs/s  p99 {p99:.0f} ms  lost {scored['lost']}  "
        f"out_of_order {scored['out_of_order']}  double_assigned {tally.double_assigned}"
    )
    return 0 if scored["lost"] == scored["out_of_order"] == tally.double_assigned == 0 else 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_demo", description=__doc__.split("\n")[0])
    parser.add_argument("--voters", type=int, default=45)
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--ask-person-every", type=int, default=4, help="each voter's Nth round asks for a person")
    parser.add_argument("--no-faults", action="store_true")
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    return asyncio.run(main(parse(argv)))


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))


__all__: list[Any] = ["run"]

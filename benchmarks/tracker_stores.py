"""Rasa at scale: the per-message cost of each shared tracker store, and several Rasa servers behind HAProxy.

    .venv/bin/python -m benchmarks.tracker_stores [--messages 200] [--conversations 4] [--quick]

Started here, all throwaway: a Redis master with one replica and one Sentinel watching them (redis-server
on free ports), a database on the local PostgreSQL (`--pg`, created and dropped), the action server, and
Rasa with the trained model through the schema-cache launcher, one Sanic worker per server. Stores:

- `sentinel`: rasa_ext.sentinel (the bounded Redis tracker store of endpoints.yml and Rasa's Redis lock
  store, on the master the Sentinel names): ops/rasa/endpoints-sentinel.yml;
- `postgres`: Rasa's SQL tracker store on PostgreSQL, the lock store as above: ops/rasa/endpoints-postgres.yml.

For each store, one Rasa server gets `--conversations` conversations in lockstep (message n of each,
then message n+1), one message at a time, straight to the REST webhook with the gateway's metadata,
the script of benchmarks.conversation_length. Printed per store, for windows around the 1st, 10th, 50th,
200th... message: latency median and p99 (over the window's messages of every conversation), Rasa's
CPU ms per message (its process tree, from /proc), the store's own CPU ms per message (the Redis master
and replica, or every PostgreSQL process) and the tracker's size in the store.

Then `shared`: `--servers` Rasa servers with the Sentinel endpoints behind one HAProxy (round robin,
a new connection per request, so each message of a conversation goes to another server), and
`--concurrency` conversations at once: throughput, latency p50/p99, how many requests each server took,
and how many answers differ from those one server gave for the same messages (0 when the shared tracker
and lock stores work). Last, a Sentinel failover (SENTINEL FAILOVER) while conversations go on:
how many messages failed and whether the conversations continued on the new master. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis

from benchmarks.conversation_length import SCRIPT, Side, send, window
from benchmarks.procstats import _cpu_and_rss, tree
from benchmarks.stacks import _rasa
from bot.devstack import TRACKER_TTL_S, Stack, free_port, wait_for_port
from bot.language import Language, detect
from bot.settings import ROOT

RASA_TOKEN = "bench-rasa-token"
SERVICE = "samvad-rasa"
RASA_DB = 0
ACTIONS_DB = 10
CHECKPOINTS = (1, 10, 50, 200, 1000)
OPS = ROOT / "ops" / "rasa"


@dataclass
class Infra:
    """The servers every store shares: Redis master, replica, Sentinel, PostgreSQL database, actions."""

    stack: Stack
    master_port: int = 0
    replica_port: int = 0
    sentinel_port: int = 0
    pg: dict[str, str] = field(default_factory=dict)
    actions: str = ""

    def env(self) -> dict[str, str]:
        return {
            "ACTION_SERVER_URL": f"{self.actions}/webhook",
            "ACTION_SERVER_TOKEN": self.stack.action_token,
            "RASA_REDIS_SENTINELS": f"127.0.0.1:{self.sentinel_port}",
            "RASA_REDIS_SERVICE": SERVICE,
            "RASA_REDIS_PASSWORD": "",
            "RASA_REDIS_DB": str(RASA_DB),
            "RASA_TRACKER_TTL_S": str(TRACKER_TTL_S),
            "RASA_PG_HOST": self.pg["host"],
            "RASA_PG_PORT": self.pg["port"],
            "RASA_PG_DB": self.pg["db"],
            "RASA_PG_USER": self.pg["user"],
            "RASA_PG_PASSWORD": self.pg["password"],
            "SANIC_WORKERS": "1",
        }

    def master(self) -> redis.Redis:
        sentinel = redis.Redis(port=self.sentinel_port, decode_responses=True)
        host, port = sentinel.sentinel_get_master_addr_by_name(SERVICE)
        return redis.Redis(host=host, port=int(port))


def _redis_server(stack: Stack, name: str, port: int, *extra: str) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed")
    # AOF on, fsync every second: what docs/operations.md recommends for Rasa's and the gateway's Redis.
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"]
    cmd += ["--appendfsync", "everysec", "--dir", str(stack.log_dir / name), *extra]
    (stack.log_dir / name).mkdir(parents=True, exist_ok=True)
    stack.spawn(name, cmd)
    wait_for_port(port, name, 20)


def start_infra(stack: Stack, pg_url: str) -> Infra:
    infra = Infra(stack, free_port(), free_port(), free_port())
    actions_port = free_port()  # the gateway's Redis, which the actions use: not part of Rasa's failover
    _redis_server(stack, "redis-actions", actions_port)
    _redis_server(stack, "redis-master", infra.master_port)
    _redis_server(stack, "redis-replica", infra.replica_port, "--replicaof", "127.0.0.1", str(infra.master_port))
    conf = stack.log_dir / "sentinel.conf"  # Sentinel rewrites its file: one of our own
    conf.write_text(
        f"port {infra.sentinel_port}\nbind 127.0.0.1\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {infra.master_port} 1\n"
        f"sentinel down-after-milliseconds {SERVICE} 2000\nsentinel failover-timeout {SERVICE} 10000\n"
    )
    stack.spawn("sentinel", [shutil.which("redis-server") or "redis-server", str(conf), "--sentinel"])
    wait_for_port(infra.sentinel_port, "sentinel", 20)
    infra.pg = create_database(pg_url)
    infra.actions = stack.start_actions(free_port(), f"redis://127.0.0.1:{actions_port}/{ACTIONS_DB}")
    return infra


def create_database(pg_url: str) -> dict[str, str]:
    """A fresh database on the PostgreSQL at `pg_url` (postgresql://user[:password]@host:port)."""
    from urllib.parse import urlsplit

    url = urlsplit(pg_url)
    pg = {
        "host": url.hostname or "127.0.0.1",
        "port": str(url.port or 5432),
        "user": url.username or "postgres",
        "password": url.password or "",
        "db": f"samvad_bench_{os.getpid()}",
    }
    _psql(pg, "postgres", f"DROP DATABASE IF EXISTS {pg['db']}")
    _psql(pg, "postgres", f"CREATE DATABASE {pg['db']}")
    return pg


def _psql(pg: dict[str, str], db: str, sql: str) -> str:
    env = {**os.environ, "PGPASSWORD": pg["password"]}
    cmd = ["psql", "-h", pg["host"], "-p", pg["port"], "-U", pg["user"], "-d", db, "-tAX", "-c", sql]
    return subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def drop_database(pg: dict[str, str]) -> None:
    if pg:
        _psql(pg, "postgres", f"DROP DATABASE IF EXISTS {pg['db']} WITH (FORCE)")


def store_pids(store: str, infra: Infra) -> list[int]:
    """The processes doing the store's work: Redis master and replica, or every PostgreSQL process.

    For PostgreSQL that is the backends serving Rasa and the WAL writer, checkpointer and the rest
    (the server is shared: another client's work would count too; none runs during the benchmark).
    """
    if store == "postgres":
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "comm").read_text().strip() == "postgres":
                        found.append(int(entry.name))
                except OSError:
                    continue
        return found
    return [infra.stack.procs["redis-master"].pid, infra.stack.procs["redis-replica"].pid]


def tracker_size(store: str, infra: Infra, sender: str) -> tuple[int, int]:
    """(bytes, events) the store holds for one conversation."""
    if store == "postgres":
        row = _psql(infra.pg, infra.pg["db"], f"SELECT count(*), coalesce(sum(length(data)), 0) FROM events "
                    f"WHERE sender_id = '{sender}'")  # fmt: skip
        events, size = (int(x) for x in row.split("|"))
        return size, events
    raw = infra.master().get(f"samvad:tracker:{sender}")
    return (len(raw), len(json.loads(raw)["events"])) if raw else (0, 0)


def start_rasa(stack: Stack, name: str, store: str, infra: Infra, model: Path) -> str:
    endpoints = OPS / ("endpoints-postgres.yml" if store == "postgres" else "endpoints-sentinel.yml")
    return _rasa(stack, name, model, endpoints, infra.env(), RASA_TOKEN, schema_cache=True)


def _cpu(pids: list[int]) -> float:
    return sum(_cpu_and_rss(pid)[0] for pid in pids)


async def one_store(
    store: str, infra: Infra, model: Path, messages: int, conversations: int, keep: Stack | None = None
) -> dict[str, Any]:
    """One Rasa server on `store`; `conversations` conversations in lockstep, one message at a time.

    With `keep`, the server is started in that stack and left running (the caller stops it).
    """
    stack = keep or Stack(log_dir=infra.stack.log_dir / store)
    try:
        url = await asyncio.to_thread(start_rasa, stack, "rasa", store, infra, model)
        rasa_pids = tree(stack.procs["rasa"].pid)
        senders = [f"{store}-{i}-{int(time.time())}" for i in range(conversations)]
        sides = [Side(s, url, RASA_DB, {"rasa": rasa_pids}) for s in senders]
        store_cpu: list[float] = []
        sizes: dict[int, list[tuple[int, int]]] = {}
        language = Language.HI.value
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
            for n in range(1, messages + 1):
                text = SCRIPT[(n - 1) % len(SCRIPT)]
                language = (detect(text) or Language(language)).value
                for sender, side in zip(senders, sides, strict=True):
                    pids = store_pids(store, infra)
                    before = _cpu(pids)
                    await send(http, side, sender, text, language)
                    store_cpu.append(_cpu(pids) - before)
                if n in CHECKPOINTS or n == messages:
                    sizes[n] = [tracker_size(store, infra, s) for s in senders]
                if n % 50 == 0:
                    last = statistics.median(x for side in sides for x in side.latency_ms[-5:])
                    print(f"  {store}: {n} messages; median of the last 5 each: {last:.1f} ms", flush=True)
        return {**report(store, sides, store_cpu, sizes, messages), "url": url}
    finally:
        if keep is None:
            await asyncio.to_thread(stack.stop_all)


def report(
    store: str, sides: list[Side], store_cpu: list[float], sizes: dict[int, list[tuple[int, int]]], messages: int
) -> dict[str, Any]:
    width = min(len(SCRIPT), max(1, messages - 1))
    conversations = len(sides)
    rows = []
    for checkpoint in sorted({c for c in CHECKPOINTS if c <= messages} | {messages}):
        numbers = window(checkpoint, messages, width)
        latencies = sorted(side.latency_ms[n - 1] for side in sides for n in numbers)
        rasa_cpu = [side.cpu_s["rasa"][n - 1] for side in sides for n in numbers]
        own = [store_cpu[(n - 1) * conversations + i] for n in numbers for i in range(conversations)]
        size = sizes.get(checkpoint) or sizes[max(k for k in sizes if k <= checkpoint)]
        rows.append({
            "message": checkpoint,
            "window": [numbers[0], numbers[-1]],
            "samples": len(latencies),
            "latency_p50_ms": round(statistics.median(latencies), 1),
            "latency_p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
            "rasa_cpu_ms_per_msg": round(sum(rasa_cpu) / len(rasa_cpu) * 1000, 1),
            "store_cpu_ms_per_msg": round(sum(own) / len(own) * 1000, 2),
            "tracker_kb": round(statistics.mean(s for s, _ in size) / 1024, 1),
            "tracker_events": round(statistics.mean(e for _, e in size)),
        })  # fmt: skip
    answers = [side.answers for side in sides]
    return {"store": store, "rows": rows, "answers": answers}


def haproxy_cfg(port: int, servers: list[str], stats_socket: Path) -> str:
    """The Rasa part of ops/haproxy/haproxy.cfg, on loopback, without TLS."""
    lines = [
        "global", f"  stats socket {stats_socket} mode 600 level admin", "  maxconn 4096",
        "defaults", "  mode http", "  timeout connect 5s", "  timeout client 120s", "  timeout server 120s",
        "  option http-server-close",  # a new server connection per request: round robin per message
        f"frontend rasa\n  bind 127.0.0.1:{port}\n  default_backend rasa_servers",
        "backend rasa_servers", "  balance roundrobin", "  option httpchk GET /",
    ]  # fmt: skip
    for i, url in enumerate(servers):
        lines.append(f"  server rasa{i + 1} {url.removeprefix('http://')} check inter 2s")
    return "\n".join(lines) + "\n"


def haproxy_counts(stats_socket: Path) -> dict[str, int]:
    """Requests each Rasa server took, from HAProxy's stats socket."""
    import socket

    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(stats_socket))
        sock.sendall(b"show stat\n")
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    header, *rows = raw.decode().strip().splitlines()
    names = header.lstrip("# ").split(",")
    counts = {}
    for row in rows:
        values = dict(zip(names, row.split(","), strict=False))
        if values.get("pxname") == "rasa_servers" and values.get("svname", "").startswith("rasa"):
            counts[values["svname"]] = int(values.get("stot") or 0)
    return counts


async def shared(
    infra: Infra,
    model: Path,
    servers: int,
    concurrency: int,
    messages: int,
    reference: list[list[str]],
    running: tuple[str, int] | None = None,
) -> dict[str, Any]:
    """`servers` Rasa servers behind HAProxy sharing the Sentinel stores; `concurrency` conversations at once.

    `running`: (url, pid) of a Rasa server on the Sentinel stores already up, counted as the first.
    """
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not Path(binary).exists():
        raise SystemExit("haproxy is not installed: `make tools` installs it")
    stack = Stack(log_dir=infra.stack.log_dir / "shared")
    try:
        urls, pids = ([running[0]], [running[1]]) if running else ([], [])
        for i in range(len(urls), servers):
            urls.append(await asyncio.to_thread(start_rasa, stack, f"rasa{i + 1}", "sentinel", infra, model))
            pids.append(stack.procs[f"rasa{i + 1}"].pid)
        port, socket_path = free_port(), stack.log_dir / "haproxy.sock"
        cfg = stack.log_dir / "haproxy.cfg"
        cfg.write_text(haproxy_cfg(port, urls, socket_path))
        stack.spawn("haproxy", [binary, "-db", "-f", str(cfg)])
        wait_for_port(port, "haproxy", 20)
        await asyncio.sleep(2.5)  # the first health checks
        balancer = f"http://127.0.0.1:{port}"
        rasa_pids = [p for pid in pids for p in tree(pid)]
        cpu_before = _cpu(rasa_pids)
        result = await _drive(balancer, concurrency, messages, "shared")
        result["rasa_cpu_ms_per_msg"] = round((_cpu(rasa_pids) - cpu_before) / max(1, result["count"]) * 1000, 1)
        result["per_server"] = haproxy_counts(socket_path)
        differing = [
            (n, a, reference[n]) for answers in result.pop("answers") for n, a in enumerate(answers)
            if n < len(reference) and a != reference[n]
        ]  # fmt: skip
        result["answers_differing"] = len(differing)
        if differing:
            n, got, want = differing[0]
            print(f"tracker-stores: first differing answer, message {n + 1}: {got} != {want}"[:600])
        # A failover while conversations go on: the stores follow the new master, a message may fail meanwhile.
        await asyncio.to_thread(_wait_for_replica, infra)
        stop = asyncio.Event()
        failover = asyncio.create_task(_drive(balancer, concurrency, 10**6, "failover", tolerate=True, stop=stop))
        await asyncio.sleep(1.0)
        old = infra.master().connection_pool.connection_kwargs["port"]
        redis.Redis(port=infra.sentinel_port).execute_command("SENTINEL", "FAILOVER", SERVICE)
        new = await asyncio.to_thread(_wait_for_new_master, infra, old)
        await asyncio.sleep(3.0)  # and conversations go on on the new master
        stop.set()
        after = await failover
        result["failover"] = {
            "old_master": old, "new_master": new, "messages": after["count"], "failed": after["errors"],
            "p99_ms": after["p99_ms"], "max_ms": after["max_ms"],
        }  # fmt: skip
        return result
    finally:
        await asyncio.to_thread(stack.stop_all)


def _wait_for_replica(infra: Infra, timeout_s: float = 30.0) -> None:
    """Until the Sentinel knows a healthy replica it could promote (it finds replicas every 10 s)."""
    sentinel = redis.Redis(port=infra.sentinel_port, decode_responses=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        replicas = sentinel.sentinel_slaves(SERVICE)
        if any(r.get("is_slave") and not r.get("is_sdown") and r.get("master-link-status") == "ok" for r in replicas):
            return
        time.sleep(0.5)
    raise RuntimeError("the Sentinel found no healthy replica to fail over to")


def _wait_for_new_master(infra: Infra, old: int, timeout_s: float = 30.0) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        port = int(infra.master().connection_pool.connection_kwargs["port"])
        if port != old:
            return port
        time.sleep(0.1)
    raise RuntimeError(f"no failover within {timeout_s:.0f} s")


async def _drive(
    url: str, concurrency: int, messages: int, tag: str, *, tolerate: bool = False, stop: asyncio.Event | None = None
) -> dict[str, Any]:
    latencies: list[float] = []
    answers: list[list[str]] = []
    errors = 0
    started = time.perf_counter()
    stamp = int(time.time() * 1000)

    async def conversation(http: aiohttp.ClientSession, index: int) -> None:
        nonlocal errors
        side = Side(f"{tag}-{index}-{stamp}", url, RASA_DB, {})
        language = Language.HI.value
        for n in range(messages):
            if stop is not None and stop.is_set():
                break
            text = SCRIPT[n % len(SCRIPT)]
            language = (detect(text) or Language(language)).value
            try:
                await send(http, side, side.name, text, language)
            except (RuntimeError, aiohttp.ClientError, TimeoutError):
                if not tolerate:
                    raise
                errors += 1
                side.answers.append([])
        latencies.extend(side.latency_ms)
        answers.append(side.answers)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
        await asyncio.gather(*(conversation(http, i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p = lambda q: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else None  # noqa: E731
    return {
        "count": len(latencies), "errors": errors, "seconds": round(elapsed, 1),
        "throughput": round(len(latencies) / elapsed, 1), "p50_ms": p(0.5), "p99_ms": p(0.99),
        "max_ms": round(latencies[-1], 1) if latencies else None, "answers": answers,
    }  # fmt: skip


def table(results: list[dict[str, Any]]) -> str:
    out = ["| store | message (window) | latency p50 | p99 | Rasa CPU / msg | store CPU / msg | tracker |",
           "|---|---|---|---|---|---|---|"]  # fmt: skip
    for result in results:
        for r in result["rows"]:
            out.append(
                f"| {result['store']} | {r['message']} ({r['window'][0]}-{r['window'][1]}, {r['samples']} msgs) "
                f"| {r['latency_p50_ms']} ms | {r['latency_p99_ms']} ms | {r['rasa_cpu_ms_per_msg']} ms "
                f"| {r['store_cpu_ms_per_msg']} ms | {r['tracker_kb']} KB, {r['tracker_events']} events |"
            )
    return "\n".join(out)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise SystemExit("no trained model in models/: run `make train`")
    log_dir = ROOT / "results" / "bench" / "logs" / "tracker_stores"
    shutil.rmtree(log_dir, ignore_errors=True)
    stack = Stack(log_dir=log_dir)
    infra: Infra | None = None
    stacks: list[Stack] = []
    result: dict[str, Any] = {"messages": args.messages, "conversations": args.conversations}
    try:
        infra = await asyncio.to_thread(start_infra, stack, args.pg)
        stores, running = [], None
        kept = Stack(log_dir=log_dir / "sentinel")  # its Rasa is the first of the shared ones
        stacks.append(kept)
        for store in args.stores.split(","):
            keep = kept if store == "sentinel" and args.servers else None
            stores.append(await one_store(store, infra, models[-1], args.messages, args.conversations, keep))
            if keep is not None:
                running = (stores[-1]["url"], kept.procs["rasa"].pid)
        result["stores"] = [{k: v for k, v in s.items() if k not in ("answers", "url")} for s in stores]
        print(table(stores))
        reference = stores[0]["answers"][0]  # the first conversation on one server
        if len(stores) > 1:
            result["answers_differing_between_stores"] = sum(
                a != b for a, b in zip(stores[0]["answers"][0], stores[1]["answers"][0], strict=False)
            )
            print(f"tracker-stores: answers differing between {stores[0]['store']} and {stores[1]['store']}: "
                  f"{result['answers_differing_between_stores']} of {len(reference)}")  # fmt: skip
        if args.servers:
            shared_result = await shared(
                infra, models[-1], args.servers, args.concurrency, args.messages, reference, running
            )
            result["shared"] = shared_result
            f = shared_result["failover"]
            print(
                f"tracker-stores: shared: {args.servers} Rasa servers behind HAProxy, {args.concurrency} conversations "
                f"at once: {shared_result['throughput']} msgs/s  p50 {shared_result['p50_ms']} ms  "
                f"p99 {shared_result['p99_ms']} ms  Rasa CPU {shared_result['rasa_cpu_ms_per_msg']} ms/msg  "
                f"requests per server {shared_result['per_server']}  answers differing from one server "
                f"{shared_result['answers_differing']}"
            )
            print(
                f"tracker-stores: failover: master {f['old_master']} -> {f['new_master']} during "
                f"{f['messages'] + f['failed']} messages: {f['failed']} failed, p99 {f['p99_ms']} ms, "
                f"max {f['max_ms']} ms"
            )
    finally:
        for kept_stack in stacks:
            await asyncio.to_thread(kept_stack.stop_all)
        if infra is not None:
            await asyncio.to_thread(drop_database, infra.pg)
        await asyncio.to_thread(stack.stop_all)
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200, help="messages per conversation (default 200)")
    parser.add_argument("--conversations", type=int, default=4, help="conversations per store, in lockstep")
    parser.add_argument("--stores", default="sentinel,postgres")
    parser.add_argument("--servers", type=int, default=2, help="Rasa servers behind HAProxy (0: skip)")
    parser.add_argument("--concurrency", type=int, default=8, help="conversations at once behind HAProxy")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="the PostgreSQL to use")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 6 messages, 2 conversations")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.conversations, args.concurrency = min(args.messages, 6), 2, 2
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

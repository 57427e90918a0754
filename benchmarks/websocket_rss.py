"""The gateway's RSS with many live web-chat sockets (default 10,000).

    .venv/bin/python -m benchmarks.websocket_rss [--sockets 10000] [--quick]

Starts a throwaway redis-server and one gateway (`python -m bot serve`, as devstack starts it; no
Rasa is needed to hold sockets open), raises the open-file limit (RLIMIT_NOFILE, to the hard limit)
for itself and so for its children, then opens the sockets from a separate client process (this
module with --client), each as a new browser tab does: GET /webchat/ws with the page's Origin, the
hello frame without a secret, then it waits for the identity and the (empty) history frames. Every
socket stays open, idle, until the client is told to stop. They are opened in two equal halves.
Printed: the gateway's RSS before, with half and with all the sockets open, the growth per socket
over all of them, and over the second half alone (so one-off growth on first use, such as the
allocator's arenas, shows apart from the steady per-socket cost). RSS is read from /proc. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.procstats import _cpu_and_rss
from benchmarks.stacks import start_redis
from bot.devstack import Stack, free_port, wait_for_http
from bot.settings import ROOT


def raise_nofile(wanted: int) -> int:
    """Raise this process's soft open-file limit towards `wanted` (children inherit it); returns the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY and hard < wanted else wanted
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def _open_one(session: aiohttp.ClientSession, url: str, origin: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(url, headers={"Origin": origin}, heartbeat=None, max_msg_size=0)
    await ws.send_json({"type": "hello", "secret": None})
    seen = set()
    while not {"identity", "history"} <= seen:
        frame = await ws.receive_json(timeout=60)
        seen.add(frame["type"])
    return ws


async def client(url: str, batches: list[int], concurrency: int) -> None:
    """The client process: open each batch, say so on stdout, wait for a line on stdin before the next."""
    origin = url.split("/webchat")[0].replace("ws://", "http://")
    connector = aiohttp.TCPConnector(limit=0)
    sockets: list[aiohttp.ClientWebSocketResponse] = []
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=connector) as session:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> aiohttp.ClientWebSocketResponse:
            async with gate:
                return await _open_one(session, url, origin)

        for size in batches:
            started = time.perf_counter()
            sockets += await asyncio.gather(*(one() for _ in range(size)))
            print(json.dumps({"open": len(sockets), "s": time.perf_counter() - started}), flush=True)
            await loop.run_in_executor(None, sys.stdin.readline)
        for ws in sockets:
            await ws.close()


def _rss(pid: int) -> int:
    return _cpu_and_rss(pid)[1]


def run(sockets: int, concurrency: int = 200) -> dict[str, Any]:
    limit = raise_nofile(sockets + 1024)
    if limit < sockets + 256:
        raise SystemExit(f"the open-file limit is {limit}: too low for {sockets} sockets (raise the hard limit)")
    stack = Stack(log_dir=ROOT / ".run" / "bench-websocket")
    result: dict[str, Any] = {"sockets": sockets, "nofile": limit}
    try:
        redis_base = start_redis(stack)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            "SAMVAD_HOST": "127.0.0.1",
            "SAMVAD_PORT": str(port),
            "SAMVAD_PUBLIC_URL": base,
            "SAMVAD_REDIS_URL": f"{redis_base}/0",
            "SAMVAD_RASA_URL": "http://127.0.0.1:9",  # not needed to hold sockets
            "SAMVAD_LOG_LEVEL": "WARNING",
        }
        gateway = stack.spawn("gateway", [sys.executable, "-m", "bot", "serve"], env)
        wait_for_http(f"{base}/healthz", "gateway", 60, proc=gateway)
        time.sleep(1.0)  # let start-up's own allocations settle
        before = _rss(gateway.pid)
        result["rss_before"] = before
        half = sockets // 2
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.websocket_rss", "--client", f"ws://127.0.0.1:{port}/webchat/ws",
             "--batches", f"{half},{sockets - half}", "--concurrency", str(concurrency)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        rows = []
        for _batch in (1, 2):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the client process exited early; see its error above")
            opened = json.loads(line)
            time.sleep(1.0)
            rss = _rss(gateway.pid)
            rows.append({"open": opened["open"], "open_s": opened["s"], "rss": rss})
            proc.stdin.write("\n")
            proc.stdin.flush()
        proc.wait(120)
        first, second = rows
        result.update(
            rss_half=first["rss"],
            rss_open=second["rss"],
            per_socket=(second["rss"] - before) / sockets,
            per_socket_second_half=(second["rss"] - first["rss"]) / (sockets - half),
            open_s=first["open_s"] + second["open_s"],
        )
        mib = 2**20
        print(f"websocket-rss: open-file limit {limit}; {sockets} sockets opened in {result['open_s']:.1f} s")
        print(
            f"websocket-rss: gateway RSS {before / mib:.1f} MiB before, {first['rss'] / mib:.1f} MiB with {half}, "
            f"{second['rss'] / mib:.1f} MiB with {sockets} sockets"
        )
        print(
            f"websocket-rss: {result['per_socket'] / 1024:.1f} KiB per socket over all {sockets}, "
            f"{result['per_socket_second_half'] / 1024:.1f} KiB per socket over the second {sockets - half}"
        )
    finally:
        stack.stop_all()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=10_000, help="sockets per batch (default 10,000)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 50 sockets")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    parser.add_argument("--concurrency", type=int, default=200, help="handshakes under way at once")
    parser.add_argument("--client", metavar="WS_URL", help=argparse.SUPPRESS)
    parser.add_argument("--batches", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        raise_nofile(sum(int(b) for b in args.batches.split(",")) + 1024)
        asyncio.run(client(args.client, [int(b) for b in args.batches.split(",")], args.concurrency))
        return
    result = run(50 if args.quick else args.sockets, args.concurrency)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

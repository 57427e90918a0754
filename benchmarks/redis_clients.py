"""Which Redis Cluster client the gateway uses, measured: client CPU and wall time per gateway-like step.

Each step is what a voter message costs the gateway in Redis, roughly: one Lua script on the conversation's
keys (store in the inbox, take the lease), one HGETALL and one LPOP. 50 tasks run them concurrently for a few
seconds against a standalone redis-server and a real 3-master Redis Cluster of our own, through:

- redis-py (`redis.asyncio.Redis`, the standalone default);
- redis-py's cluster client as Samvad wraps it (bot/redis_client.py, bounded in-flight commands);
- coredis's cluster client, if installed (`pip install coredis`), the other maintained asyncio cluster client.

    .venv/bin/python -m benchmarks.redis_clients [--seconds 5] [--tasks 50]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

from benchmarks.stacks import start_redis
from bot import redis_client
from bot.devcluster import LocalCluster
from bot.devstack import Stack
from bot.settings import ROOT

STEP = """
redis.call('rpush', KEYS[1], ARGV[1])
redis.call('set', KEYS[2], ARGV[1], 'PX', 10000)
return redis.call('llen', KEYS[1])
"""

Step = Callable[[int], Awaitable[None]]


async def measure(step: Step, seconds: float, tasks: int) -> tuple[float, float]:
    """(steps per second, client CPU ms per step)."""
    done = 0
    stop = time.monotonic() + seconds

    async def worker(n: int) -> None:
        nonlocal done
        i = 0
        while time.monotonic() < stop:
            await step(n * 1_000_000 + i % 500)
            done += 1
            i += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(tasks)))
    return done / (time.monotonic() - wall), (time.process_time() - cpu) * 1000 / max(done, 1)


def keys_of(n: int) -> list[str]:
    tag = f"{{bench:{n}}}"
    return [f"samvad:bench:inbox:{tag}", f"samvad:bench:lane:{tag}", f"samvad:bench:voter:{tag}"]


async def redis_py(url: str, cluster: bool) -> Step:
    client = redis_client.connect(url, cluster=cluster)
    script = client.register_script(STEP)

    async def step(n: int) -> None:
        inbox, lane, voter = keys_of(n)
        await script(keys=[inbox, lane], args=["m"])
        await client.hgetall(voter)
        await client.lpop(inbox)

    return step


async def coredis_cluster(url: str) -> Step | None:
    try:
        import coredis
    except ImportError:
        return None
    host, _, port = url.removeprefix("redis://").partition(":")
    client = coredis.RedisCluster(host, int(port), decode_responses=True)
    await client.__aenter__()  # coredis learns the slots when its context opens
    script = client.register_script(STEP)

    async def step(n: int) -> None:
        inbox, lane, voter = keys_of(n)
        await script(keys=[inbox, lane], args=["m"])
        await client.hgetall(voter)
        await client.lpop(inbox)

    return step


async def run(seconds: float, tasks: int) -> None:
    stack = Stack(log_dir=ROOT / ".run" / "redis-clients")
    cluster = LocalCluster(stack, masters=3)
    try:
        standalone = start_redis(stack)
        cluster.start()
        sides: list[tuple[str, Step | None]] = [
            ("redis-py, standalone", await redis_py(standalone, False)),
            ("redis-py, cluster", await redis_py(cluster.url, True)),
            ("coredis, cluster", await coredis_cluster(cluster.url)),
        ]
        print(f"{'client':<22} {'steps/s':>9} {'client CPU ms/step':>19}")
        for name, step in sides:
            if step is None:
                print(f"{name:<22} {'(not installed: pip install coredis)':>29}")
                continue
            await measure(step, 1.0, tasks)  # warm: connections, scripts loaded, slots learnt
            rate, cpu_ms = await measure(step, seconds, tasks)
            print(f"{name:<22} {rate:>9.0f} {cpu_ms:>19.3f}")
    finally:
        stack.stop_all()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--tasks", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.seconds, args.tasks))


if __name__ == "__main__":
    main()

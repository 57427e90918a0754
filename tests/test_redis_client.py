"""Redis clients survive a Redis restart: a stale pooled connection is replaced, not reported as an error."""

from __future__ import annotations

import asyncio
import signal

import pytest
from redis.exceptions import ConnectionError

from bot import redis_client


async def test_commands_after_a_redis_restart_do_not_fail_on_the_pool_s_dead_connections(own_redis) -> None:
    port, start, stop = own_redis
    client = redis_client.connect(f"redis://127.0.0.1:{port}/0")
    try:
        # Six commands at once leave six connections in the pool.
        await asyncio.gather(*(client.blpop([f"samvad:test:{n}"], 0.05) for n in range(6)))
        assert len(client.connection_pool._available_connections) == 6
        stop()
        start()
        # All six connections are dead now; each command below takes one of them first.
        answers = await asyncio.gather(*(client.rpush("samvad:test:list", n) for n in range(6)))
        assert sorted(answers) == [1, 2, 3, 4, 5, 6]
    finally:
        await client.aclose()


async def test_while_redis_is_down_a_command_fails_with_a_connection_error(own_redis) -> None:
    port, _, stop = own_redis
    client = redis_client.connect(f"redis://127.0.0.1:{port}/0")
    try:
        await client.ping()
        stop(signal.SIGKILL)
        with pytest.raises(ConnectionError):
            await asyncio.wait_for(client.rpush("samvad:test:list", "x"), 30)
    finally:
        await client.aclose()


async def test_a_fresh_cluster_client_takes_fifty_first_commands_at_once(redis_cluster) -> None:  # type: ignore[no-untyped-def]
    """redis-py 8.1's cluster client, started by 50 commands at once, broke connections mid-handshake
    ('NoneType' object has no attribute 'writelines'); ours learns the slots once, then sends them."""
    client = redis_client.connect(redis_cluster.url, cluster=True)
    try:
        script = client.register_script("return redis.call('incr', KEYS[1])")

        async def voter(n: int) -> int:
            await client.hgetall(f"samvad:test:{{v{n}}}")
            return int(await script(keys=[f"samvad:test:{{v{n}}}:count"]))

        assert await asyncio.gather(*(voter(n) for n in range(50))) == [1] * 50
    finally:
        await client.flushdb()
        await client.aclose()

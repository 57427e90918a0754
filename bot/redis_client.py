"""The one way Samvad's processes open Redis: with retries on a broken connection.

After Redis restarts, every connection left in a client's pool is dead, and redis-py does not
always notice before it uses one: the command then fails with "Connection closed by server".
Without retries a voter's message would fail on the first use of each stale connection. With
them, the command is sent again on a new connection; while Redis is really down, a command
still fails, after about 0.3 s.

A retry resends a command only when its connection broke. That is safe for what the stale
connections carry (the server never saw the command); a command whose server died between
running it and answering could run twice, so the scripts that must not (see bot/lanes.py)
check what they change.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError, MaxConnectionsError
from redis.typing import StreamRangeResponse

RETRIES = 3
# A master that fails over is unreachable for a few seconds until its replica is promoted (cluster-node-timeout
# plus the election): the cluster client retries, re-reading the slots after each failure, for about that long.
CLUSTER_RETRIES = 12
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 0.5

# A stream entry as these clients return it: they decode responses, so ids and fields are str, not bytes.
StreamEntry = tuple[str, dict[str, str]]


MAX_CONNECTIONS = 100
POOL_TIMEOUT_S = 5.0


def connect(
    url: str,
    *,
    cluster: bool = False,
    decode_responses: bool = True,
    max_connections: int = MAX_CONNECTIONS,
    pool_timeout_s: float = POOL_TIMEOUT_S,
    **options: Any,
) -> Redis:
    """A client for `url` (decoding answers to str unless told not to) that survives a Redis restart.

    Its pool holds at most `max_connections`; a command that finds them all busy waits up to
    `pool_timeout_s` for one. redis-py's default pool raises at once instead: 200 web-chat messages at the
    same instant lost half of them.

    With `cluster`, `url` names any node of a Redis Cluster (SAMVAD_REDIS_CLUSTER=1, docs/scaling.md).
    """
    retry = Retry(ExponentialWithJitterBackoff(base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S), RETRIES, (ConnectionError,))
    if cluster:
        limits: dict[str, Any] = {"max_connections": max_connections, "pool_timeout_s": pool_timeout_s}
        return connect_cluster(url, decode_responses=decode_responses, **limits, **options)
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout_s,
        decode_responses=decode_responses,
        retry=retry,
        **options,
    )
    return Redis.from_pool(pool)


class BoundedCluster(RedisCluster):
    """redis-py's cluster client with at most `in_flight` commands at once; the next waits for a free turn.

    Its node pools do not block as the standalone pool does: a node whose connections are all busy fails the
    command at once (MaxConnectionsError). A thousand web-chat messages at the same instant lost most of theirs
    that way. Here a command waits up to `wait_s` for its turn (then fails as the standalone pool does), and
    each node's pool is larger than `in_flight`, so commands never meet a full node pool; pipelines (a few
    maintenance jobs) have the spare connections.
    """

    def __init__(self, *args: Any, in_flight: int, wait_s: float, **kwargs: Any) -> None:
        kwargs["max_connections"] = 2 * in_flight
        super().__init__(*args, **kwargs)
        self._turns = asyncio.Semaphore(in_flight)
        self._wait_s = wait_s
        self._reloading = asyncio.Lock()

    def register_script(self, script: Any) -> Any:
        """Scripts run with EVAL, never EVALSHA: a node without the script in its cache (a new client's first
        call, or a replica a failover promoted: Redis does not replicate the script cache) answers NOSCRIPT,
        and then every waiting task would load the script on every node at once, in the middle of the
        failover. EVAL never meets NOSCRIPT; the body costs a few hundred bytes more per call, and Redis still
        compiles each script once."""
        return EvalScript(self, script if isinstance(script, str) else script.decode())

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            await asyncio.wait_for(self._turns.acquire(), self._wait_s)
        except TimeoutError:
            raise MaxConnectionsError(f"no free Redis Cluster connection within {self._wait_s} s") from None
        try:
            if self._initialize:  # redis-py's flag: slots not learnt yet, or to be learnt again after an error
                # Learn them once, before any command goes out: 50 first commands at once, each starting it,
                # broke connections mid-handshake in redis-py 8.1 ('NoneType' object has no attribute
                # 'writelines'; tests/test_redis_client.py). Awaited here, every command waits for one reload.
                async with self._reloading:
                    if self._initialize:
                        await self.initialize()
            return await super().execute_command(*args, **kwargs)
        finally:
            self._turns.release()


class EvalScript:
    """A Lua script called as redis-py's registered scripts are: ``await script(keys=[...], args=[...])``."""

    def __init__(self, client: RedisCluster, source: str) -> None:
        self.client, self.script = client, source

    async def __call__(self, keys: Any = (), args: Any = (), client: Any = None) -> Any:
        return await (client or self.client).eval(self.script, len(keys), *keys, *args)


def connect_cluster(
    url: str, *, decode_responses: bool, max_connections: int, pool_timeout_s: float, **options: Any
) -> Redis:
    """redis-py's cluster client, typed as the standalone one: the commands Samvad sends are the same.

    The few places that differ ask `is_cluster` (pub/sub, see bot/pubsub.py). A moved slot, a failed-over
    master or a broken connection are retried on the new topology, re-reading the slots.
    """
    options.pop("health_check_interval", None)  # the cluster client checks its nodes on errors instead
    client = BoundedCluster.from_url(
        url,
        decode_responses=decode_responses,
        in_flight=max_connections,
        wait_s=pool_timeout_s,
        retry=Retry(ExponentialWithJitterBackoff(base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S), CLUSTER_RETRIES),
        **options,
    )
    return cast(Redis, client)


def is_cluster(redis: Redis) -> bool:
    """Whether `redis` is a cluster client (made by `connect(..., cluster=True)`)."""
    return isinstance(redis, RedisCluster)


def stream_entries(reply: StreamRangeResponse | None) -> list[StreamEntry]:
    """An XRANGE or XREVRANGE reply, typed as it is (never None for these commands)."""
    return cast(list[StreamEntry], reply)

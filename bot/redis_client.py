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

from typing import Any, cast

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError
from redis.typing import StreamRangeResponse

RETRIES = 3
BACKOFF_BASE_S = 0.05
BACKOFF_CAP_S = 0.5

# A stream entry as these clients return it: they decode responses, so ids and fields are str, not bytes.
StreamEntry = tuple[str, dict[str, str]]


MAX_CONNECTIONS = 100
POOL_TIMEOUT_S = 5.0


def connect(
    url: str,
    *,
    decode_responses: bool = True,
    max_connections: int = MAX_CONNECTIONS,
    pool_timeout_s: float = POOL_TIMEOUT_S,
    **options: Any,
) -> Redis:
    """A client for `url` (decoding answers to str unless told not to) that survives a Redis restart.

    Its pool holds at most `max_connections`; a command that finds them all busy waits up to
    `pool_timeout_s` for one. redis-py's default pool raises at once instead: 200 web-chat messages at the
    same instant lost half of them.
    """
    retry = Retry(ExponentialWithJitterBackoff(base=BACKOFF_BASE_S, cap=BACKOFF_CAP_S), RETRIES, (ConnectionError,))
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_timeout_s,
        decode_responses=decode_responses,
        retry=retry,
        **options,
    )
    return Redis.from_pool(pool)


def stream_entries(reply: StreamRangeResponse | None) -> list[StreamEntry]:
    """An XRANGE or XREVRANGE reply, typed as it is (never None for these commands)."""
    return cast(list[StreamEntry], reply)

"""Publish and subscribe the same way on a standalone Redis and on a Redis Cluster.

On a cluster, plain PUBLISH is copied to every node over the cluster bus, however few listen; sharded
pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7) keeps a channel's messages on the shard that owns its slot, so the
cost stays with one shard as the cluster grows. A standalone Redis keeps plain pub/sub: Samvad still runs
on Redis 6.2 there.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Protocol, cast

from redis.asyncio import Redis

from bot.redis_client import is_cluster


class Subscription(Protocol):
    async def message(self, timeout: float) -> str | None:
        """The next message's data, or None if none came within `timeout` seconds."""


async def publish(redis: Redis, channel: str, data: str) -> None:
    if is_cluster(redis):
        await redis.spublish(channel, data)
    else:
        await redis.publish(channel, data)


@contextlib.asynccontextmanager
async def subscribe(redis: Redis, channel: str) -> AsyncIterator[Subscription]:
    """One pub/sub connection listening to `channel` while the block runs."""
    async with redis.pubsub() as pubsub:
        if is_cluster(redis):
            await pubsub.ssubscribe(channel)
            yield _Sharded(pubsub)
        else:
            await pubsub.subscribe(channel)
            yield _Plain(pubsub)


class _Plain:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def message(self, timeout: float) -> str | None:
        message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        return cast(str, message["data"]) if message is not None and message.get("type") == "message" else None


class _Sharded:
    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def message(self, timeout: float) -> str | None:
        message = await self._pubsub.get_sharded_message(ignore_subscribe_messages=True, timeout=timeout)
        return cast(str, message["data"]) if message is not None and message.get("type") == "smessage" else None

"""One Redis pub/sub connection per process for every console websocket, fanned out to the sockets.

Each console socket used to hold a pub/sub connection of its own: a hundred agents were a hundred
connections out of the pool. Now one listener reads the console channel and hands each event to every
subscribed socket's queue; a slow socket drops its oldest events rather than hold the others up. If the
subscription breaks (Redis restarted), the listener subscribes again, and the sockets stay open.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import structlog
from redis.asyncio import Redis

from bot import metrics, pubsub

log = structlog.get_logger(__name__)

QUEUE_SIZE = 100
RESUBSCRIBE_AFTER_S = 1.0


class EventHub:
    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis, self.channel = redis, channel
        self._queues: set[asyncio.Queue[dict[str, Any]]] = set()
        self._listener: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        """A queue that receives every event published on the channel while the block runs."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="console-events")
        try:
            yield queue
        finally:
            self._queues.discard(queue)

    @property
    def subscribers(self) -> int:
        return len(self._queues)

    async def _listen(self) -> None:
        while self._queues:
            try:
                async with pubsub.subscribe(self.redis, self.channel) as subscription:
                    while self._queues:
                        data = await subscription.message(timeout=1.0)
                        if data is not None:
                            self._fan_out(json.loads(data))
            except asyncio.CancelledError:
                raise
            except Exception:
                metrics.ERRORS.labels("console_pubsub").inc()
                log.warning("console pub/sub broke; subscribing again", exc_info=True)
                await asyncio.sleep(RESUBSCRIBE_AFTER_S)

    def _fan_out(self, event: dict[str, Any]) -> None:
        for queue in list(self._queues):
            if queue.full():
                queue.get_nowait()  # a stalled socket loses its oldest event, not everyone's latest
            queue.put_nowait(event)

    async def close(self) -> None:
        self._queues.clear()
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)

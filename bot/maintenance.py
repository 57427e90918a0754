"""The gateway's background rounds: replay held messages, escalate outages, tell waiting voters their place,
complete interrupted hand-offs, take back abandoned chats, pick up stranded inboxes, trim dead letters.

Every replica runs this loop, but only the holder of one short lease (redis-py's ``Lock``: its token is
checked in the same script that renews or releases it) does the rounds, so two replicas never tell the
same voter their place twice or replay the same message at once. A replica that dies hands the lease
on when it expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from bot import keys, metrics

log = structlog.get_logger(__name__)


@dataclass
class Task:
    name: str
    every_s: float
    run: Callable[[], Awaitable[object]]
    due: float = 0.0


class Maintenance:
    def __init__(self, redis: Redis, tasks: list[Task], *, tick_s: float, lease_s: float | None = None) -> None:
        self.tasks = tasks
        self.tick_s = tick_s
        # Renewed before every task: a replica that died hands the lease on within a few ticks.
        lease_s = lease_s or max(3 * tick_s, 2.0)
        self._lock = redis.lock(keys.MAINTENANCE_LEASE, timeout=lease_s, blocking=False, thread_local=False)
        self.holding = False

    async def _hold(self) -> bool:
        """Take the lease, or renew it if this replica holds it; False when another replica does."""
        try:
            if self.holding:
                await self._lock.reacquire()
                return True
            self.holding = bool(await self._lock.acquire())
        except LockError:  # expired and taken by another replica meanwhile
            self.holding = False
        return self.holding

    async def round(self) -> None:
        """One pass over the tasks that are due (if this replica holds the lease)."""
        if not await self._hold():
            return
        now = time.monotonic()
        for task in self.tasks:
            if now < task.due:
                continue
            if not await self._hold():
                return
            task.due = now + task.every_s
            try:
                await task.run()
            except Exception:  # keep the loop alive; the next round retries
                metrics.ERRORS.labels(task.name).inc()
                log.exception("maintenance task failed", task=task.name)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.round()
            except Exception:
                metrics.ERRORS.labels("maintenance").inc()
                log.exception("maintenance round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.tick_s)
        await self.release()

    async def release(self) -> None:
        if self.holding:
            self.holding = False
            try:
                await self._lock.release()
            except (LockError, RedisError) as exc:  # expired, or Redis is gone: the lease runs out by itself
                log.info("maintenance lease not released", error=str(exc))

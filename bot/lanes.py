"""One lane per conversation: its messages are processed one at a time, in arrival order.

The inbox is a Redis list, so arrival order holds across gateway processes
and a message survives a crash until it has been processed. A short lease in
Redis makes sure only one process works a conversation's inbox at a time.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from redis.asyncio import Redis

from bot import keys, metrics
from bot.deliveries import ONCE_LUA
from bot.errors import InboxFull

log = structlog.get_logger(__name__)

# Short, and renewed while a message is processed: a process that dies holds a lane only this long.
LEASE_MS = 10_000
RENEW_EVERY_S = 3.0

# The lane's steps, one round trip each. KEYS[1] is the lease, KEYS[2] the inbox.
# Take the lease if it is free and return the first waiting message; nil if another process holds the
# lease, or if the inbox is empty (then the lease is given back at once).
_TAKE = """
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local first = redis.call('lindex', KEYS[2], 0)
if not first then redis.call('del', KEYS[1]) end
return first
"""
# Done with the first message (ARGV[2]): drop it, renew the lease, return the next one (nil when the inbox
# is empty). It is dropped only while it is first: this step may run twice when a broken connection's answer
# was lost (see bot/redis_client.py), and must not drop the next message then.
_NEXT = """
if redis.call('lindex', KEYS[2], 0) == ARGV[2] then redis.call('lpop', KEYS[2]) end
if redis.call('get', KEYS[1]) == ARGV[3] then redis.call('pexpire', KEYS[1], ARGV[1]) end
return redis.call('lindex', KEYS[2], 0)
"""
# Renew the lease only while this process holds it (token check in the same step); 1 if renewed.
_RENEW = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('pexpire', KEYS[1], ARGV[2])
"""
# Give the lease back if we still hold it; return how many messages arrived meanwhile.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return redis.call('llen', KEYS[2])
"""

# Store a message; if the inbox was empty and the lane free, take the lease too, so the message is
# processed at once without another round trip. Returns {2, hooked} then, {1, hooked} if only stored.
# With a delivery id ARGV[4] (not ''), only if the conversation's deliveries KEYS[3] never had it (kept ARGV[5]
# s from ARGV[7], now), marked in the same step: {0} if seen. The caller's `on_store` Lua function (see Lanes)
# gets the keys and arguments after these; `hooked` is what it returned. {-1} if the inbox already holds
# ARGV[6] messages: nothing stored, and the delivery not marked, so that it can come again once the inbox drains.
# KEYS: inbox, lease, deliveries, hook's keys.
# ARGV: message, token, lease ms, delivery id, its ttl, inbox cap, now, hook's args.
_SUBMIT = """
if redis.call('llen', KEYS[1]) >= tonumber(ARGV[6]) then return {-1} end
if ARGV[4] ~= '' and not first_delivery(KEYS[3], ARGV[4], tonumber(ARGV[7]), tonumber(ARGV[5])) then return {0} end
local status = 1
if redis.call('rpush', KEYS[1], ARGV[1]) == 1 and redis.call('set', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  status = 2
end
if #KEYS < 4 then return {status} end
return {status, on_store(status == 2, {unpack(KEYS, 4)}, {unpack(ARGV, 8)})}
"""
_NO_HOOK = "local function on_store(leased, keys, args) return false end\n"
LEASED = 2
FULL = -1
# Unanswered messages one conversation's inbox may hold (docs/security.md, "Flood control"): a voter who
# floods gets told to slow down and their messages past this are refused, not queued without end.
MAX_INBOX = 100

# (conversation id, the message, what `on_store` returned if this process took the lease as it stored it)
Processor = Callable[[str, str, Any], Awaitable[None]]
# (conversation id, the message, what went wrong): keeps a message that could not be processed
OnFailure = Callable[[str, str, str], Awaitable[object]]


class Lanes:
    """The conversations' inboxes and the workers that drain them.

    `on_store` is Lua source defining `local function on_store(leased, keys, args)`: it runs in the
    same step that stores a new message (given the keys and arguments passed to `submit`), and what
    it returns reaches the processor with that message when this process took the lease right then.
    The router uses it to record the voter's arrival and read their profile without a round trip.
    """

    def __init__(
        self,
        redis: Redis,
        process: Processor,
        *,
        on_failure: OnFailure,
        once_ttl_s: int = 48 * 3600,
        on_store: str = _NO_HOOK,
        max_inbox: int = MAX_INBOX,
    ) -> None:
        self.redis = redis
        self._process = process
        self._on_failure = on_failure
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()  # kicked while their worker was busy
        # Lease taken when the message was stored: start with it (and what on_store returned).
        self._leased: dict[str, tuple[str, Any]] = {}
        self._token = secrets.token_hex(8)
        self._take = redis.register_script(_TAKE)
        self._next = redis.register_script(_NEXT)
        self._release = redis.register_script(_RELEASE)
        self._renew_script = redis.register_script(_RENEW)
        self._submit = redis.register_script(ONCE_LUA + on_store + _SUBMIT)
        self._once_ttl_s = once_ttl_s
        self._max_inbox = max_inbox

    async def submit(
        self,
        conversation_id: str,
        raw: str,
        *,
        once: str | None = None,
        hook_keys: Sequence[str] = (),
        hook_args: Sequence[str | int] = (),
    ) -> bool:
        """Store a message in the conversation's inbox and make sure it gets processed, in order.

        With `once`, a delivery id (see bot/deliveries.py), only if this conversation never had it (checked in
        the same step); returns False for a copy.
        With `hook_keys`, the `on_store` function runs with them and `hook_args` in the same step.

        Raises:
            InboxFull: the inbox holds `max_inbox` messages; this one was not stored (nor marked seen).
        """
        keys_ = [keys.inbox(conversation_id), keys.lane_lock(conversation_id), keys.deliveries(conversation_id)]
        args: list[str | int | float] = [raw, self._token, LEASE_MS, once or "", self._once_ttl_s, self._max_inbox]
        args.append(time.time())
        reply = await self._submit(keys=[*keys_, *hook_keys], args=[*args, *hook_args])
        stored = reply[0]
        if stored == FULL:
            metrics.ERRORS.labels("inbox_full").inc()
            raise InboxFull(conversation_id=conversation_id)
        if stored == LEASED:
            # Ours to process: first in the inbox, lease held.
            self._leased[conversation_id] = (raw, reply[1] if len(reply) > 1 else None)
        if stored:
            self.kick(conversation_id)
        return bool(stored)

    def kick(self, conversation_id: str) -> None:
        """Make sure a worker in this process is draining the conversation, unless one already is."""
        if conversation_id in self._workers:
            self._again.add(conversation_id)  # the worker looks once more before it stops
            return
        task = asyncio.create_task(self._drain(conversation_id), name=f"lane:{conversation_id}")
        self._workers[conversation_id] = task
        task.add_done_callback(lambda done: self._forget(conversation_id, done))

    def _forget(self, conversation_id: str, task: asyncio.Task[None]) -> None:
        if self._workers.get(conversation_id) is task:  # not a newer worker of the same conversation
            del self._workers[conversation_id]
            pending = conversation_id in self._again or conversation_id in self._leased
            if pending and not task.cancelled():
                self.kick(conversation_id)  # work that came in as this worker failed

    async def _drain(self, conversation_id: str) -> None:
        lane = [keys.lane_lock(conversation_id), keys.inbox(conversation_id)]
        waiting = 1
        while waiting or conversation_id in self._again or conversation_id in self._leased:
            self._again.discard(conversation_id)
            raw, hooked = self._leased.pop(conversation_id, (None, None))
            if raw is None:
                raw = await self._take(keys=lane, args=[self._token, LEASE_MS])
            if raw is None:
                waiting = 0  # nothing waiting, or another process holds the lane and drains it
                continue
            renew = asyncio.create_task(self._renew(lane[0]))
            try:
                while raw is not None:
                    await self._run_one(conversation_id, raw, hooked)
                    raw, hooked = await self._next(keys=lane, args=[LEASE_MS, raw, self._token]), None
            finally:
                renew.cancel()
                # How many arrived meanwhile: a message pushed just before the release would otherwise wait.
                waiting = await self._release(keys=lane, args=[self._token])
        # Stop without awaiting after the last look: a kick from now on starts a new worker.
        self._workers.pop(conversation_id, None)

    async def _renew(self, lease: str) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY_S)
            if not await self._renew_script(keys=[lease], args=[self._token, LEASE_MS]):
                # Another process holds the lane now (this one stalled past the lease): leave its lease alone.
                metrics.ERRORS.labels("lane_lease_lost").inc()
                log.warning("lane lease lost", lease=lease)
                return

    async def _run_one(self, conversation_id: str, raw: str, hooked: Any) -> None:
        try:
            await self._process(conversation_id, raw, hooked)
        except Exception as exc:
            # A message that cannot be processed must not block the voter's lane: keep it for review.
            metrics.ERRORS.labels("processing").inc()
            log.exception("processing failed; message kept in the dead letters", conversation_id=conversation_id)
            await self._on_failure(conversation_id, raw, f"{type(exc).__name__}: {exc}"[:300])

    async def resume_all(self) -> int:
        """At start-up: pick up inboxes that a previous process left unfinished."""
        count = 0
        async for key in self.redis.scan_iter(match=keys.INBOX_PATTERN, count=500):
            conversation_id = key[key.index("{") + 1 : key.rindex("}")]
            self.kick(conversation_id)
            count += 1
        return count

    async def close(self) -> None:
        for task in list(self._workers.values()):
            task.cancel()
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def wait_idle(self) -> None:
        """Wait until every lane this process works is empty (used by tests and shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

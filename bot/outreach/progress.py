"""A campaign's progress in Redis: who got it, who is held back and why; and the subscribers to read.

Progress is kept per recipient under their conversation hash, so it holds no personal
data, and a re-run after a crash or Ctrl-C sends only to those not yet done.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError, WatchError
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.consent import conversation_hash
from bot.errors import CampaignBusy
from bot.outreach.rules import Recipient, Status
from bot.schedule import Schedule

log = structlog.get_logger(__name__)

LOCK_TTL_S = 30
_HELD_HERE: set[str] = set()  # lock tokens of the campaigns this process is sending now

# Claim a recipient for sending unless a final state says it is done: at most one send each.
_CLAIM = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  for i = 3, #ARGV do
    if current == ARGV[i] then return 0 end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


# The campaign lock is renewed and released only by its holder: the token is checked in the same step.
_RENEW_LOCK = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('expire', KEYS[1], ARGV[2])
"""
_RELEASE_LOCK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


@dataclass
class Counts:
    """Recipients of one campaign by outcome; ``silenced`` by constituency."""

    audience: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    silenced: Counter[str] = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return self.by_status[Status.SENT.value]

    @property
    def failed(self) -> int:
        return self.by_status[Status.FAILED.value]

    @property
    def held(self) -> int:
        return sum(self.by_status[s.value] for s in (Status.HELD_QUIET, Status.HELD_SILENCE, Status.OPTED_OUT))

    @property
    def uncertain(self) -> int:
        return self.by_status[Status.SENDING.value]

    def as_dict(self) -> dict[str, Any]:
        return {"audience": self.audience, **dict(self.by_status), "silenced": dict(self.silenced)}


def split_stored(value: str) -> tuple[str, str | None]:
    status, _, constituency = value.partition(":")
    return status, constituency or None


class Progress:
    def __init__(self, redis: Redis, name: str) -> None:
        self.redis = redis
        self.name = name
        self._status = keys.campaign_status(name)
        self._claim = redis.register_script(_CLAIM)
        self._renew = redis.register_script(_RENEW_LOCK)
        self._release = redis.register_script(_RELEASE_LOCK)
        self._lock_token = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    async def acquire(self) -> None:
        """Become the only sender of this campaign (raises CampaignBusy).

        A lock left by a sender that crashed on this machine is taken over at once, instead of
        making the re-run wait for it to expire.
        """
        lock = keys.campaign_lock(self.name)
        if not await self.redis.set(lock, self._lock_token, nx=True, ex=LOCK_TTL_S):
            holder = cast(str | None, await self.redis.get(lock))  # the client decodes responses
            if not (holder and _stale(holder) and await self._steal(lock, holder)):
                raise CampaignBusy()
        _HELD_HERE.add(self._lock_token)
        await self.redis.sadd(keys.CAMPAIGNS, self.name)

    async def _steal(self, lock: str, holder: str) -> bool:
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(lock)
            if await pipe.get(lock) != holder:
                return False
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.set(lock, self._lock_token, ex=LOCK_TTL_S)
            try:
                await pipe.execute()
            except WatchError:
                return False
        return True

    async def keep_lock(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if not await self._renew(keys=[keys.campaign_lock(self.name)], args=[self._lock_token, LOCK_TTL_S]):
                    # Taken over (this sender stalled past the lock's TTL): never extend another sender's lock.
                    log.error("campaign lock lost to another sender", campaign=self.name)
                    return
            except RedisError as exc:  # the sends notice the outage themselves and stop the run
                log.warning("could not renew the campaign lock", campaign=self.name, error=repr(exc))
            try:
                await asyncio.wait_for(stop.wait(), LOCK_TTL_S / 3)
            except TimeoutError:
                continue

    async def release(self) -> None:
        _HELD_HERE.discard(self._lock_token)
        await self._release(keys=[keys.campaign_lock(self.name)], args=[self._lock_token])

    async def statuses(self) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self._status))

    async def claim(self, recipient_key: str, final: tuple[str, ...]) -> bool:
        return bool(await self._claim(keys=[self._status], args=[recipient_key, Status.SENDING.value, *final]))

    async def mark(self, recipient_key: str, stored: str) -> None:
        await self.redis.hset(self._status, recipient_key, stored)

    async def mark_many(self, stored_by_key: dict[str, str]) -> None:
        if stored_by_key:
            await self.redis.hset(self._status, mapping=cast(dict[FieldT, EncodableT], stored_by_key))

    async def forget(self, recipient_keys: list[str]) -> None:
        """Drop the non-final status of recipients about to be sent to."""
        for start in range(0, len(recipient_keys), 1000):
            await self.redis.hdel(self._status, *recipient_keys[start : start + 1000])

    async def note(self, **facts: str | int | float) -> None:
        await self.redis.hset(keys.campaign(self.name), mapping={k: str(v) for k, v in facts.items()})

    async def facts(self) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(keys.campaign(self.name)))

    async def counts(self) -> Counts:
        counts = Counts()
        for value in cast(list[str], await self.redis.hvals(self._status)):
            status, constituency = split_stored(value)
            counts.by_status[status] += 1
            if constituency:
                counts.silenced[constituency] += 1
        counts.audience = int((await self.facts()).get("audience") or sum(counts.by_status.values()))
        return counts


async def load_subscribers(redis: Redis, schedule: Schedule, batch: int = 500) -> list[Recipient]:
    """Every subscribed voter with what a campaign needs to know about them."""
    ids = sorted({member async for member in redis.sscan_iter(keys.SUBSCRIBERS, count=batch)})  # SSCAN may repeat one
    recipients: list[Recipient] = []
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        async with redis.pipeline(transaction=False) as pipe:
            for conversation_id in chunk:
                pipe.hgetall(keys.voter(conversation_id))
                pipe.hgetall(keys.consent(conversation_id))
            rows = await pipe.execute()
        for index, conversation_id in enumerate(chunk):
            profile, consent = rows[2 * index], rows[2 * index + 1]
            recipients.append(_recipient(conversation_id, profile, consent, schedule))
    return recipients


def _recipient(conversation_id: str, profile: dict[str, str], consent: dict[str, str], schedule: Schedule) -> Recipient:
    channel = profile.get("channel") or consent.get("channel") or conversation_id.partition(":")[0]
    chat_id = profile.get("chat_id") or conversation_id.partition(":")[2]
    language = profile.get("language") or consent.get("language") or "hi"
    entry = schedule.for_constituency(consent.get("constituency"))
    return Recipient(
        conversation_id=conversation_id,
        key=conversation_hash(conversation_id),
        channel={"tg": "telegram", "web": "webchat", "wa": "whatsapp"}.get(channel, channel),
        chat_id=chat_id,
        language=language if language in ("hi", "en") else "hi",
        constituency=entry.name if entry else None,
        state=entry.state if entry else None,
        unreachable=profile.get("unreachable") == "1",
    )


def _stale(holder: str) -> bool:
    """Whether a lock's holder is gone: a process of this machine that died, or a run of this one that ended."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return holder not in _HELD_HERE
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False

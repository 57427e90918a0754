"""Which deliveries of a conversation were already taken: Telegram update ids, WhatsApp message ids, web-chat
client ids, replays of held messages. A platform delivers again when it is not sure we got a message; the
second copy must be dropped.

One sorted set per conversation (``keys.deliveries``: delivery id -> when it may be forgotten), in the
conversation's Redis Cluster slot, so the lanes' submit script marks a message seen in the same step that
stores it. One key per voter instead of one per message: smaller, and "delete my data" removes it with the
rest (``keys.personal``).
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot import keys

# Forget what expired, then mark `member` seen unless it was; true the first time. Expiry is the caller's clock
# (every gateway's is close enough for a window of hours). Used inside the lanes' submit script too.
ONCE_LUA = """
local function first_delivery(key, member, now, ttl)
  redis.call('zremrangebyscore', key, '-inf', now)
  if redis.call('zscore', key, member) then return false end
  redis.call('zadd', key, now + ttl, member)
  redis.call('expire', key, ttl)
  return true
end
"""
_FIRST = ONCE_LUA + "return first_delivery(KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])) and 1 or 0"


class Deliveries:
    def __init__(self, redis: Redis, *, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._first = redis.register_script(_FIRST)

    async def first(self, conversation_id: str, delivery: str) -> bool:
        """True the first time `delivery` comes for this conversation, False for every copy after it."""
        key = keys.deliveries(conversation_id)
        return bool(await self._first(keys=[key], args=[delivery, time.time(), self.ttl_s]))

    async def first_unowned(self, key: str) -> bool:
        """The same for a delivery that belongs to no conversation (a channel post): a key of its own."""
        return bool(await self.redis.set(key, "1", nx=True, ex=self.ttl_s))

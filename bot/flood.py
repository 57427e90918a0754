"""Flood control: how many messages one voter, or one address on the web chat, may send in a window.

Past the limit a message is not stored: the voter is told once per window, in both languages, to slow
down (gateway text ``slow_down``), and the rest of the window's messages are dropped. A conversation's
inbox is capped as well (bot/lanes.py, ``MAX_INBOX``). Why and how much: docs/security.md.
"""

from __future__ import annotations

from enum import Enum

from aiohttp import web
from redis.asyncio import Redis

from bot import keys
from bot.texts import Texts

# KEYS: the counter, the "told" flag (same hash tag, or none). ARGV: window s, limit.
# Returns 0 within the limit, 1 the first time past it in the window (tell the voter), 2 after that.
_CHECK = """
local used = redis.call('incr', KEYS[1])
if used == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
if used <= tonumber(ARGV[2]) then return 0 end
if redis.call('set', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 2
"""


class Verdict(int, Enum):
    ALLOW = 0
    TELL = 1  # past the limit: drop it, and say "slow down" (once per window)
    DROP = 2  # past the limit, already told


class FloodControl:
    def __init__(self, redis: Redis, *, per_voter: int, per_address: int, window_s: int) -> None:
        self._check = redis.register_script(_CHECK)
        self.per_voter, self.per_address, self.window_s = per_voter, per_address, window_s

    async def check(self, conversation_id: str, address: str | None = None) -> Verdict:
        """Count one message of the conversation (and of `address`, if given) and say what to do with it."""
        verdict = Verdict(
            int(
                await self._check(
                    keys=[keys.voter_rate(conversation_id), keys.voter_slow_down(conversation_id)],
                    args=[self.window_s, self.per_voter],
                )
            )
        )
        if verdict is Verdict.ALLOW and address is not None:
            address_keys = [keys.ip_rate(address), keys.ip_slow_down(address)]
            verdict = Verdict(int(await self._check(keys=address_keys, args=[self.window_s, self.per_address])))
        return verdict


def client_address(request: web.Request, *, trust_forwarded_for: bool = False) -> str:
    """The caller's address; behind a reverse proxy that sets X-Forwarded-For, the last hop it added."""
    if trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()[:64]
    return request.remote or "unknown"


def slow_down_text(texts: Texts) -> str:
    """The polite "slow down", in Hindi and English (the voter's language is not looked up for a flood)."""
    return f"{texts.get('slow_down', 'hi')}\n\n{texts.get('slow_down', 'en')}"

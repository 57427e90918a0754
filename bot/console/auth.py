"""Console sessions, login throttling and the CSRF guard: who may act in the console, and from where.

- A login attempt is counted before the password is checked, with one atomic INCR per counter, so
  parallel guesses cannot all slip through between a read and a write.
- Two counters: one per account *and* address, one per address. An outsider who fails five times on
  "asha" locks "asha" out from the outsider's address only; the real agent still logs in. The address
  counter stops one address from trying many names.
- Sessions are written with their TTL in one MULTI.
- Every state-changing request under /console/api needs ``Content-Type: application/json`` (which a page
  elsewhere cannot send without a CORS preflight the gateway never grants) and an ``Origin`` among the
  configured ones. The ``Host`` header is never trusted: with DNS rebinding an attacker chooses it.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware
from redis.asyncio import Redis

from bot import keys
from bot.console.accounts import Accounts, Agent
from bot.flood import client_address

__all__ = ["Auth", "LoginThrottled", "client_address", "csrf_middleware", "origin_of"]

COOKIE = "samvad_console"
SESSION_TTL_S = 12 * 3600
MAX_FAILURES = 5  # failed logins on one account from one address ...
MAX_ADDRESS_FAILURES = 20  # ... or on any account from one address ...
FAILURE_WINDOW_S = 300  # ... within this window; then that address waits it out
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
API_PREFIX = "/console/api/"

# Count one attempt and start the window on the first, in one step; the count comes back.
_COUNT = """
local used = redis.call('incr', KEYS[1])
if used == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return used
"""

# Take back one counted attempt, unless its window already ended (a DECR would leave -1 with no TTL).
_UNCOUNT = """
if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end
return 0
"""


class LoginThrottled(Exception):
    """Too many failed logins from this address (for this account, or for any)."""


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Auth:
    """Logins (with throttling) and sessions for the console."""

    def __init__(self, redis: Redis, accounts: Accounts) -> None:
        self.redis = redis
        self.accounts = accounts
        self._count = redis.register_script(_COUNT)
        self._uncount = redis.register_script(_UNCOUNT)

    async def login(self, name: str, password: str, address: str) -> Agent | None:
        """The agent if the password is right and the account active; None otherwise.

        Raises:
            LoginThrottled: this address failed too often lately (the password was not checked).
        """
        account_key, address_key = keys.login_failures(name, address), keys.login_failures_ip(address)
        on_account = int(await self._count(keys=[account_key], args=[FAILURE_WINDOW_S]))
        on_address = int(await self._count(keys=[address_key], args=[FAILURE_WINDOW_S]))
        if on_account > MAX_FAILURES or on_address > MAX_ADDRESS_FAILURES:
            raise LoginThrottled(name)
        agent = await self.accounts.check_password(name, password)
        if agent is not None:
            # The attempt was not a failure: forget it (and the account's earlier ones from here).
            await self.redis.delete(account_key)
            await self._uncount(keys=[address_key])
        return agent

    async def open_session(self, agent: Agent) -> str:
        token = secrets.token_urlsafe(32)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.console_session(token), mapping={"agent": agent.name})
            pipe.expire(keys.console_session(token), SESSION_TTL_S)
            await pipe.execute()
        return token

    async def session_agent(self, token: str) -> Agent | None:
        if not token:
            return None
        name = await self.redis.hget(keys.console_session(token), "agent")
        agent = await self.accounts.get(str(name)) if name else None
        return agent if agent is not None and not agent.disabled else None

    async def close_session(self, token: str) -> None:
        if token:
            await self.redis.delete(keys.console_session(token))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csrf_middleware(origins: Iterable[str]) -> Middleware:
    """Refuse state-changing console requests that are not JSON from one of `origins`."""
    allowed = frozenset(origin_of(o) for o in origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method not in SAFE_METHODS and request.path.startswith(API_PREFIX):
            if origin_of(request.headers.get("Origin", "")) not in allowed:
                return web.json_response({"error": "origin not allowed"}, status=403)
            if request.content_type != "application/json":
                return web.json_response({"error": "send application/json"}, status=415)
        return await handler(request)

    return middleware

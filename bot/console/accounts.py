"""Agent accounts in Redis, passwords hashed with argon2; console sessions with a TTL."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from bot import keys

SESSION_TTL_S = 12 * 3600
MAX_FAILURES = 5  # failed logins per account name ...
FAILURE_WINDOW_S = 300  # ... within this window, then the account waits it out
_hasher = PasswordHasher()


class Role(str, Enum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Agent:
    name: str
    role: Role
    languages: list[str]
    capacity: int
    disabled: bool


class LoginThrottled(Exception):
    """Too many failed logins for this account recently."""


class Accounts:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, name: str, password: str, *, role: Role, languages: list[str], capacity: int = 3) -> Agent:
        if await self.redis.sismember(keys.AGENTS, name):
            raise ValueError(f"agent {name!r} already exists")
        await self.redis.hset(
            keys.agent(name),
            mapping={
                "password": _hasher.hash(password),
                "role": role.value,
                "languages": ",".join(languages),
                "capacity": str(capacity),
                "disabled": "0",
            },
        )
        await self.redis.sadd(keys.AGENTS, name)
        return Agent(name, role, languages, capacity, False)

    async def get(self, name: str) -> Agent | None:
        raw = cast(dict[str, str], await self.redis.hgetall(keys.agent(name)))  # the client decodes responses
        if not raw:
            return None
        return Agent(
            name=name,
            role=Role(raw["role"]),
            languages=[lang for lang in raw.get("languages", "").split(",") if lang],
            capacity=int(raw.get("capacity") or 3),
            disabled=raw.get("disabled") == "1",
        )

    async def all(self) -> list[Agent]:
        agents = [await self.get(name) for name in sorted(cast(set[str], await self.redis.smembers(keys.AGENTS)))]
        return [a for a in agents if a is not None]

    async def set_disabled(self, name: str, disabled: bool) -> None:
        await self._require(name)
        await self.redis.hset(keys.agent(name), "disabled", "1" if disabled else "0")

    async def reset_password(self, name: str, password: str) -> None:
        await self._require(name)
        await self.redis.hset(keys.agent(name), "password", _hasher.hash(password))

    async def _require(self, name: str) -> None:
        if not await self.redis.sismember(keys.AGENTS, name):
            raise ValueError(f"no agent named {name!r}")

    async def verify(self, name: str, password: str) -> Agent | None:
        """The agent if the password is right and the account active; None otherwise."""
        failures_key = keys.login_failures(name)
        if int(await self.redis.get(failures_key) or 0) >= MAX_FAILURES:
            raise LoginThrottled(name)
        stored = await self.redis.hget(keys.agent(name), "password")
        agent = await self.get(name)
        try:
            ok = stored is not None and _hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or agent is None or agent.disabled:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(failures_key)
                pipe.expire(failures_key, FAILURE_WINDOW_S)
                await pipe.execute()
            return None
        await self.redis.delete(failures_key)
        return agent

    async def open_session(self, agent: Agent) -> str:
        token = secrets.token_urlsafe(32)
        await self.redis.hset(keys.console_session(token), mapping={"agent": agent.name})
        await self.redis.expire(keys.console_session(token), SESSION_TTL_S)
        return token

    async def session_agent(self, token: str) -> Agent | None:
        if not token:
            return None
        name = cast(str | None, await self.redis.hget(keys.console_session(token), "agent"))
        agent = await self.get(name) if name else None
        return agent if agent is not None and not agent.disabled else None

    async def close_session(self, token: str) -> None:
        await self.redis.delete(keys.console_session(token))

"""Agent accounts in Redis, passwords hashed with argon2 (sessions and throttling: bot/console/auth.py)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from enum import Enum
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from bot import keys

_hasher = PasswordHasher()
_dummy_hash: str | None = None  # checked against for unknown names, so that they take as long as known ones


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

    async def check_password(self, name: str, password: str) -> Agent | None:
        """The agent if the password is right and the account active; None otherwise.

        argon2 runs in a thread (it takes ~0.2 s of CPU, which would stall every voter on the loop), and
        an unknown name is checked against a dummy hash, so that it takes as long as a known one.
        """
        raw = cast(dict[str, str], await self.redis.hgetall(keys.agent(name)))
        stored = raw.get("password") or await _dummy()
        ok = await asyncio.to_thread(_verify, stored, password)
        if not ok or not raw or raw.get("disabled") == "1":
            return None
        return await self.get(name)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def _dummy() -> str:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await asyncio.to_thread(_hasher.hash, secrets.token_urlsafe(16))
    return _dummy_hash

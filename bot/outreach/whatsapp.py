"""Campaigns on WhatsApp: approved templates per language, the number's messaging tier, Meta's pauses.

Business-initiated WhatsApp messages must be approved templates. A campaign file names one per
language (``whatsapp:`` in ``campaigns/README.md``); its body parameters come from settings, the
voter's data or the election schedule. The messaging tier caps the unique voters the number may
start conversations with in any rolling 24 hours; `Tier` keeps that count in Redis, so several
runs and campaigns share it and a re-run resumes where the tier stopped the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot import keys
from bot.channels.whatsapp_send import GraphClient, template

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.outreach.rules import Recipient
    from bot.schedule import Schedule
    from bot.settings import Settings

# Where a template's body parameters {{1}}, {{2}}, ... come from, in order.
PARAMETERS = frozenset({"org_name", "org_url", "constituency", "state", "poll_date"})
TIER_WINDOW_S = 24 * 3600
SENT_TTL_S = 30 * 24 * 3600  # statuses arrive within days; the funnel needs the campaign until then

TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,512}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2,4})?$")]


class Template(BaseModel):
    """One approved template: its name, its language code in WhatsApp Manager, its body parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: TemplateName
    language: LanguageCode
    parameters: tuple[str, ...] = Field(default=(), max_length=10)

    @field_validator("parameters")
    @classmethod
    def _known(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [n for n in names if n not in PARAMETERS]
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r}; allowed: {', '.join(sorted(PARAMETERS))}")
        return names


class Templates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    hi: Template | None = None
    en: Template | None = None

    def get(self, language: str) -> Template | None:
        return self.hi if language == "hi" else self.en


def parameters(names: tuple[str, ...], recipient: Recipient, schedule: Schedule, values: dict[str, str]) -> list[str]:
    """The template's body parameters for one voter; ValueError when one is not known for them."""
    entry = schedule.for_constituency(recipient.constituency)
    known = {
        **values,
        "constituency": recipient.constituency or "",
        "state": recipient.state or "",
        "poll_date": entry.poll_date.strftime("%d-%m-%Y") if entry else "",
    }
    filled = [known.get(name, "") for name in names]
    missing = [name for name, value in zip(names, filled, strict=True) if not value]
    if missing:
        raise ValueError(f"no {', '.join(missing)} known for this voter")
    return filled


# Count a voter against the tier: KEYS[1] the sorted set (member: conversation hash, score: first send in the
# window). ARGV: member, now, window s, limit (0: unlimited). Returns 0 when the voter may be written to now,
# else how many seconds until the tier has room.
_RESERVE = """
local now, window, limit = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zscore', KEYS[1], ARGV[1]) or limit == 0 then return 0 end
if redis.call('zcard', KEYS[1]) < limit then
  redis.call('zadd', KEYS[1], now, ARGV[1])
  return 0
end
local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
"""


class Tier:
    """Unique voters per rolling 24 h, for one WhatsApp number."""

    def __init__(
        self, redis: Redis, limit: int, *, clock: Callable[[], float] = time.time, poll_s: float = 60.0
    ) -> None:
        self.limit = limit
        self.poll_s = poll_s  # how often a sender waiting for room looks again
        self._reserve = redis.register_script(_RESERVE)
        self._clock = clock

    async def reserve(self, recipient_key: str) -> float:
        """0 if the voter may get a message now (counted in the tier), else seconds until there is room."""
        args: list[str | float] = [recipient_key, self._clock(), TIER_WINDOW_S, self.limit]
        return float(await self._reserve(keys=[keys.WHATSAPP_TIER], args=args))


class WhatsAppBroadcast:
    """Sends one campaign's templates; each message is remembered with its campaign for the status funnel."""

    def __init__(self, settings: Settings, redis: Redis, campaign: str, *, connections: int = 16) -> None:
        assert settings.whatsapp_access_token is not None and settings.whatsapp_phone_number_id is not None
        self._settings = settings
        self._redis = redis
        self._campaign = campaign
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self.client: GraphClient | None = None

    async def __aenter__(self) -> WhatsAppBroadcast:
        settings = self._settings
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._connections))
        assert settings.whatsapp_access_token is not None and settings.whatsapp_phone_number_id is not None
        self.client = GraphClient(
            self._session,
            api_url=settings.whatsapp_api_url,
            phone_number_id=settings.whatsapp_phone_number_id,
            token=settings.whatsapp_access_token.get_secret_value(),
            max_rate=settings.whatsapp_max_rate,
            backoff_s=settings.whatsapp_backoff_s,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def send_template(self, chat_id: str, language: str, chosen: Template, values: list[str]) -> str:
        """Raises FloodWait, RecipientBlocked, SendingRestricted or DeliveryFailed (bot/errors.py)."""
        assert self.client is not None
        # A timeout may have been delivered: not retried, so nobody gets the campaign twice.
        wamid = await self.client.send(template(chat_id, chosen.name, chosen.language, values), retry_uncertain=False)
        sent = keys.whatsapp_sent(wamid)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(sent, mapping={"campaign": self._campaign, "language": language})
            pipe.expire(sent, SENT_TTL_S)
            await pipe.execute()
        return wamid

"""All settings, from the environment or `.env`, built once at start-up and passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.handoff.hours import AgentHours

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RASA_TOKEN = "change-me"


def _env(name: str) -> AliasChoices:
    """Accept both ``SAMVAD_NAME`` and the plain, conventional ``NAME``."""
    return AliasChoices(f"SAMVAD_{name}", name)


# Set all of these, or none (then WhatsApp is off).
WHATSAPP_REQUIRED = (
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
)


class Settings(BaseSettings):
    """Samvad's configuration. Every field can be set as ``SAMVAD_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="SAMVAD_", env_file=".env", extra="ignore", populate_by_name=True)

    # The organisation that runs this deployment; shown to voters.
    org_name: str = "Samvad voter help desk"
    org_url: str = "https://voters.eci.gov.in"

    # Gateway HTTP server.
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = Field("http://127.0.0.1:8080", validation_alias=_env("PUBLIC_URL"))
    # Extra origins allowed to open the web-chat websocket (a campaign site embedding it); also the only
    # sites allowed to show the web chat in a frame.
    webchat_origins: list[str] = []
    # Extra origins the console is served under (besides PUBLIC_URL's); state-changing requests and the
    # console websocket from any other origin are refused.
    console_origins: list[str] = []
    # Keep honouring web-chat voter ids made by browsers before the gateway issued them (docs/security.md):
    # anyone who saw such an id (agents did) could read and write that conversation. Off unless needed.
    webchat_legacy_ids: bool = False
    # Behind a reverse proxy that sets X-Forwarded-For: take the caller's address from it (login throttling,
    # per-address limits). Leave off otherwise: anyone can send the header.
    trust_forwarded_for: bool = False

    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias=_env("REDIS_URL"))
    # REDIS_URL names any node of a Redis Cluster (docs/scaling.md); it needs no database number (a cluster has
    # only database 0). Rasa's tracker store stays on a standalone Redis or PostgreSQL.
    redis_cluster: bool = Field(False, validation_alias=_env("REDIS_CLUSTER"))
    # Each process's Redis pool: at most this many connections; past it a command waits this long for one
    # (then fails) instead of failing at once.
    redis_max_connections: int = Field(100, ge=1)
    redis_pool_timeout_s: float = Field(5.0, gt=0)

    rasa_url: str = Field("http://127.0.0.1:5005", validation_alias=_env("RASA_URL"))
    rasa_token: SecretStr = Field(SecretStr(DEFAULT_RASA_TOKEN), validation_alias=_env("RASA_TOKEN"))
    rasa_timeout_s: float = Field(8.0, gt=0)
    # Where Rasa keeps its trackers (endpoints.yml `tracker_store`, e.g. redis://127.0.0.1:6379/1). "Delete my
    # data" removes the voter's tracker there: Rasa's Redis tracker store merges a tracker replaced through the
    # HTTP API with the stored one, so the API alone cannot erase it.
    rasa_tracker_redis_url: str | None = None
    # How often the gateway checks whether Rasa is back, to replay held messages.
    rasa_retry_interval_s: float = Field(5.0, gt=0)

    # The action server (bot/actions/server.py): loopback unless told otherwise, and a secret Rasa sends in a
    # header (endpoints.yml); without the secret it refuses to start. docs/security.md has the production layout.
    action_server_host: str = "127.0.0.1"
    action_server_port: int = Field(5055, ge=1, le=65535)
    action_server_token: SecretStr | None = Field(None, validation_alias=_env("ACTION_SERVER_TOKEN"))
    # Electoral-roll look-ups (names, part and serial numbers) one conversation may make per window.
    roll_lookups_per_window: int = Field(10, ge=1)
    roll_lookup_window_s: int = Field(3600, ge=1)

    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    # The Bot API root; tests point it at a local stand-in.
    telegram_api_url: str = Field("https://api.telegram.org", validation_alias=_env("TELEGRAM_API_URL"))
    webhook_url: str | None = Field(None, validation_alias=_env("WEBHOOK_URL"))
    webhook_secret: SecretStr | None = Field(None, validation_alias=_env("WEBHOOK_SECRET"))
    telegram_max_rate: float = Field(30.0, gt=0)  # messages per second, all chats together
    telegram_group_rate_per_min: float = Field(20.0, gt=0)
    # The HTTP client under python-telegram-bot: aiohttp costs half of httpx's CPU per reply
    # (docs/performance.md, "Gateway overhead"); httpx is PTB's own default.
    telegram_http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    # WhatsApp Business Cloud API (bot/channels/whatsapp.py): all four of token, number, app secret and
    # verify token, or none. The API URL is Graph's versioned root; tests point it at a local stand-in.
    whatsapp_access_token: SecretStr | None = Field(None, validation_alias=_env("WHATSAPP_ACCESS_TOKEN"))
    whatsapp_phone_number_id: str | None = Field(None, validation_alias=_env("WHATSAPP_PHONE_NUMBER_ID"))
    whatsapp_app_secret: SecretStr | None = Field(None, validation_alias=_env("WHATSAPP_APP_SECRET"))
    whatsapp_verify_token: SecretStr | None = Field(None, validation_alias=_env("WHATSAPP_VERIFY_TOKEN"))
    whatsapp_api_url: str = Field("https://graph.facebook.com/v26.0", validation_alias=_env("WHATSAPP_API_URL"))
    # Messages per second to the Cloud API for this number (Meta's default throughput is 80/s).
    whatsapp_max_rate: float = Field(80.0, gt=0, validation_alias=_env("WHATSAPP_MAX_RATE"))
    # First wait after a throttling answer (130429, 131056); doubled on each further one, up to 60 s.
    whatsapp_backoff_s: float = Field(0.5, gt=0, validation_alias=_env("WHATSAPP_BACKOFF_S"))
    # The number's messaging tier: unique voters a campaign may start a conversation with per rolling
    # 24 h (250, 2000, 10000, 100000); 0 means unlimited.
    whatsapp_tier: int = Field(250, ge=0, validation_alias=_env("WHATSAPP_TIER"))
    # The approved template an agent may send when the voter's 24-hour window has closed ("we tried to reach
    # you about your question"): its name in WhatsApp Manager, approved in Hindi (hi) and English (en), with
    # one body parameter, the organisation's name. Unset: agents are only told the window is closed.
    whatsapp_followup_template: str | None = Field(
        None, pattern=r"^[a-z0-9_]{1,512}$", validation_alias=_env("WHATSAPP_FOLLOWUP_TEMPLATE")
    )
    # Per-chat pacing: a burst of this many messages, then one per interval.
    chat_burst: int = Field(3, ge=1)
    chat_interval_s: float = Field(1.0, ge=0)

    # Voter text longer than this is cut before it reaches Rasa (Telegram's own limit is 4096).
    max_message_chars: int = Field(4096, ge=1)
    # Flood control (bot/flood.py): messages per window from one voter, and from one address on the web chat
    # (generous: many phones share one address behind a carrier's NAT).
    voter_messages_per_window: int = Field(20, ge=1)
    address_messages_per_window: int = Field(120, ge=1)
    flood_window_s: int = Field(60, ge=1)
    transcript_ttl_s: int = Field(30 * 24 * 3600, gt=0)
    transcript_max_turns: int = Field(200, ge=1)
    dedup_ttl_s: int = Field(48 * 3600, gt=0)
    # Dead letters (messages that failed to process, replies that could not be sent) are kept this long.
    dead_letter_ttl_s: float = Field(7 * 24 * 3600, gt=0)
    # A message held while Rasa was down and older than this goes to the dead letters instead of being replayed.
    retry_max_age_s: float = Field(48 * 3600, gt=0)

    # Hand-off: a conversation whose agent's console has been gone this long goes back to the queue.
    agent_abandon_after_s: float = Field(120.0, gt=0)
    # When people answer (India time); outside these hours voters are offered a call back instead.
    agent_hours: str = "09:00-21:00"
    agent_days: str = "mon,tue,wed,thu,fri,sat,sun"
    # A longer estimated wait than this also brings the call-back offer.
    handoff_max_wait_s: float = Field(900.0, gt=0)
    # Rasa down this long with a voter's message held: the conversation goes to a person.
    rasa_down_handoff_after_s: float = Field(60.0, gt=0)
    canned_file: Path = ROOT / "canned_responses.yml"

    # Outreach (campaigns): messages per second over all chats, no more than Telegram's ~30/s;
    # at most this many sends in flight; no outreach inside the quiet hours (India time).
    outreach_rate_per_s: float = Field(30.0, gt=0)
    outreach_concurrency: int = Field(16, ge=1)
    quiet_hours: str = "22:00-06:00"
    campaigns_dir: Path = ROOT / "campaigns"

    data_dir: Path = ROOT / "data"
    texts_file: Path = ROOT / "gateway_texts.yml"

    log_level: str = "INFO"
    log_json: bool = False

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://127.", "http://localhost")):
            raise ValueError("WEBHOOK_URL must be an https:// URL (Telegram only calls https)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's own rule for secret_token: 1-256 characters, A-Z a-z 0-9 _ -
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET must be 1-256 letters, digits, _ or - (Telegram's rule)")
        return value

    @model_validator(mode="after")
    def _whole_channels(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_URL is set but WEBHOOK_SECRET is not: every update would be refused; set both or neither"
            )
        return self

    @model_validator(mode="after")
    def _cluster_database(self) -> Settings:
        path = urlsplit(self.redis_url).path.strip("/")
        if self.redis_cluster and path not in ("", "0"):
            raise ValueError(f"REDIS_URL names database {path}, but a Redis Cluster has only database 0")
        return self

    @field_validator("agent_days")
    @classmethod
    def _valid_hours(cls, days: str, info: ValidationInfo) -> str:
        AgentHours(info.data.get("agent_hours", "09:00-21:00"), days)  # raises a clear ValueError
        return days

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet_hours(cls, window: str) -> str:
        AgentHours(window)  # raises a clear ValueError
        return window

    @model_validator(mode="after")
    def _whatsapp_complete(self) -> Settings:
        given = {name: bool(getattr(self, name.lower())) for name in WHATSAPP_REQUIRED}
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, ok in given.items() if not ok)
            raise ValueError(f"WhatsApp is half configured: {missing} missing (set all of {', '.join(given)})")
        return self

    @property
    def whatsapp_enabled(self) -> bool:
        return self.whatsapp_access_token is not None and bool(self.whatsapp_access_token.get_secret_value())

    def warnings(self) -> list[str]:
        """Settings that work but are unsafe outside a demo on one machine."""
        found = []
        if self.rasa_token.get_secret_value() == DEFAULT_RASA_TOKEN:
            found.append("SAMVAD_RASA_TOKEN is the default 'change-me': set a long random token for Rasa's API")
        if self.host not in ("127.0.0.1", "::1", "localhost"):
            found.append(f"SAMVAD_HOST={self.host}: the gateway listens beyond loopback (put TLS in front)")
        return found

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and bool(self.telegram_bot_token.get_secret_value())


class SettingsError(Exception):
    """Bad settings, one line per problem, each naming its environment variable."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load(**overrides: object) -> Settings:
    """Settings from the environment (and `overrides`); raises SettingsError naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError([_describe(error) for error in exc.errors()]) from None


def _describe(error: object) -> str:
    details = error if isinstance(error, dict) else {}
    loc = details.get("loc") or ()
    message = str(details.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:  # a rule across several settings: its message names them
        return message
    field = str(loc[0])
    return f"{env_name(field)}: {message}"


def env_name(field: str) -> str:
    """The environment variable that sets `field` (the first one it is read from)."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    if field.startswith("SAMVAD_") or field.isupper():
        return field
    return f"SAMVAD_{field.upper()}"

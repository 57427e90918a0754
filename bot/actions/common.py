"""What every action needs: settings, data, Redis, and facts read from the tracker.

Nothing here is built at import time; each resource is made on first use and
cached (tests replace the Redis client with :func:`use_redis`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

import redis.asyncio as aioredis
from rasa_sdk import Tracker

from bot import keys, redis_client
from bot.electoral import ElectoralRoll
from bot.schedule import Schedule
from bot.settings import Settings
from bot.words import CANCEL_WORDS

LANGUAGES = ("hi", "en")
DEFAULT_LANGUAGE = "hi"
# Intents that are not a topic of their own: ignored when naming the topic of a hand-off.
NON_TOPIC_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "thanks",
        "affirm",
        "deny",
        "inform",
        "nlu_fallback",
        "ask_human",
        "request_callback",
        "bot_challenge",
        "change_language",
        "out_of_scope",
        "ask_source",
    }
)
_NOT_WORD = re.compile(r"[^\w\u0900-\u097F]+")

_redis: aioredis.Redis | None = None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The settings, built on first use (never at import)."""
    return Settings()


@lru_cache(maxsize=1)
def electoral_roll() -> ElectoralRoll:
    return ElectoralRoll.load(settings().data_dir)


@lru_cache(maxsize=1)
def election_schedule() -> Schedule:
    return Schedule.load(settings().data_dir / "schedule.yml")


def redis() -> aioredis.Redis:
    """The shared Redis client (the gateway's database, from settings)."""
    global _redis
    if _redis is None:
        _redis = redis_client.connect(settings().redis_url, cluster=settings().redis_cluster)
    return _redis


def use_redis(client: aioredis.Redis | None) -> None:
    """Replace the shared Redis client (tests), or forget it with ``None``."""
    global _redis
    _redis = client


# Count one use and start the window on the first, in one step; the count so far comes back.
_COUNT_IN_WINDOW = """
local used = redis.call('incr', KEYS[1])
if used == 1 then redis.call('expire', KEYS[1], ARGV[1]) end
return used
"""


async def roll_lookup_allowed(conversation_id: str) -> bool:
    """Count one electoral-roll look-up for the conversation; False once it used up its window's share.

    The roll returns names, part and serial numbers: without a limit one conversation could read it all.
    """
    config = settings()
    used = await redis().eval(_COUNT_IN_WINDOW, 1, keys.roll_lookups(conversation_id), config.roll_lookup_window_s)
    return int(used) <= config.roll_lookups_per_window


def language_of(tracker: Tracker) -> str:
    value = tracker.get_slot("language")
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def message_metadata(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def channel_of(tracker: Tracker) -> str:
    """The channel the voter writes from (telegram, webchat), from message or session metadata."""
    for metadata in (message_metadata(tracker), tracker.get_slot("session_started_metadata") or {}):
        if isinstance(metadata, dict) and isinstance(metadata.get("channel"), str):
            return str(metadata["channel"])
    return "unknown"


def latest_text(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(v) for v in tracker.get_latest_entity_values(entity) if v]


def is_cancel(tracker: Tracker) -> bool:
    """Whether the voter's latest message asks to stop the current form."""
    intent, confidence = latest_intent(tracker)
    if intent == "deny" and confidence >= 0.5:
        return True
    words = _NOT_WORD.sub(" ", unicodedata.normalize("NFC", latest_text(tracker)).casefold()).split()
    if not words or len(words) > 4:
        return False
    text = " ".join(words)
    return text in CANCEL_WORDS or words[0] in CANCEL_WORDS or " ".join(words[:2]) in CANCEL_WORDS


# Set by rasa_ext/intent_routing.py when a request for a person also named a topic.
HANDOFF_TOPIC_KEY = "handoff_topic"


def last_topic(tracker: Tracker) -> str | None:
    """The latest intent that names what the voter wanted (e.g. find_polling_station).

    A request for a person that named its topic in the same message ("my name is not on the list,
    I want a person") carries it in the parse data: that one comes first.
    """
    named = (tracker.latest_message or {}).get(HANDOFF_TOPIC_KEY)
    if isinstance(named, str) and named and named not in NON_TOPIC_INTENTS:
        return named
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if name and name not in NON_TOPIC_INTENTS:
                return str(name)
    return None

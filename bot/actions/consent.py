"""Outreach consent: subscribe and unsubscribe, with a ledger of every change.

Redis layout (names in ``bot/keys.py``), read by the outreach side:

- ``keys.consent(conv)``: hash ``state`` (subscribed | unsubscribed), ``at`` (ISO UTC),
  ``channel``, ``language``, ``constituency`` (when known), ``notice_version``;
- ``keys.SUBSCRIBERS``: set of conversation ids that are subscribed now;
- ``keys.CONSENT_LEDGER``: stream, one entry per change, with the same fields and
  ``conversation_hash`` (sha256 of the conversation id) instead of the id, so the
  ledger holds no personal data and survives "delete my data".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.actions.common import channel_of, conversation_hash, language_of, redis

log = structlog.get_logger(__name__)


class ConsentState(str, Enum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    ERASED = "erased"  # only on the ledger, written by "delete my data"


def ledger_entry(
    conversation_id: str, state: ConsentState, at: str, details: Mapping[str, str] | None = None
) -> dict[FieldT, EncodableT]:
    """The fields of one consent-ledger entry (no conversation id, only its hash)."""
    entry: dict[FieldT, EncodableT] = {"conversation_hash": conversation_hash(conversation_id)}
    entry.update({"state": state.value, "at": at})
    entry.update(details or {})
    return entry


async def record_consent(tracker: Tracker, state: ConsentState) -> None:
    """Write the voter's consent state, the subscribers set and the ledger in one transaction."""
    conversation = tracker.sender_id
    now = datetime.now(UTC).isoformat(timespec="seconds")
    details = {
        "channel": channel_of(tracker),
        "language": language_of(tracker),
        "notice_version": str(tracker.get_slot("consent_notice_version") or "1"),
    }
    if tracker.get_slot("constituency"):
        details["constituency"] = str(tracker.get_slot("constituency"))
    record: dict[FieldT, EncodableT] = {"state": state.value, "at": now}
    record.update(details)
    async with redis().pipeline(transaction=True) as pipe:
        pipe.delete(keys.consent(conversation))
        pipe.hset(keys.consent(conversation), mapping=record)
        if state is ConsentState.SUBSCRIBED:
            pipe.sadd(keys.SUBSCRIBERS, conversation)
            # A fresh, explicit opt-in lifts an earlier "delete my data" suppression.
            pipe.srem(keys.SUPPRESSED, conversation_hash(conversation))
        else:
            pipe.srem(keys.SUBSCRIBERS, conversation)
        pipe.xadd(keys.CONSENT_LEDGER, ledger_entry(conversation, state, now, details))
        await pipe.execute()
    log.info("consent_recorded", conversation_id=conversation, channel=details["channel"], state=state.value)


class _ConsentAction(Action, ABC):
    state: ConsentState
    confirmation: str

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            await record_consent(tracker, self.state)
        except RedisError as exc:
            log.error("consent_failed", conversation_id=tracker.sender_id, channel=channel_of(tracker), error=repr(exc))
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        dispatcher.utter_message(response=self.confirmation)
        return []


class ActionSubscribe(_ConsentAction):
    """Record the voter's explicit yes to updates."""

    state = ConsentState.SUBSCRIBED
    confirmation = "utter_subscribed"

    def name(self) -> str:
        return "action_subscribe"


class ActionUnsubscribe(_ConsentAction):
    """Record that the voter wants no more updates."""

    state = ConsentState.UNSUBSCRIBED
    confirmation = "utter_unsubscribed"

    def name(self) -> str:
        return "action_unsubscribe"

"""Outreach consent actions: subscribe and unsubscribe (the ledger itself: ``bot/consent.py``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from bot.actions.common import channel_of, language_of, redis
from bot.consent import ConsentState, record_consent

log = structlog.get_logger(__name__)


async def _record(tracker: Tracker, state: ConsentState) -> None:
    details = {
        "channel": channel_of(tracker),
        "language": language_of(tracker),
        "notice_version": str(tracker.get_slot("consent_notice_version") or "1"),
    }
    if tracker.get_slot("constituency"):
        details["constituency"] = str(tracker.get_slot("constituency"))
    await record_consent(redis(), tracker.sender_id, state, details)
    log.info("consent_recorded", conversation_id=tracker.sender_id, channel=details["channel"], state=state.value)


class _ConsentAction(Action, ABC):
    state: ConsentState
    confirmation: str

    @abstractmethod
    def name(self) -> str: ...

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        try:
            await _record(tracker, self.state)
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

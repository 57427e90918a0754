"""Keep the voter messages the assistant handled badly, masked, for the content team (``bot/content/review``)."""

from __future__ import annotations

from typing import Any, cast

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import channel_of, language_of, redis
from bot.content.review import Reason, guessed_intent, nlu_language, record

log = structlog.get_logger(__name__)

# Before a hand-off, the voter's previous message is the one the assistant did not answer well,
# unless it was one of these: already recorded (fallback, out_of_scope), or itself a request for a person.
_NOT_FOR_REVIEW = frozenset({"nlu_fallback", "out_of_scope", "ask_human", "request_callback"})


async def keep_for_review(tracker: Tracker, reason: Reason, message: dict[str, Any] | None = None) -> None:
    """Record ``message`` (default: the latest) for review; a Redis failure must not break the conversation."""
    message = tracker.latest_message if message is None else message
    text = str((message or {}).get("text") or "")
    intent, confidence = guessed_intent((message or {}).get("parse_data") or message or {})
    try:
        await record(
            redis(),
            text=text,
            intent=intent,
            confidence=confidence,
            reason=reason,
            language=nlu_language(text, language_of(tracker)),
        )
    except Exception as exc:  # the voter's answer matters more than the review copy
        log.warning(
            "review_record_failed", conversation_id=tracker.sender_id, channel=channel_of(tracker), error=repr(exc)
        )


def message_before_handoff(tracker: Tracker) -> dict[str, Any] | None:
    """The voter's message before the one that led to the hand-off, if it is worth reviewing."""
    if (tracker.latest_message or {}).get("intent", {}).get("name") == "nlu_fallback":
        return cast(dict[str, Any], tracker.latest_message)  # fell back twice: the second message is the one
    users = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            users.append(event)
            if len(users) == 2:
                break
    if len(users) < 2:
        return None
    previous = users[1]
    intent = ((previous.get("parse_data") or {}).get("intent") or {}).get("name")
    return None if intent in _NOT_FOR_REVIEW else previous


class ActionRecordForReview(Action):
    """Record the voter's message for the content team's review (nlu_fallback and out_of_scope rules)."""

    def name(self) -> str:
        return "action_record_for_review"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        await keep_for_review(tracker, Reason.OUT_OF_SCOPE if intent == "out_of_scope" else Reason.FALLBACK)
        return []

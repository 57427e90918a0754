"""Call-back requests: a phone number and explicit consent, queued for call-centre staff (``keys.CALLBACKS``)."""

from __future__ import annotations

import json
import time
from typing import Any, cast

import structlog
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.actions.common import channel_of, is_cancel, language_of, last_topic, latest_intent, redis
from bot.electoral import find_phone

log = structlog.get_logger(__name__)

FORM = "callback_form"
SLOTS = ("callback_phone", "callback_consent")
# Intents that leave the form for another flow instead of being taken as an answer.
DIGRESSIONS = frozenset({"ask_human", "delete_data", "change_language", "unsubscribe"})
DIGRESSION_CONFIDENCE = 0.8
TRANSCRIPT_TURNS = 20  # the last turns that go with a request, for the person who calls back
COUNTRY_CODE = "+91"


def _as_text(value: Any) -> str:
    if isinstance(value, list):  # several phone_number entities in one message
        value = " ".join(str(v) for v in value)
    return " ".join(str(value or "").split())


def e164(phone: str) -> str:
    """A 10-digit Indian mobile number as E.164 (``+91XXXXXXXXXX``)."""
    return COUNTRY_CODE + phone


class ValidateCallbackForm(FormValidationAction):
    """Check the number and the consent; "cancel"/"ruko"/no at any step ends the form with nothing stored."""

    def name(self) -> str:
        return "validate_callback_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested and is_cancel(tracker):
            return [SlotSet("callback_phone", None), SlotSet("callback_consent", False), SlotSet(REQUESTED_SLOT, None)]
        intent, confidence = latest_intent(tracker)
        if requested and intent in DIGRESSIONS and confidence >= DIGRESSION_CONFIDENCE:
            # Not an answer: forget the number too (it must not stay in the tracker) and let the rules
            # handle the intent; if the form resumes, it asks for the number again.
            return [SlotSet("callback_phone", None), SlotSet("callback_consent", None), ActionExecutionRejected(FORM)]
        return cast(list[dict[str, Any]], await super().run(dispatcher, tracker, domain))

    def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        phone = find_phone(_as_text(value))
        if phone:
            return {"callback_phone": phone}
        dispatcher.utter_message(response="utter_invalid_callback_phone")
        return {"callback_phone": None}

    def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"callback_consent": value if isinstance(value, bool) else None}

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventType | None:
        if tracker.get_slot("callback_consent") is False:
            return SlotSet(REQUESTED_SLOT, None)
        missing = next((s for s in SLOTS if tracker.get_slot(s) is None), None)
        return SlotSet(REQUESTED_SLOT, missing)


async def recent_turns(conversation_id: str, channel: str) -> list[dict[str, str]]:
    """The last turns of the gateway's transcript, reduced to ``{"who", "text"}``."""
    turns = []
    for raw in await redis().lrange(keys.transcript(conversation_id), -TRANSCRIPT_TURNS, -1):
        try:
            turn = json.loads(raw)
            turns.append({"who": str(turn["who"]), "text": str(turn["text"])})
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("transcript_turn_unreadable", conversation_id=conversation_id, channel=channel, error=repr(exc))
    return turns


class ActionRequestCallback(Action):
    """Queue a consented call-back request, or confirm that nothing was stored; the number leaves the slots."""

    def name(self) -> str:
        return "action_request_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reset: list[EventType] = [SlotSet(s, None) for s in SLOTS]
        phone = tracker.get_slot("callback_phone")
        if tracker.get_slot("callback_consent") is not True or not phone:
            dispatcher.utter_message(response="utter_callback_declined")
            return reset
        conversation = tracker.sender_id
        channel = channel_of(tracker)
        topic = last_topic(tracker) or ""
        try:
            transcript = await recent_turns(conversation, channel)
            entry: dict[FieldT, EncodableT] = {
                "conversation_id": conversation,
                "phone": e164(phone),
                "language": language_of(tracker),
                "topic": topic,
                "transcript": json.dumps(transcript, ensure_ascii=False),
                "requested_at": int(time.time()),
            }
            entry_id = await redis().xadd(keys.CALLBACKS, entry)
        except RedisError as exc:
            log.error("callback_request_failed", conversation_id=conversation, channel=channel, error=repr(exc))
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        log.info("callback_requested", conversation_id=conversation, channel=channel, topic=topic, entry_id=entry_id)
        dispatcher.utter_message(response="utter_callback_booked", phone_ending=phone[-2:])
        return reset

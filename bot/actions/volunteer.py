"""Volunteer sign-up: name, phone, area and explicit consent, stored in Redis."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from bot import keys
from bot.actions.common import channel_of, is_cancel, language_of, latest_intent, redis
from bot.electoral import find_phone, find_pin

log = structlog.get_logger(__name__)

FORM = "volunteer_form"
SLOTS = ("volunteer_name", "volunteer_phone", "volunteer_area", "volunteer_consent")
# Intents that leave the form for another flow instead of being taken as an answer.
DIGRESSIONS = frozenset({"ask_human", "request_callback", "delete_data", "change_language", "unsubscribe"})
DIGRESSION_CONFIDENCE = 0.8
_LETTERS = re.compile(r"[A-Za-z\u0900-\u097F]")
_DIGITS = re.compile(r"[0-9\u0966-\u096F]")


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


class ValidateVolunteerForm(FormValidationAction):
    """Check each answer; "cancel"/"ruko"/no at any step ends the form with nothing saved."""

    def name(self) -> str:
        return "validate_volunteer_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested and is_cancel(tracker):
            return [*(SlotSet(s, None) for s in SLOTS[:3]), SlotSet("volunteer_consent", False),
                    SlotSet(REQUESTED_SLOT, None)]  # fmt: skip
        intent, confidence = latest_intent(tracker)
        if requested and intent in DIGRESSIONS and confidence >= DIGRESSION_CONFIDENCE:
            # Not an answer: undo the free-text fill and let the rules handle the intent.
            return [SlotSet(requested, None), ActionExecutionRejected(FORM)]
        return cast(list[dict[str, Any]], await super().run(dispatcher, tracker, domain))

    def validate_volunteer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        name = _clean(value)
        if 2 <= len(name) <= 60 and len(name.split()) <= 6 and _LETTERS.search(name) and not _DIGITS.search(name):
            return {"volunteer_name": name}
        dispatcher.utter_message(response="utter_invalid_volunteer_name")
        return {"volunteer_name": None}

    def validate_volunteer_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        phone = find_phone(_clean(value))
        if phone:
            return {"volunteer_phone": phone}
        dispatcher.utter_message(response="utter_invalid_volunteer_phone")
        return {"volunteer_phone": None}

    def validate_volunteer_area(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        area = _clean(value)
        if 2 <= len(area) <= 80 and (_LETTERS.search(area) or find_pin(area)):
            return {"volunteer_area": area}
        dispatcher.utter_message(response="utter_invalid_volunteer_area")
        return {"volunteer_area": None}

    def validate_volunteer_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"volunteer_consent": value if isinstance(value, bool) else None}

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventType | None:
        if tracker.get_slot("volunteer_consent") is False:
            return SlotSet(REQUESTED_SLOT, None)
        missing = next((s for s in SLOTS if tracker.get_slot(s) is None), None)
        return SlotSet(REQUESTED_SLOT, missing)


class ActionVolunteerSubmit(Action):
    """Save a consented sign-up to Redis, or confirm that nothing was saved."""

    def name(self) -> str:
        return "action_volunteer_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reset: list[EventType] = [SlotSet(s, None) for s in SLOTS]
        name, phone, area = (tracker.get_slot(s) for s in SLOTS[:3])
        if tracker.get_slot("volunteer_consent") is not True or not (name and phone and area):
            dispatcher.utter_message(response="utter_volunteer_cancelled")
            return reset
        conversation = tracker.sender_id
        record: dict[FieldT, EncodableT] = {
            "name": name,
            "phone": phone,
            "area": area,
            "consent_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "channel": channel_of(tracker),
            "language": language_of(tracker),
        }
        try:
            # Two cluster slots, so two steps: the index first, so a crash in between loses no sign-up from it.
            await redis().sadd(keys.VOLUNTEERS, conversation)
            await redis().hset(keys.volunteer(conversation), mapping=record)
        except RedisError as exc:
            log.error("volunteer_save_failed", conversation_id=conversation, channel=record["channel"], error=repr(exc))
            dispatcher.utter_message(response="utter_technical_problem")
            return reset
        log.info("volunteer_saved", conversation_id=conversation, channel=record["channel"])
        dispatcher.utter_message(response="utter_volunteer_saved", volunteer_name=name)
        return reset

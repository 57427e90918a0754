"""Session start and the voter's language."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import (
    LANGUAGES,
    entity_values,
    language_of,
    latest_intent,
    latest_text,
    message_metadata,
    settings,
)
from bot.handoff import SET_LANGUAGE_KEY

# Slots worth keeping when a new session starts (never the EPIC number or form answers).
CARRY_OVER_SLOTS = ("language", "constituency", "state")
_DEVANAGARI = re.compile(r"[\u0900-\u097F]")
# Values of the `language` entity (after synonyms they are already "hi"/"en").
_LANGUAGE_NAMES = {
    "en": "en", "english": "en", "eng": "en", "inglish": "en", "angrezi": "en", "angreji": "en",
    "angrezee": "en", "angrezy": "en", "इंग्लिश": "en", "अंग्रेज़ी": "en", "अंग्रेजी": "en", "अंगरेजी": "en",
    "hi": "hi", "hindi": "hi", "hindee": "hi", "hindhi": "hi", "हिंदी": "hi", "हिन्दी": "hi",
}  # fmt: skip


def requested_language(tracker: Tracker) -> str | None:
    """The language the voter asked for in the latest message (``language`` entity), if any."""
    for value in reversed(entity_values(tracker, "language")):
        code = _LANGUAGE_NAMES.get(value.strip().casefold())
        if code:
            return code
    return None


class ActionSessionStart(Action):
    """Start a session: keep a few slots, set the organisation name and the language."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        for slot in CARRY_OVER_SLOTS:
            value = tracker.get_slot(slot)
            if value is not None:
                events.append(SlotSet(slot, value))
        metadata = tracker.get_slot("session_started_metadata")
        if isinstance(metadata, dict):
            events.append(SlotSet("session_started_metadata", metadata))
            if metadata.get("language") in LANGUAGES:
                events.append(SlotSet("language", metadata["language"]))
        events.append(SlotSet("org_name", settings().org_name))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionExtractLanguage(Action):
    """Fill the ``language`` slot every turn (custom slot mapping, run by action_extract_slots).

    Order of precedence: a language the voter asks for in this very message
    (change_language), the gateway's ``metadata.language``, Devanagari text,
    and otherwise the language we already had.
    """

    def name(self) -> str:
        return "action_extract_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        current = tracker.get_slot("language")
        intent, _ = latest_intent(tracker)
        wanted = requested_language(tracker) if intent == "change_language" else None
        if wanted is None:
            from_gateway = message_metadata(tracker).get("language")
            if from_gateway in LANGUAGES:
                wanted = str(from_gateway)
            elif _DEVANAGARI.search(latest_text(tracker)):
                wanted = "hi"
        if wanted is None and current not in LANGUAGES:
            wanted = language_of(tracker)
        return [SlotSet("language", wanted)] if wanted and wanted != current else []


class ActionChangeLanguage(Action):
    """Switch the reply language and tell the gateway; offer the choice when none was named."""

    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        wanted = requested_language(tracker)
        if wanted is None:
            dispatcher.utter_message(response="utter_choose_language")
            return []
        # action_extract_language has already switched the slot, so this reply is
        # rendered in the new language.
        dispatcher.utter_message(response="utter_language_changed")
        dispatcher.utter_message(json_message={SET_LANGUAGE_KEY: wanted})
        return [SlotSet("language", wanted)]

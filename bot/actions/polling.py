"""Polling station look-up and the voter-list check (EPIC number or PIN code forms)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import structlog
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from bot.actions.common import (
    channel_of,
    electoral_roll,
    is_cancel,
    language_of,
    latest_intent,
    latest_text,
    roll_lookup_allowed,
)
from bot.actions.form_exits import detoured_now, should_let_go
from bot.electoral import PollingStation, find_epic, find_pin, mask, normalize_epic, normalize_pin

log = structlog.get_logger(__name__)

# A PIN code area can hold many stations; list at most this many.
MAX_STATIONS_PER_PIN = 3


def _station_kwargs(station: PollingStation, language: str) -> dict[str, Any]:
    return {
        "station_name": station.name_in(language),
        "address": station.address_in(language),
        "part_number": station.part_number,
        "map_link": station.map_link,
    }


def _sample_notice(dispatcher: CollectingDispatcher) -> None:
    if electoral_roll().sample:
        dispatcher.utter_message(response="utter_sample_data_notice")


def _refuse_lookup(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Past the conversation's look-ups for now: point to the official search instead of the roll."""
    log.warning("roll_lookup_limited", conversation_id=tracker.sender_id, channel=channel_of(tracker))
    dispatcher.utter_message(response="utter_registration_check_official")
    return [SlotSet("epic_number", None)]


class _EpicFormValidation(FormValidationAction, ABC):
    """Shared parts: read an EPIC number (or PIN code) from free text; stop on "cancel"."""

    accepts_pin = False
    trigger_intent: str
    form: str

    @abstractmethod
    def name(self) -> str: ...

    async def extract_epic_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) and is_cancel(tracker):
            # A slot event (even None) keeps Rasa from rejecting the form; the
            # requested slot set to None below then ends it.
            return {"epic_number": None}
        epic = find_epic(latest_text(tracker))
        if epic:
            return {"epic_number": epic}
        if tracker.get_slot(REQUESTED_SLOT) and latest_intent(tracker)[0] == self.trigger_intent:
            # The same question again: ask again rather than leave the form.
            return {"epic_number": None}
        return {}

    async def extract_pin_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not self.accepts_pin or tracker.get_slot("epic_number"):
            return {}
        pin = find_pin(latest_text(tracker))
        return {"pin_code": pin} if pin else {}

    def validate_epic_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"epic_number": normalize_epic(str(value)) if value else None}

    def validate_pin_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"pin_code": normalize_pin(str(value)) if value else None}

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventType | None:
        done = bool(tracker.get_slot("epic_number")) or (self.accepts_pin and bool(tracker.get_slot("pin_code")))
        if done or (tracker.get_slot(REQUESTED_SLOT) and is_cancel(tracker)) or should_let_go(tracker, self.form):
            return SlotSet(REQUESTED_SLOT, None)
        return SlotSet(REQUESTED_SLOT, "epic_number")


class ValidatePollingStationForm(_EpicFormValidation):
    """Either an EPIC number or a PIN code completes the polling station form."""

    accepts_pin = True
    trigger_intent = "find_polling_station"
    form = "polling_station_form"

    def name(self) -> str:
        return "validate_polling_station_form"


class ValidateRegistrationForm(_EpicFormValidation):
    """The voter-list check needs an EPIC number."""

    trigger_intent = "check_registration"
    form = "registration_form"

    def name(self) -> str:
        return "validate_registration_form"


class ActionFindPollingStation(Action):
    """Answer with the voter's polling station (EPIC) or the stations of a PIN code area."""

    def name(self) -> str:
        return "action_find_polling_station"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        language = language_of(tracker)
        roll = electoral_roll()
        epic = normalize_epic(tracker.get_slot("epic_number"))
        pin = normalize_pin(tracker.get_slot("pin_code"))
        if epic and not await roll_lookup_allowed(tracker.sender_id):
            return _refuse_lookup(dispatcher, tracker)
        if epic:
            elector = roll.elector(epic)
            station = roll.station_for(elector) if elector else None
            log.info("station_lookup", conversation_id=tracker.sender_id, channel=channel_of(tracker),
                     epic=mask(epic), found=station is not None)  # fmt: skip
            if station is None:
                dispatcher.utter_message(response="utter_station_not_found")
                return [SlotSet("epic_number", None)]
            dispatcher.utter_message(response="utter_polling_station", **_station_kwargs(station, language))
            _sample_notice(dispatcher)
            return [SlotSet("epic_number", epic), SlotSet("constituency", station.constituency)]
        if pin:
            stations = roll.stations_by_pin(pin)
            log.info("station_lookup", conversation_id=tracker.sender_id, channel=channel_of(tracker),
                     pin=pin, found=len(stations))  # fmt: skip
            if not stations:
                dispatcher.utter_message(response="utter_station_not_found")
            else:
                dispatcher.utter_message(response="utter_stations_for_pin", pin_code=pin)
                for station in stations[:MAX_STATIONS_PER_PIN]:
                    dispatcher.utter_message(response="utter_station_item", **_station_kwargs(station, language))
                _sample_notice(dispatcher)
            # A PIN code is a search, not the voter's identity: do not reuse it next time.
            return [SlotSet("pin_code", None)]
        if not detoured_now(tracker, "polling_station_form"):  # let go after another answer: nothing to add
            dispatcher.utter_message(response="utter_form_cancelled")
        return []


class ActionCheckRegistration(Action):
    """Say whether the EPIC number is on the (sample) roll, with the name in the voter's script."""

    def name(self) -> str:
        return "action_check_registration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        language = language_of(tracker)
        roll = electoral_roll()
        epic = normalize_epic(tracker.get_slot("epic_number"))
        if not epic:
            if not detoured_now(tracker, "registration_form"):
                dispatcher.utter_message(response="utter_registration_check_official")
            return []
        if not await roll_lookup_allowed(tracker.sender_id):
            return _refuse_lookup(dispatcher, tracker)
        elector = roll.elector(epic)
        station = roll.station_for(elector) if elector else None
        log.info("roll_lookup", conversation_id=tracker.sender_id, channel=channel_of(tracker),
                 epic=mask(epic), found=station is not None)  # fmt: skip
        if elector is None or station is None:
            dispatcher.utter_message(response="utter_registration_not_found")
            return [SlotSet("epic_number", None)]
        dispatcher.utter_message(
            response="utter_registration_found",
            name=elector.name_in(language),
            constituency=station.constituency_in(language),
            part_number=elector.part_number,
            serial_number=elector.serial_number,
        )
        _sample_notice(dispatcher)
        return [SlotSet("epic_number", epic), SlotSet("constituency", station.constituency)]

"""Election schedule: when a constituency (or a state) votes, from data/schedule.yml."""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from bot.actions.common import election_schedule, is_cancel, language_of, latest_intent, latest_text
from bot.actions.form_exits import detoured_now, should_let_go
from bot.clock import long_date, spoken_time
from bot.schedule import ConstituencySchedule

_LETTER = re.compile(r"[A-Za-z\u0900-\u097F]")
# Longest text taken as a constituency name the assistant does not know (to say so plainly).
MAX_UNKNOWN_NAME = 40


def _looks_like_a_name(text: str) -> bool:
    return 2 <= len(text) <= MAX_UNKNOWN_NAME and len(text.split()) <= 4 and bool(_LETTER.search(text))


class ValidateScheduleForm(FormValidationAction):
    """Resolve the constituency from free text; a known state alone is enough too."""

    def name(self) -> str:
        return "validate_schedule_form"

    async def extract_constituency(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot(REQUESTED_SLOT) != "constituency":
            return {}
        if is_cancel(tracker):
            return {"constituency": None}
        text = " ".join(latest_text(tracker).split())
        entry = election_schedule().for_constituency(text)
        if entry:
            return {"constituency": entry.name}
        intent, _ = latest_intent(tracker)
        if not tracker.get_slot("constituency") and intent in {"inform", "nlu_fallback"} and _looks_like_a_name(text):
            # A place we have no data for: keep it, so the answer can say so plainly.
            return {"constituency": text}
        if intent == "election_schedule" and not tracker.get_slot("constituency"):
            # The same question again: ask again rather than leave the form.
            return {"constituency": None}
        return {}

    def validate_constituency(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:
            return {"constituency": None}
        entry = election_schedule().for_constituency(str(value))
        return {"constituency": entry.name if entry else str(value)[:MAX_UNKNOWN_NAME]}

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> EventType | None:
        known_state = election_schedule().resolve_state(tracker.get_slot("state")) is not None
        cancelled = bool(tracker.get_slot(REQUESTED_SLOT)) and is_cancel(tracker)
        if tracker.get_slot("constituency") or known_state or cancelled or should_let_go(tracker, "schedule_form"):
            return SlotSet(REQUESTED_SLOT, None)
        return SlotSet(REQUESTED_SLOT, "constituency")


class ActionElectionSchedule(Action):
    """Phase, poll date and close of poll for the voter's constituency, or for each phase of a state."""

    def name(self) -> str:
        return "action_election_schedule"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        language = language_of(tracker)
        schedule = election_schedule()
        name = tracker.get_slot("constituency")
        if name:
            entry = schedule.for_constituency(name)
            if entry is None:
                dispatcher.utter_message(response="utter_schedule_not_found", constituency=name)
                return [SlotSet("constituency", None)]
            self._utter_constituency(dispatcher, entry, language)
            return [SlotSet("constituency", entry.name)]
        state = schedule.resolve_state(tracker.get_slot("state"))
        if state is None:
            if not detoured_now(tracker, "schedule_form"):  # let go after another answer: nothing to add
                dispatcher.utter_message(response="utter_form_cancelled")
            return []
        entries = schedule.for_state(state.name)
        state_name = state.name_hi if language == "hi" else state.name
        for (phase, poll_date), group in groupby(entries, key=lambda e: (e.phase, e.poll_date)):
            names = [e.name_hi if language == "hi" else e.name for e in group]
            dispatcher.utter_message(
                response="utter_schedule_state",
                state=state_name,
                phase=phase,
                poll_date=long_date(poll_date, language),
                constituencies=", ".join(names),
            )
        if schedule.sample:
            dispatcher.utter_message(response="utter_sample_data_notice")
        return []

    @staticmethod
    def _utter_constituency(dispatcher: CollectingDispatcher, entry: ConstituencySchedule, language: str) -> None:
        state = election_schedule().resolve_state(entry.state)
        dispatcher.utter_message(
            response="utter_schedule",
            constituency=entry.name_hi if language == "hi" else entry.name,
            state=(state.name_hi if state and language == "hi" else entry.state),
            phase=entry.phase,
            poll_date=long_date(entry.poll_date, language),
            poll_close=spoken_time(entry.poll_close, language),
        )
        if election_schedule().sample:
            dispatcher.utter_message(response="utter_sample_data_notice")

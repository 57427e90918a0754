"""Hand-off to a person: the signal the gateway acts on (contract: ``bot/handoff``)."""

from __future__ import annotations

from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.common import channel_of, language_of, last_topic, latest_intent
from bot.actions.review import keep_for_review, message_before_handoff
from bot.content.review import Reason
from bot.handoff import HandoffReason, HandoffSignal

log = structlog.get_logger(__name__)

_REASONS = {
    "ask_human": HandoffReason.ASK_HUMAN,
    "request_callback": HandoffReason.REQUEST_CALLBACK,
}


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason) -> list[EventType]:
    """Tell the voter a person takes over, emit the ``handoff`` payload, and pause the bot."""
    language = language_of(tracker)
    signal = HandoffSignal(reason=reason, topic=last_topic(tracker), language=language)
    response = "utter_handoff_callback" if reason is HandoffReason.REQUEST_CALLBACK else "utter_handoff"
    dispatcher.utter_message(response=response)
    dispatcher.utter_message(json_message=signal.to_custom())
    log.info(
        "handoff",
        conversation_id=tracker.sender_id,
        channel=channel_of(tracker),
        reason=reason.value,
        topic=signal.topic,
    )
    events: list[EventType] = []
    if tracker.active_loop_name:
        # A form in progress is abandoned: the person starts afresh.
        events += [ActiveLoop(None), SlotSet("requested_slot", None)]
    events.append(ConversationPaused())
    return events


class ActionHandoff(Action):
    """Hand the conversation to the human queue (asked for a person, a call back, or fell back twice)."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent, _ = latest_intent(tracker)
        reviewed = message_before_handoff(tracker)
        if reviewed is not None:
            await keep_for_review(tracker, Reason.HANDOFF, reviewed)
        return hand_off(dispatcher, tracker, _REASONS.get(intent or "", HandoffReason.FALLBACK))

"""When a form lets the voter go: the rules that keep a form from trapping anyone.

A form (send your EPIC number, your constituency...) asks for one thing. When the voter writes about
something else, Rasa rejects the form, another rule answers, and the form comes back to ask again.
Left alone it would ask again after every answer, for ever ("Send your EPIC number" after "thanks").

- The first change of topic is answered and the question is asked again, once.
- A second change of topic inside the same form, or "thanks" or "goodbye", is answered and the form
  ends quietly: the voter is not asked again.
- A cancel word ends it with "okay, stopped" (``is_cancel`` in bot/actions/common.py, words in bot/words.py).

The counting reads the tracker's own events (``action_execution_rejected`` after a voter message), so
no slot has to be reset and a new form starts from zero.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.common import latest_intent

# Messages that close a conversation's thread: inside a form they end it too.
CLOSING_INTENTS = frozenset({"thanks", "goodbye"})
# Changes of topic a form allows before it lets go.
DETOURS_ALLOWED = 1


def _since_activation(tracker: Tracker, form: str) -> list[dict[str, Any]]:
    """The tracker's events since `form` was last activated (all of them if it never was)."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "active_loop" and event.get("name") == form:
            previous = next(
                (e for e in reversed(events[:index]) if e.get("event") == "active_loop"),
                None,
            )
            if previous is None or previous.get("name") != form:
                return events[index:]
    return events


def _detour_turns(events: list[dict[str, Any]], form: str) -> list[bool]:
    """For each voter message in `events`: whether the form was rejected (the voter changed topic)."""
    turns: list[bool] = []
    for event in events:
        if event.get("event") == "user":
            turns.append(False)
        elif turns and event.get("event") == "action_execution_rejected" and event.get("name") == form:
            turns[-1] = True
    return turns


def detoured_now(tracker: Tracker, form: str) -> bool:
    """Whether the voter's latest message was about something else than the form's question."""
    turns = _detour_turns(_since_activation(tracker, form), form)
    return bool(turns) and turns[-1]


def should_let_go(tracker: Tracker, form: str) -> bool:
    """Coming back to `form` after another answer: end it instead of asking again?"""
    if tracker.latest_action_name == "action_listen" or not detoured_now(tracker, form):
        return False
    intent, _ = latest_intent(tracker)
    if intent in CLOSING_INTENTS:
        return True
    return sum(_detour_turns(_since_activation(tracker, form), form)) > DETOURS_ALLOWED

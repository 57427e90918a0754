"""Where an answer comes from: "yeh kahan likha hai?" names the pages of the voter's previous answer.

The pages and their last-checked dates live in ``sources.yml`` (``bot/citations.py``); Rasa records
which response each bot message was (``utter_action`` in the bot event's metadata), so the action
looks back for the latest answer that rests on a page.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot import citations
from bot.actions.common import language_of
from bot.clock import long_date

# How many of the assistant's messages to look back through for an answer with a source.
LOOK_BACK = 12


@lru_cache(maxsize=1)
def sources() -> citations.Citations:
    return citations.load()


def previous_answer(tracker: Tracker, known: citations.Citations) -> str | None:
    """The name of the latest response sent this session that rests on a page, or None."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "bot":
            continue
        seen += 1
        name = (event.get("metadata") or {}).get("utter_action")
        if isinstance(name, str) and known.pages_of(name):
            return name
        if seen >= LOOK_BACK:
            break
    return None


class ActionTellSource(Action):
    """Name the official pages behind the previous answer, and when we last checked them."""

    def name(self) -> str:
        return "action_tell_source"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        language = language_of(tracker)
        known = sources()
        answer = previous_answer(tracker, known)
        if answer is None:
            dispatcher.utter_message(response="utter_source_general")
            return []
        pages = known.pages_of(answer)
        # Our own data files are not pages a voter can open: named without an address, and undated.
        lines = [f"- {page.title_in(language)}" + (f": {page.url}" if page.url else "") for page in pages]
        dated = [page.checked for page in pages if page.checked]
        if not dated:  # only our own data files (the schedule, the booths): say so, and where the official word is
            dispatcher.utter_message(response="utter_source_data", sources="\n".join(lines))
            return []
        dispatcher.utter_message(
            response="utter_source", sources="\n".join(lines), checked=long_date(min(dated), language)
        )
        return []

"""When a form lets the voter go (bot/actions/form_exits.py), from trackers as Rasa sends them.

End to end through the real Rasa: tests/test_conversations_rasa.py.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.actions.common import last_topic
from bot.actions.form_exits import detoured_now, should_let_go

FORM = "polling_station_form"


def _user(intent: str, **parse: Any) -> dict[str, Any]:
    return {"event": "user", "text": intent, "parse_data": {"intent": {"name": intent, "confidence": 1.0}, **parse}}


def _rejected() -> dict[str, Any]:
    return {"event": "action_execution_rejected", "name": FORM}


def _tracker(events: list[dict[str, Any]], latest_action: str) -> Tracker:
    latest = next(e for e in reversed(events) if e["event"] == "user")["parse_data"]
    return Tracker.from_dict({"sender_id": "tg:1", "slots": {}, "latest_message": latest, "events": events,
                              "paused": False, "followup_action": None, "active_loop": {"name": FORM},
                              "latest_action_name": latest_action})  # fmt: skip


START = [_user("find_polling_station"), {"event": "active_loop", "name": FORM}]


def test_the_first_change_of_topic_is_asked_again() -> None:
    tracker = _tracker([*START, _user("id_documents"), _rejected()], "utter_id_documents")
    assert detoured_now(tracker, FORM)
    assert not should_let_go(tracker, FORM)


def test_a_second_change_of_topic_lets_go() -> None:
    events = [*START, _user("id_documents"), _rejected(), _user("voting_process"), _rejected()]
    assert should_let_go(_tracker(events, "utter_voting_process"), FORM)


def test_thanks_or_goodbye_lets_go_at_once() -> None:
    for intent in ("thanks", "goodbye"):
        assert should_let_go(_tracker([*START, _user(intent), _rejected()], f"utter_{intent}"), FORM)


def test_an_answer_to_the_question_is_not_a_change_of_topic() -> None:
    events = [*START, _user("id_documents"), _rejected(), _user("inform")]
    assert not detoured_now(_tracker(events, "action_listen"), FORM)
    assert not should_let_go(_tracker(events, "action_listen"), FORM)


def test_a_new_form_starts_counting_from_zero() -> None:
    old = [*START, _user("id_documents"), _rejected(), _user("voting_process"), _rejected(),
           {"event": "active_loop", "name": None}]  # fmt: skip
    events = [*old, *START, _user("id_documents"), _rejected()]
    assert not should_let_go(_tracker(events, "utter_id_documents"), FORM)


def test_the_topic_named_beside_a_request_for_a_person_comes_first() -> None:
    events = [_user("find_polling_station"), _user("ask_human", handoff_topic="check_registration")]
    assert last_topic(_tracker(events, "action_listen")) == "check_registration"
    assert last_topic(_tracker([_user("find_polling_station"), _user("ask_human")], "action_listen")) == (
        "find_polling_station"
    )

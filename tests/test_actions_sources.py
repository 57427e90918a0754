"""action_tell_source: "yeh kahan likha hai?" names the pages behind the previous answer (sources.yml)."""

from __future__ import annotations

from typing import Any

from bot.actions.sources import ActionTellSource, sources
from tests.test_actions import make_tracker, responses, run


def bot(response: str, text: str = "...") -> dict[str, Any]:
    return {"event": "bot", "text": text, "data": {}, "metadata": {"utter_action": response}}


async def test_the_source_of_the_previous_answer_is_named_with_its_page_and_date() -> None:
    tracker = make_tracker("yeh kahan likha hai?", "ask_source", events=[bot("utter_id_documents")])
    _, messages = await run(ActionTellSource(), tracker)
    assert responses(messages) == ["utter_source"]
    pages = sources().pages_of("utter_id_documents")
    assert [page.url for page in pages if page.url]  # the answer rests on an official page
    for page in pages:
        assert page.title_in("hi") in messages[0]["sources"]
    assert "अक्टूबर 2025" in messages[0]["sources"]  # the ID notification, in Hindi
    assert messages[0]["checked"].endswith("2026")  # a date with a Hindi month name (bot/clock.py)


async def test_an_answer_without_a_source_is_skipped_for_the_fact_before_it() -> None:
    events = [bot("utter_remove_name"), bot("utter_anything_else")]
    tracker = make_tracker("source?", "ask_source", slots={"language": "en"}, events=events)
    _, messages = await run(ActionTellSource(), tracker)
    assert responses(messages) == ["utter_source"]
    assert "Forms 6, 6A, 6B, 7 and 8" in messages[0]["sources"]
    assert "voters.eci.gov.in" in messages[0]["sources"]


async def test_with_no_factual_answer_this_session_the_general_sources_are_named() -> None:
    events = [bot("utter_report_violation"), {"event": "session_started"}, bot("utter_greet")]
    tracker = make_tracker("यह कहाँ लिखा है?", "ask_source", events=events)
    _, messages = await run(ActionTellSource(), tracker)
    assert responses(messages) == ["utter_source_general"]


async def test_an_answer_from_our_own_data_names_the_file_and_the_official_word() -> None:
    tracker = make_tracker("iska source kya hai", "ask_source", events=[bot("utter_schedule")])
    _, messages = await run(ActionTellSource(), tracker)
    assert responses(messages) == ["utter_source_data"]
    assert sources().pages["schedule_data"].title_in("hi") in messages[0]["sources"]

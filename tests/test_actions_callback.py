"""The call-back request form and action (bot/actions/callback.py), rasa-sdk style: a tracker from a dict,
a CollectingDispatcher, the real domain.yml, and a real Redis (database 11, emptied for every test).
The last test books a call back end to end through the gateway, a real Rasa and the action server."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
import redis.asyncio as aioredis
from rasa_sdk.events import SlotSet
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot import keys
from bot.actions import common
from bot.actions.callback import TRANSCRIPT_TURNS, ActionRequestCallback, ValidateCallbackForm
from tests.helpers.telegram_api import text_update

# The action fixtures (settings for the test organisation, a clean Redis) are shared with test_actions.
from tests.test_actions import (  # noqa: F401
    ACTIONS_DB,
    CONV,
    form_tracker,
    make_tracker,
    org_settings,
    responses,
    run,
    slot_events,
    store,
)

FORM = "callback_form"
PHONE = "9876543210"


def user_event(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}


# ------------------------------------------------------------------ the phone number


@pytest.mark.parametrize(
    "text",
    [
        "9876543210",
        "+91 98765 43210",
        "+919876543210",
        "098765-43210",
        "91-98765-43210",
        "९८७६५४३२१०",
        "+९१ ९८७६५ ४३२१०",
        "mera number 98765 43210 hai",
        "मेरा नंबर 9876-543-210 है",
    ],
)
async def test_a_mobile_number_in_any_usual_form_is_kept_as_10_digits(text: str) -> None:
    tracker = form_tracker(FORM, "callback_phone", text, candidates={"callback_phone": text})
    events, messages = await run(ValidateCallbackForm(), tracker)
    assert slot_events(events) == {"callback_phone": PHONE, "requested_slot": "callback_consent"}
    assert messages == []


async def test_the_phone_number_entity_is_read_too() -> None:
    entity = {"entity": "phone_number", "value": "+91 70012 34567"}
    tracker = form_tracker(FORM, "callback_phone", "mobile +91 70012 34567", entities=[entity],
                           candidates={"callback_phone": "+91 70012 34567"})  # fmt: skip
    events, _ = await run(ValidateCallbackForm(), tracker)
    assert slot_events(events)["callback_phone"] == "7001234567"


@pytest.mark.parametrize(
    "text",
    ["12345", "5876543210", "98765432", "98765432101", "+1 415 555 0100", "call me back", "ABC1234567", "800001"],
)
@pytest.mark.parametrize("language", ["hi", "en"])
async def test_a_bad_number_is_asked_again_in_the_voters_language(text: str, language: str) -> None:
    tracker = form_tracker(FORM, "callback_phone", text, slots={"language": language},
                           candidates={"callback_phone": text})  # fmt: skip
    events, messages = await run(ValidateCallbackForm(), tracker)
    assert slot_events(events) == {"callback_phone": None, "requested_slot": "callback_phone"}
    assert responses(messages) == ["utter_invalid_callback_phone"]


# ------------------------------------------------------------------ consent and cancel


@pytest.mark.parametrize(("consent", "next_slot"), [(True, None), (False, None)])
async def test_consent_yes_or_no_ends_the_form(consent: bool, next_slot: None) -> None:
    tracker = form_tracker(FORM, "callback_consent", "haan" if consent else "no", "affirm" if consent else "deny",
                           slots={"callback_phone": PHONE}, candidates={"callback_consent": consent})  # fmt: skip
    events, _ = await run(ValidateCallbackForm(), tracker)
    slots = slot_events(events)
    assert slots["callback_consent"] is consent and slots["requested_slot"] is next_slot


async def test_anything_else_at_the_consent_step_asks_again() -> None:
    tracker = form_tracker(FORM, "callback_consent", "kya matlab", "nlu_fallback", slots={"callback_phone": PHONE})
    events, _ = await run(ValidateCallbackForm(), tracker)
    assert slot_events(events) == {"requested_slot": "callback_consent"}


@pytest.mark.parametrize(
    ("requested", "text", "intent"),
    [
        ("callback_phone", "ruko", "inform"),
        ("callback_phone", "cancel", "nlu_fallback"),
        ("callback_phone", "रहने दो", "nlu_fallback"),
        ("callback_phone", "nahi", "deny"),
        ("callback_consent", "रद्द करो", "nlu_fallback"),
    ],
)
async def test_the_form_can_be_cancelled_at_any_step(requested: str, text: str, intent: str) -> None:
    prior = {"callback_phone": PHONE} if requested == "callback_consent" else {}
    tracker = form_tracker(FORM, requested, text, intent=intent, slots=prior, candidates={requested: text})
    events, _ = await run(ValidateCallbackForm(), tracker)
    assert slot_events(events) == {"callback_phone": None, "callback_consent": False, "requested_slot": None}


async def test_a_request_for_a_person_leaves_the_form_and_forgets_the_number() -> None:
    tracker = form_tracker(FORM, "callback_consent", "insaan se baat karao", intent="ask_human",
                           slots={"callback_phone": PHONE})  # fmt: skip
    events, _ = await run(ValidateCallbackForm(), tracker)
    assert events[:2] == [SlotSet("callback_phone", None), SlotSet("callback_consent", None)]
    assert events[2]["event"] == "action_execution_rejected"


# ------------------------------------------------------------------ the request


async def test_consent_queues_exactly_one_request_and_confirms_with_a_masked_number(store: aioredis.Redis) -> None:
    turns = [{"who": "voter", "text": f"message {i}", "at": 1.0 + i} for i in range(25)]
    turns[-1] = {"who": "bot", "text": "क्या आप सहमत हैं?", "at": 99.0, "intent": None}
    await store.rpush(keys.transcript(CONV), *(json.dumps(t, ensure_ascii=False) for t in turns))
    history = [user_event("mera booth kaha hai", "find_polling_station"), user_event("call me", "request_callback")]
    slots = {"callback_phone": PHONE, "callback_consent": True, "language": "en"}
    tracker = make_tracker("haan", "affirm", slots=slots, events=history, metadata={"channel": "telegram"})
    events, messages = await run(ActionRequestCallback(), tracker)

    ((_, entry),) = await store.xrange(keys.CALLBACKS)
    assert entry["conversation_id"] == CONV and entry["phone"] == "+919876543210"
    assert entry["language"] == "en" and entry["topic"] == "find_polling_station"
    assert int(entry["requested_at"]) > 0
    transcript = json.loads(entry["transcript"])
    assert len(transcript) == TRANSCRIPT_TURNS == 20
    assert transcript[0] == {"who": "voter", "text": "message 5"}
    assert transcript[-1] == {"who": "bot", "text": "क्या आप सहमत हैं?"}

    assert responses(messages) == ["utter_callback_booked"]
    assert messages[0]["phone_ending"] == "10" and PHONE not in json.dumps(messages)
    assert slot_events(events) == {"callback_phone": None, "callback_consent": None}


async def test_a_request_without_a_transcript_or_topic_is_still_queued(store: aioredis.Redis) -> None:
    tracker = make_tracker("haan", "affirm", slots={"callback_phone": "6000000001", "callback_consent": True})
    await run(ActionRequestCallback(), tracker)
    ((_, entry),) = await store.xrange(keys.CALLBACKS)
    assert entry["phone"] == "+916000000001" and entry["language"] == "hi"
    assert entry["topic"] == "" and json.loads(entry["transcript"]) == []


@pytest.mark.parametrize("slots", [{"callback_phone": PHONE, "callback_consent": False},
                                   {"callback_phone": None, "callback_consent": False},
                                   {"callback_phone": PHONE, "callback_consent": None}])  # fmt: skip
async def test_without_consent_nothing_is_stored(store: aioredis.Redis, slots: dict[str, Any]) -> None:
    events, messages = await run(ActionRequestCallback(), make_tracker("no", "deny", slots=slots))
    assert responses(messages) == ["utter_callback_declined"]
    assert await store.exists(keys.CALLBACKS) == 0
    assert slot_events(events) == {"callback_phone": None, "callback_consent": None}


async def test_redis_down_gives_a_clear_answer_and_still_forgets_the_number() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    common.use_redis(client)
    try:
        tracker = make_tracker("haan", "affirm", slots={"callback_phone": PHONE, "callback_consent": True})
        events, messages = await run(ActionRequestCallback(), tracker)
        assert responses(messages) == ["utter_technical_problem"]
        assert slot_events(events) == {"callback_phone": None, "callback_consent": None}
    finally:
        common.use_redis(None)
        await client.aclose()


async def test_the_full_number_is_never_logged(store: aioredis.Redis, capsys: pytest.CaptureFixture[str]) -> None:
    tracker = make_tracker("haan", "affirm", slots={"callback_phone": PHONE, "callback_consent": True})
    await run(ActionRequestCallback(), tracker)
    captured = capsys.readouterr()
    assert "callback_requested" in captured.out + captured.err
    assert PHONE not in captured.out + captured.err


# ------------------------------------------------------------------ end to end: gateway, Rasa, action server


@pytest.mark.rasa
async def test_a_voter_books_a_call_back_through_the_gateway(make_gateway, rasa_stack, redis) -> None:  # type: ignore[no-untyped-def]
    gateway = await make_gateway(rasa_url=rasa_stack["rasa_url"])
    voter = random.randint(10_000_000, 99_999_999)  # a fresh Rasa tracker on every run
    said = ["मेरा पोलिंग बूथ कहाँ है", "mujhe call karo", "98765 4321", "+91 98765 43210", "haan"]
    replies = []
    for update_id, text in enumerate(said, start=1):
        before = len(gateway.telegram.texts_to(voter))
        await gateway.post_update(text_update(update_id, voter, text))
        await gateway.idle()
        replies.append(gateway.telegram.texts_to(voter)[before:])
    assert any("10 अंक" in text for text in replies[1]), replies[1]  # asked for the number
    assert any("सही नहीं" in text for text in replies[2]), replies[2]  # a bad number is asked again
    assert any("सहमत" in text for text in replies[3]), replies[3]  # the notice, with yes/no
    assert any("10" in text for text in replies[4]) and not any(PHONE in text for text in replies[4]), replies[4]

    ((_, entry),) = await redis.xrange(keys.CALLBACKS)
    assert entry["conversation_id"] == f"tg:{voter}" and entry["phone"] == "+919876543210"
    assert entry["language"] == "hi" and entry["topic"] == "find_polling_station"
    transcript = json.loads(entry["transcript"])
    assert {"who": "voter", "text": "mujhe call karo"} in transcript

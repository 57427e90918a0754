"""Custom actions, rasa-sdk style: a tracker from a dict, a CollectingDispatcher, the real
domain.yml, and a real Redis (database 11, emptied for every test)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SlotSet
from rasa_sdk.executor import ActionExecutor, CollectingDispatcher
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot import keys
from bot.actions import common
from bot.actions.consent import ActionSubscribe, ActionUnsubscribe
from bot.actions.elections import ActionElectionSchedule, ValidateScheduleForm
from bot.actions.handoff import ActionHandoff
from bot.actions.polling import (
    ActionCheckRegistration,
    ActionFindPollingStation,
    ValidatePollingStationForm,
    ValidateRegistrationForm,
)
from bot.actions.privacy import ActionDeleteData
from bot.actions.session import ActionChangeLanguage, ActionExtractLanguage, ActionSessionStart
from bot.actions.volunteer import ActionVolunteerSubmit, ValidateVolunteerForm
from bot.handoff import HandoffSignal
from bot.settings import ROOT

DOMAIN: dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
ACTIONS_DB = "redis://127.0.0.1:6379/11"
CONV = "tg:424242"


@pytest.fixture(autouse=True)
def org_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAMVAD_ORG_NAME", "Test Voter Desk")
    monkeypatch.setenv("REDIS_URL", ACTIONS_DB)
    common.settings.cache_clear()


@pytest.fixture
async def store() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(ACTIONS_DB, decode_responses=True)
    await client.flushdb()
    common.use_redis(client)
    yield client
    common.use_redis(None)
    await client.flushdb()
    await client.aclose()


def make_tracker(
    text: str = "",
    intent: str | None = None,
    *,
    confidence: float = 0.95,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    sender: str = CONV,
) -> Tracker:
    """A tracker as Rasa sends it to the action server."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    all_slots: dict[str, Any] = {name: None for name in DOMAIN["slots"]}
    all_slots.update({"language": "hi", "consent_notice_version": "1", "requested_slot": None})
    all_slots.update(slots or {})
    user_event = {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": all_slots,
            "latest_message": latest,
            "events": [*(events or []), user_event],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def form_tracker(form: str, requested: str | None, text: str, intent: str = "inform", **kwargs: Any) -> Tracker:
    """The temporary tracker a form sends to its validation action: the candidates come last."""
    candidates: dict[str, Any] = kwargs.pop("candidates", {})
    slots = {**kwargs.pop("slots", {}), "requested_slot": requested, **candidates}
    tracker = make_tracker(text, intent, slots=slots, active_loop=form, **kwargs)
    tracker.events += [SlotSet("requested_slot", requested), ActionExecuted(form)]
    tracker.events += [SlotSet(name, value) for name, value in candidates.items()]
    return tracker


async def run(action: Any, tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, DOMAIN)
    for message in dispatcher.messages:
        if message.get("response"):
            assert message["response"] in DOMAIN["responses"], message["response"]
    return events, dispatcher.messages


def responses(messages: list[dict[str, Any]]) -> list[str | None]:
    return [m.get("response") for m in messages]


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


# ------------------------------------------------------------------ the domain


def test_every_response_has_a_hindi_and_an_english_variation_with_the_same_buttons() -> None:
    for name, variations in DOMAIN["responses"].items():
        by_language = {}
        for variation in variations:
            conditions = variation.get("condition") or []
            assert [(c["type"], c["name"]) for c in conditions] == [("slot", "language")], name
            by_language[conditions[0]["value"]] = variation
        assert set(by_language) == {"hi", "en"}, name
        payloads = {lang: [b["payload"] for b in v.get("buttons") or []] for lang, v in by_language.items()}
        assert payloads["hi"] == payloads["en"], name
        assert re.search(r"[\u0900-\u097F]", by_language["hi"]["text"]), f"{name}: Hindi text is not in Devanagari"


def test_actions_in_the_domain_are_exactly_the_registered_ones() -> None:
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    assert set(executor.actions) == set(DOMAIN["actions"])


def test_every_response_an_action_sends_exists() -> None:
    used = set()
    for path in (ROOT / "bot" / "actions").glob("*.py"):
        used |= set(re.findall(r"\"(utter_\w+)\"", path.read_text(encoding="utf-8")))
    assert used, "no responses found in bot/actions"
    used.discard("utter_action")  # Rasa's metadata key naming the response a bot message was (actions/sources.py)
    assert used <= set(DOMAIN["responses"]), used - set(DOMAIN["responses"])


# ------------------------------------------------------------------ session and language


async def test_session_start_sets_org_name_and_language_and_keeps_only_safe_slots() -> None:
    tracker = make_tracker(
        slots={
            "language": "en",
            "constituency": "Varanasi",
            "epic_number": "ABC1234567",
            "session_started_metadata": {"channel": "telegram", "language": "hi"},
        }
    )
    events, messages = await run(ActionSessionStart(), tracker)
    assert events[0]["event"] == "session_started"
    assert events[-1] == ActionExecuted("action_listen")
    slots = slot_events(events)
    assert slots["org_name"] == "Test Voter Desk"
    assert slots["language"] == "hi"  # the session metadata wins over the carried-over slot
    assert slots["constituency"] == "Varanasi"
    assert "epic_number" not in slots
    assert messages == []


@pytest.mark.parametrize(
    ("text", "intent", "metadata", "entities", "current", "expected"),
    [
        ("where do i vote", "find_polling_station", {"language": "en"}, [], "hi", [SlotSet("language", "en")]),
        ("mera booth kaha hai", "find_polling_station", {"language": "hi"}, [], "en", [SlotSet("language", "hi")]),
        ("where do i vote", "find_polling_station", {"language": "en"}, [], "en", []),
        ("मेरा बूथ कहाँ है", "find_polling_station", {}, [], "en", [SlotSet("language", "hi")]),
        ("where do i vote", "find_polling_station", {}, [], "en", []),
        (
            "english me bolo",
            "change_language",
            {"language": "hi"},
            [{"entity": "language", "value": "en"}],
            "hi",
            [SlotSet("language", "en")],
        ),
        (
            "अंग्रेज़ी",
            "change_language",
            {"language": "hi"},
            [{"entity": "language", "value": "अंग्रेज़ी"}],
            "hi",
            [SlotSet("language", "en")],
        ),
        ("", None, {}, [], "hi", []),
        ("   ", None, {"language": "fr"}, [], "hi", []),
    ],
)
async def test_extract_language(
    text: str,
    intent: str | None,
    metadata: dict[str, Any],
    entities: list[dict[str, Any]],
    current: str,
    expected: list[dict[str, Any]],
) -> None:
    tracker = make_tracker(text, intent, metadata=metadata, entities=entities, slots={"language": current})
    events, _ = await run(ActionExtractLanguage(), tracker)
    assert events == expected


async def test_change_language_tells_the_gateway() -> None:
    tracker = make_tracker("switch to english", "change_language", entities=[{"entity": "language", "value": "en"}],
                           slots={"language": "en"})  # fmt: skip
    events, messages = await run(ActionChangeLanguage(), tracker)
    assert responses(messages) == ["utter_language_changed", None]
    assert messages[1]["custom"] == {"set_language": "en"}
    assert events == [SlotSet("language", "en")]


async def test_change_language_without_a_language_offers_the_choice() -> None:
    events, messages = await run(ActionChangeLanguage(), make_tracker("bhasha badlo", "change_language"))
    assert responses(messages) == ["utter_choose_language"]
    assert events == []


# ------------------------------------------------------------------ hand-off


def _user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": intent, "parse_data": {"intent": {"name": intent, "confidence": 1.0}}}


@pytest.mark.parametrize(
    ("intent", "reason", "response"),
    [
        ("ask_human", "ask_human", "utter_handoff"),
        ("request_callback", "request_callback", "utter_handoff_callback"),
        ("nlu_fallback", "fallback", "utter_handoff"),
    ],
)
async def test_handoff_signal(intent: str, reason: str, response: str) -> None:
    tracker = make_tracker("...", intent, slots={"language": "en"},
                           events=[_user("find_polling_station"), _user("affirm")])  # fmt: skip
    events, messages = await run(ActionHandoff(), tracker)
    assert responses(messages) == [response, None]
    signal = HandoffSignal.model_validate(messages[1]["custom"]["handoff"])
    assert (signal.reason.value, signal.topic, signal.language) == (reason, "find_polling_station", "en")
    assert events == [{"event": "pause", "timestamp": None}]


async def test_handoff_abandons_an_active_form() -> None:
    tracker = make_tracker("insaan se baat", "ask_human", active_loop="volunteer_form")
    events, _ = await run(ActionHandoff(), tracker)
    assert [e["event"] for e in events] == ["active_loop", "slot", "pause"]
    assert events[0]["name"] is None


# ------------------------------------------------------------------ polling station


@pytest.mark.parametrize(
    ("text", "candidates", "expected"),
    [
        ("mera epic xyz७६५४३२१ hai", {}, {"epic_number": "XYZ7654321", "requested_slot": None}),
        ("abc1234567", {"epic_number": "abc1234567"}, {"epic_number": "ABC1234567", "requested_slot": None}),
        ("ABC 123 4567", {}, {"epic_number": "ABC1234567", "requested_slot": None}),
        ("pin 800 001", {"pin_code": "800 001"}, {"pin_code": "800001", "requested_slot": None}),
        ("८००००१", {}, {"pin_code": "800001", "requested_slot": None}),
        # An old card's number: accepted as an EPIC number, not read as a PIN code.
        ("purana card UP/01/234/1234567", {}, {"epic_number": "UP/01/234/1234567", "requested_slot": None}),
    ],
)
async def test_polling_form_reads_epic_or_pin(text: str, candidates: dict[str, Any], expected: dict[str, Any]) -> None:
    tracker = form_tracker("polling_station_form", "epic_number", text, candidates=candidates)
    events, messages = await run(ValidatePollingStationForm(), tracker)
    assert slot_events(events) == expected
    assert messages == []


@pytest.mark.parametrize(
    "text",
    ["12345", "", "   ", "🙏🙏🙏", "x" * 4000, "mera number ABC123 hai", "xyz७६५४३२१०"],
)
async def test_polling_form_bad_input_is_rejected_so_the_rules_re_ask(text: str) -> None:
    tracker = form_tracker("polling_station_form", "epic_number", text, intent="nlu_fallback")
    events, _ = await run(ValidatePollingStationForm(), tracker)
    # Only the requested slot: Rasa then rejects the form and the rule says
    # utter_invalid_epic_or_pin before the form asks again.
    assert events == [SlotSet("requested_slot", "epic_number")]


@pytest.mark.parametrize(("text", "intent"), [("ruko", "nlu_fallback"), ("cancel", "unsubscribe"), ("nahi", "deny"),
                                             ("रहने दो", "deny")])  # fmt: skip
async def test_polling_form_can_be_cancelled(text: str, intent: str) -> None:
    tracker = form_tracker("polling_station_form", "epic_number", text, intent=intent)
    events, _ = await run(ValidatePollingStationForm(), tracker)
    assert slot_events(events) == {"epic_number": None, "requested_slot": None}


@pytest.mark.parametrize(
    ("form", "action", "intent", "slot"),
    [
        ("polling_station_form", ValidatePollingStationForm, "find_polling_station", "epic_number"),
        ("registration_form", ValidateRegistrationForm, "check_registration", "epic_number"),
        ("schedule_form", ValidateScheduleForm, "election_schedule", "constituency"),
    ],
)
async def test_the_same_question_again_re_asks_instead_of_leaving_the_form(
    form: str, action: type, intent: str, slot: str
) -> None:
    tracker = form_tracker(form, slot, "where is it??", intent=intent)
    events, _ = await run(action(), tracker)
    assert slot_events(events) == {slot: None, "requested_slot": slot}


async def test_registration_form_needs_an_epic_not_a_pin() -> None:
    tracker = form_tracker("registration_form", "epic_number", "800001")
    events, _ = await run(ValidateRegistrationForm(), tracker)
    assert events == [SlotSet("requested_slot", "epic_number")]


async def test_station_by_epic_in_hindi(store: aioredis.Redis) -> None:
    events, messages = await run(ActionFindPollingStation(), make_tracker(slots={"epic_number": "abc1234567"}))
    assert responses(messages) == ["utter_polling_station", "utter_sample_data_notice"]
    assert messages[0]["station_name"] == "राजकीय मध्य विद्यालय कदमकुआँ (कमरा 1)"
    assert messages[0]["part_number"] == 12
    assert messages[0]["map_link"].startswith("https://www.google.com/maps/")
    assert slot_events(events) == {"epic_number": "ABC1234567", "constituency": "Patna Sahib"}


async def test_station_by_epic_in_english(store: aioredis.Redis) -> None:
    tracker = make_tracker(slots={"epic_number": "XYZ7654321", "language": "en"})
    _, messages = await run(ActionFindPollingStation(), tracker)
    assert messages[0]["station_name"] == "Primary School Chetganj"
    assert messages[0]["address"] == "Chetganj, Varanasi"


async def test_unknown_epic_points_to_official_sources(store: aioredis.Redis) -> None:
    events, messages = await run(ActionFindPollingStation(), make_tracker(slots={"epic_number": "QQQ0000000"}))
    assert responses(messages) == ["utter_station_not_found"]
    assert slot_events(events) == {"epic_number": None}
    text = next(v for v in DOMAIN["responses"]["utter_station_not_found"] if v["condition"][0]["value"] == "en")
    for pointer in ("voters.eci.gov.in", "electoralsearch.eci.gov.in", "ECINET", "1950"):
        assert pointer in text["text"]
    assert text["buttons"][0]["payload"] == "/ask_human"


async def test_stations_by_pin() -> None:
    events, messages = await run(ActionFindPollingStation(), make_tracker(slots={"pin_code": "221001"}))
    assert responses(messages) == ["utter_stations_for_pin", "utter_station_item", "utter_station_item",
                                   "utter_sample_data_notice"]  # fmt: skip
    assert [m.get("part_number") for m in messages[1:3]] == [101, 102]
    assert slot_events(events) == {"pin_code": None}


async def test_unknown_pin_and_cancelled_form() -> None:
    _, messages = await run(ActionFindPollingStation(), make_tracker(slots={"pin_code": "110001"}))
    assert responses(messages) == ["utter_station_not_found"]
    _, messages = await run(ActionFindPollingStation(), make_tracker())
    assert responses(messages) == ["utter_form_cancelled"]


@pytest.mark.parametrize(("language", "name"), [("hi", "प्रिया सिंह"), ("en", "Priya Singh")])
async def test_registration_found_in_the_voters_script(language: str, name: str, store: aioredis.Redis) -> None:
    tracker = make_tracker(slots={"epic_number": "xyz७६५४३२१", "language": language})
    events, messages = await run(ActionCheckRegistration(), tracker)
    assert responses(messages) == ["utter_registration_found", "utter_sample_data_notice"]
    assert messages[0]["name"] == name
    assert slot_events(events)["constituency"] == "Varanasi"


async def test_registration_not_found_and_no_epic(store: aioredis.Redis) -> None:
    _, messages = await run(ActionCheckRegistration(), make_tracker(slots={"epic_number": "QQQ0000000"}))
    assert responses(messages) == ["utter_registration_not_found"]
    _, messages = await run(ActionCheckRegistration(), make_tracker())
    assert responses(messages) == ["utter_registration_check_official"]


async def test_roll_look_ups_are_limited_per_conversation(store: aioredis.Redis) -> None:
    """A forged or scripted conversation cannot read the roll: past the window's share it gets the official links."""
    limit = common.settings().roll_lookups_per_window
    tracker = make_tracker(slots={"epic_number": "XYZ7654321", "language": "en"}, sender="web:scraper")
    for _ in range(limit):
        _, messages = await run(ActionCheckRegistration(), tracker)
        assert responses(messages)[0] == "utter_registration_found"
    events, messages = await run(ActionCheckRegistration(), tracker)
    assert responses(messages) == ["utter_registration_check_official"]
    assert "name" not in messages[0] and slot_events(events) == {"epic_number": None}
    _, messages = await run(ActionFindPollingStation(), tracker)
    assert responses(messages) == ["utter_registration_check_official"]
    # Another conversation is not affected, and the window ends.
    _, messages = await run(ActionCheckRegistration(), make_tracker(slots={"epic_number": "XYZ7654321"}))
    assert responses(messages)[0] == "utter_registration_found"
    assert 0 < await store.ttl(keys.roll_lookups("web:scraper")) <= common.settings().roll_lookup_window_s


# ------------------------------------------------------------------ election schedule


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("banaras", "inform", {"constituency": "Varanasi", "requested_slot": None}),
        ("गया", "nlu_fallback", {"constituency": "Gaya", "requested_slot": None}),
        ("Springfield", "inform", {"constituency": "Springfield", "requested_slot": None}),
        ("ruko", "inform", {"constituency": None, "requested_slot": None}),
    ],
)
async def test_schedule_form(text: str, intent: str, expected: dict[str, Any]) -> None:
    tracker = form_tracker("schedule_form", "constituency", text, intent=intent)
    events, _ = await run(ValidateScheduleForm(), tracker)
    assert slot_events(events) == expected


@pytest.mark.parametrize("text", ["😀😀", "x" * 4000, "booth kaha hai mera, batao na jaldi please"])
async def test_schedule_form_rejects_what_is_not_a_name(text: str) -> None:
    tracker = form_tracker("schedule_form", "constituency", text, intent="nlu_fallback")
    events, _ = await run(ValidateScheduleForm(), tracker)
    assert events == [SlotSet("requested_slot", "constituency")]


async def test_schedule_form_is_done_with_a_known_state() -> None:
    tracker = form_tracker("schedule_form", None, "bihar me chunav kab hai", intent="election_schedule",
                           candidates={}, slots={"state": "Bihar"})  # fmt: skip
    events, _ = await run(ValidateScheduleForm(), tracker)
    assert events[-1] == SlotSet("requested_slot", None)


async def test_schedule_for_a_constituency_in_hindi() -> None:
    events, messages = await run(ActionElectionSchedule(), make_tracker(slots={"constituency": "banaras"}))
    assert responses(messages) == ["utter_schedule", "utter_sample_data_notice"]
    assert messages[0]["constituency"] == "वाराणसी"
    assert messages[0]["state"] == "उत्तर प्रदेश"
    assert messages[0]["poll_date"] == "सोमवार, 7 मई 2029"
    assert (messages[0]["phase"], messages[0]["poll_close"]) == (2, "शाम 6 बजे")
    assert slot_events(events) == {"constituency": "Varanasi"}


async def test_schedule_for_a_state_in_english() -> None:
    _, messages = await run(ActionElectionSchedule(), make_tracker(slots={"state": "बिहार", "language": "en"}))
    assert responses(messages) == ["utter_schedule_state", "utter_sample_data_notice"]
    assert messages[0]["poll_date"] == "Thursday, 19 April 2029"
    assert messages[0]["constituencies"] == "Gaya, Patna Sahib"


async def test_schedule_for_an_unknown_constituency() -> None:
    events, messages = await run(ActionElectionSchedule(), make_tracker(slots={"constituency": "Springfield"}))
    assert responses(messages) == ["utter_schedule_not_found"]
    assert messages[0]["constituency"] == "Springfield"
    assert slot_events(events) == {"constituency": None}


# ------------------------------------------------------------------ volunteer


PRIOR_ANSWERS = {
    "volunteer_name": {},
    "volunteer_phone": {"volunteer_name": "Asha"},
    "volunteer_area": {"volunteer_name": "Asha", "volunteer_phone": "9876543210"},
}


@pytest.mark.parametrize(
    ("requested", "text", "valid", "next_slot", "response"),
    [
        ("volunteer_name", "सुनीता देवी", "सुनीता देवी", "volunteer_phone", None),
        ("volunteer_name", "🙂🙂", None, "volunteer_name", "utter_invalid_volunteer_name"),
        ("volunteer_phone", "+91 98765 43210", "9876543210", "volunteer_area", None),
        ("volunteer_phone", "12345", None, "volunteer_phone", "utter_invalid_volunteer_phone"),
        ("volunteer_area", "Kankarbagh, Patna", "Kankarbagh, Patna", "volunteer_consent", None),
        ("volunteer_area", "x" * 4000, None, "volunteer_area", "utter_invalid_volunteer_area"),
    ],
)
async def test_volunteer_form_answers(
    requested: str, text: str, valid: str | None, next_slot: str, response: str | None
) -> None:
    tracker = form_tracker("volunteer_form", requested, text, slots=PRIOR_ANSWERS[requested],
                           candidates={requested: text})  # fmt: skip
    events, messages = await run(ValidateVolunteerForm(), tracker)
    assert slot_events(events) == {requested: valid, "requested_slot": next_slot}
    assert responses(messages) == ([response] if response else [])


@pytest.mark.parametrize(("text", "intent"), [("ruko", "inform"), ("cancel", "inform"), ("nahi", "deny")])
async def test_volunteer_form_can_be_cancelled_at_any_step(text: str, intent: str) -> None:
    tracker = form_tracker("volunteer_form", "volunteer_phone", text, intent=intent,
                           slots={"volunteer_name": "Asha"}, candidates={"volunteer_phone": text})  # fmt: skip
    events, _ = await run(ValidateVolunteerForm(), tracker)
    slots = slot_events(events)
    assert slots["volunteer_consent"] is False and slots["requested_slot"] is None
    assert slots["volunteer_name"] is None


async def test_volunteer_form_lets_a_request_for_a_person_through() -> None:
    tracker = form_tracker("volunteer_form", "volunteer_name", "mujhe insaan se baat karni hai", intent="ask_human",
                           candidates={"volunteer_name": "mujhe insaan se baat karni hai"})  # fmt: skip
    events, _ = await run(ValidateVolunteerForm(), tracker)
    assert events[0] == SlotSet("volunteer_name", None)
    assert events[1]["event"] == "action_execution_rejected"


async def test_volunteer_saved_with_consent(store: aioredis.Redis) -> None:
    slots = {"volunteer_name": "Asha Devi", "volunteer_phone": "9876543210", "volunteer_area": "Gaya",
             "volunteer_consent": True}  # fmt: skip
    tracker = make_tracker(slots=slots, metadata={"channel": "telegram"})
    events, messages = await run(ActionVolunteerSubmit(), tracker)
    assert responses(messages) == ["utter_volunteer_saved"]
    assert messages[0]["volunteer_name"] == "Asha Devi"
    saved = await store.hgetall(keys.volunteer(CONV))
    assert saved["name"] == "Asha Devi" and saved["phone"] == "9876543210" and saved["channel"] == "telegram"
    assert saved["consent_at"].endswith("+00:00")
    assert await store.sismember(keys.VOLUNTEERS, CONV)
    assert all(value is None for value in slot_events(events).values())


async def test_volunteer_not_saved_without_consent(store: aioredis.Redis) -> None:
    tracker = make_tracker(slots={"volunteer_name": "Asha", "volunteer_phone": "9876543210",
                                  "volunteer_area": "Gaya", "volunteer_consent": False})  # fmt: skip
    _, messages = await run(ActionVolunteerSubmit(), tracker)
    assert responses(messages) == ["utter_volunteer_cancelled"]
    assert await store.exists(keys.volunteer(CONV)) == 0


# ------------------------------------------------------------------ consent and delete my data


def _hash(conversation: str) -> str:
    return hashlib.sha256(conversation.encode()).hexdigest()


async def test_subscribe_then_unsubscribe(store: aioredis.Redis) -> None:
    await store.sadd(keys.SUPPRESSED, _hash(CONV))
    tracker = make_tracker("haan", "affirm", slots={"constituency": "Gaya"},
                           metadata={"channel": "webchat", "language": "hi"})  # fmt: skip
    _, messages = await run(ActionSubscribe(), tracker)
    assert responses(messages) == ["utter_subscribed"]
    consent = await store.hgetall(keys.consent(CONV))
    assert consent["state"] == "subscribed" and consent["channel"] == "webchat"
    assert consent["constituency"] == "Gaya" and consent["notice_version"] == "1" and consent["language"] == "hi"
    assert await store.sismember(keys.SUBSCRIBERS, CONV)
    assert not await store.sismember(keys.SUPPRESSED, _hash(CONV))

    _, messages = await run(ActionUnsubscribe(), make_tracker("stop", "unsubscribe"))
    assert responses(messages) == ["utter_unsubscribed"]
    consent = await store.hgetall(keys.consent(CONV))
    assert consent["state"] == "unsubscribed" and "constituency" not in consent
    assert not await store.sismember(keys.SUBSCRIBERS, CONV)
    ledger = await store.xrange(keys.CONSENT_LEDGER)
    assert [fields["state"] for _, fields in ledger] == ["subscribed", "unsubscribed"]
    assert all(fields["conversation_hash"] == _hash(CONV) for _, fields in ledger)
    assert CONV not in str(ledger)


async def test_delete_my_data(store: aioredis.Redis) -> None:
    for key in keys.personal(CONV):
        await store.set(key, "x")
    await store.sadd(keys.SUBSCRIBERS, CONV, "tg:other")
    await store.sadd(keys.VOLUNTEERS, CONV)
    await store.xadd(keys.CALLBACKS, {"conversation_id": CONV, "phone": "+919876543210"})
    await store.xadd(keys.CALLBACKS, {"conversation_id": "tg:other", "phone": "+919123456780"})
    tracker = make_tracker("haan", "affirm", slots={"epic_number": "ABC1234567", "volunteer_name": "Asha"})
    events, messages = await run(ActionDeleteData(), tracker)
    assert [f["conversation_id"] for _, f in await store.xrange(keys.CALLBACKS)] == ["tg:other"]
    assert [m.get("response") or m.get("custom") for m in messages] == ["utter_data_deleted", {"erase": True}]
    assert await store.exists(*keys.personal(CONV)) == 0
    assert await store.smembers(keys.SUBSCRIBERS) == {"tg:other"}
    assert not await store.sismember(keys.VOLUNTEERS, CONV)
    assert await store.smembers(keys.SUPPRESSED) == {_hash(CONV)}
    ((_, entry),) = await store.xrange(keys.CONSENT_LEDGER)
    assert entry == {"conversation_hash": _hash(CONV), "state": "erased", "at": entry["at"]}
    assert slot_events(events)["epic_number"] is None and slot_events(events)["volunteer_name"] is None


async def test_redis_down_gives_a_clear_answer_not_an_exception() -> None:
    client = aioredis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    common.use_redis(client)
    try:
        for action in (ActionSubscribe(), ActionUnsubscribe(), ActionDeleteData()):
            _, messages = await run(action, make_tracker("haan", "affirm"))
            assert responses(messages) == ["utter_technical_problem"]
        tracker = make_tracker(slots={"volunteer_name": "A B", "volunteer_phone": "9876543210",
                                      "volunteer_area": "Gaya", "volunteer_consent": True})  # fmt: skip
        _, messages = await run(ActionVolunteerSubmit(), tracker)
        assert responses(messages) == ["utter_technical_problem"]
    finally:
        common.use_redis(None)
        await client.aclose()

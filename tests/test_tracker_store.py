"""Rasa's bounded tracker store (rasa_ext/tracker_store.py), through a real Rasa and the gateway's Rasa client.

Each test runs a conversation past the point where the store folds older turns into the
session's opening ("the fold"), then checks that what must not break still works after it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
import yaml

from bot import keys
from bot.devstack import TRACKER_TTL_S
from bot.models import AssistantReply
from bot.rasa_client import TRACKER_KEY_PREFIX, RasaClient
from bot.settings import ROOT
from tests.conftest import RASA_DB, RASA_TOKEN, redis_url

pytestmark = pytest.mark.rasa

_STORE = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))["tracker_store"]
KEEP = int(_STORE["keep_turns"])
EVERY = int(_STORE["compact_every"])
FOLD_AFTER = KEEP + EVERY  # the save of the next turn folds
FILLER = ("thank you", "what documents do i need to carry to the polling booth", "how do i register as a new voter")


class Conversation:
    """One voter talking to Rasa as the gateway does (RasaClient, metadata channel and language)."""

    def __init__(self, client: RasaClient, trackers: aioredis.Redis, language: str = "en") -> None:
        self.client = client
        self.trackers = trackers
        self.id = f"tg:{uuid.uuid4().hex[:12]}"
        self.language = language
        self.sent = 0

    async def say(self, text: str) -> AssistantReply:
        self.sent += 1
        return await self.client.send(self.id, text, {"channel": "telegram", "language": self.language})

    async def fill(self, turns: int) -> None:
        for n in range(turns):
            assert (await self.say(FILLER[n % len(FILLER)])).texts

    async def events(self) -> list[dict[str, Any]]:
        stored = await self.trackers.get(TRACKER_KEY_PREFIX + self.id)
        assert stored is not None, "no tracker in Rasa's Redis: is the store in endpoints.yml loaded?"
        events: list[dict[str, Any]] = json.loads(stored)["events"]
        return events


def texts(reply: AssistantReply) -> list[str]:
    return [t.text for t in reply.texts]


def users(events: list[dict[str, Any]]) -> list[str]:
    return [e.get("text") or "" for e in events if e["event"] == "user"]


def folded(events: list[dict[str, Any]], sent: int) -> bool:
    """Older turns were folded: fewer voter messages kept than sent, behind a session opening."""
    opening = [e["event"] for e in events[:2]] == ["action", "session_started"]
    return opening and events[0].get("name") == "action_session_start" and len(users(events)) < sent


@pytest.fixture
async def rasa(rasa_stack: dict[str, str]) -> AsyncIterator[tuple[RasaClient, aioredis.Redis]]:
    trackers = aioredis.Redis.from_url(redis_url(RASA_DB), decode_responses=True)
    async with aiohttp.ClientSession() as session:
        yield RasaClient(session, rasa_stack["rasa_url"], RASA_TOKEN, 60.0, tracker_store=trackers), trackers
    await trackers.aclose()


async def test_a_long_conversation_keeps_a_bounded_tracker(rasa) -> None:
    voter = Conversation(*rasa)
    first = texts(await voter.say("thank you"))
    sizes = []
    for _ in range(3 * FOLD_AFTER):
        await voter.fill(1)
        sizes.append(len(users(await voter.events())))
    events = await voter.events()
    assert folded(events, voter.sent)
    assert max(sizes) <= FOLD_AFTER and len(users(events)) >= KEEP, sizes
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["language"] == "en" and slots["session_started_metadata"]["channel"] == "telegram"
    assert texts(await voter.say("thank you")) == first  # the same answer as at the start
    ttl = await voter.trackers.ttl(TRACKER_KEY_PREFIX + voter.id)
    assert 0 < ttl <= TRACKER_TTL_S + 1


async def test_a_form_in_progress_goes_on_across_the_fold(rasa, redis) -> None:
    """The call-back form stays open through many wrong numbers, folded with the form active, then completes."""
    control = Conversation(*rasa)
    await control.say("can someone call me back")
    wrong = texts(await control.say("12345"))
    expected = [texts(await control.say("9876543210")), texts(await control.say("yes"))]

    voter = Conversation(*rasa)
    await voter.say("can someone call me back")
    for _ in range(FOLD_AFTER + 2):
        assert texts(await voter.say("12345")) == wrong
    events = await voter.events()
    assert folded(events, voter.sent)
    opening = events[: next(i for i, e in enumerate(events) if e["event"] == "user")]
    assert {"event": "active_loop", "name": "callback_form"}.items() <= next(
        e for e in opening if e["event"] == "active_loop"
    ).items()
    assert [texts(await voter.say("9876543210")), texts(await voter.say("yes"))] == expected
    queued = [fields for _, fields in await redis.xrange(keys.CALLBACKS) if fields["conversation_id"] == voter.id]
    assert len(queued) == 1 and queued[0]["phone"].endswith("9876543210"), queued


async def test_two_fallbacks_in_a_row_hand_off_across_the_fold_and_both_are_kept_for_review(rasa, redis) -> None:
    voter = Conversation(*rasa)
    await voter.fill(FOLD_AFTER)
    await voter.say("asdf qwer zxcv")  # its save folds
    assert folded(await voter.events(), voter.sent)
    replies = await voter.say("lkjh poiu mnbv")
    assert replies.handoff is not None and replies.handoff.reason.value == "fallback", replies
    reviewed = [fields["text"] for _, fields in await redis.xrange(keys.REVIEW)]
    assert "asdf qwer zxcv" in reviewed and "lkjh poiu mnbv" in reviewed, reviewed


async def test_handoff_pauses_and_resume_unpauses_across_the_fold(rasa) -> None:
    voter = Conversation(*rasa)
    thanks = texts(await voter.say("thank you"))
    await voter.fill(FOLD_AFTER - 1)
    replies = await voter.say("I want to talk to a human")  # its save folds
    assert replies.handoff is not None, replies
    assert folded(await voter.events(), voter.sent)
    assert (await voter.say("thank you")).texts == []  # paused: a person has the conversation
    await voter.client.resume(voter.id)
    assert texts(await voter.say("thank you")) == thanks
    await voter.fill(FOLD_AFTER)  # the pause and the resume are folded away too
    assert "I want to talk to a human" not in users(await voter.events())
    assert texts(await voter.say("thank you")) == thanks


async def test_delete_my_data_still_erases_everything_after_the_fold(rasa) -> None:
    voter = Conversation(*rasa)
    await voter.fill(FOLD_AFTER + 1)
    assert folded(await voter.events(), voter.sent)
    await voter.say("delete my data")
    replies = await voter.say("yes")
    assert replies.erase, replies
    await voter.client.forget(voter.id)
    assert [key async for key in voter.trackers.scan_iter(match=f"*{voter.id}*")] == []
    await voter.say("hello")  # a new conversation starts from nothing
    assert len(users(await voter.events())) == 1


async def test_no_event_outlives_the_retention(rasa) -> None:
    """Turns older than the transcript's retention are dropped at the next save; the key expires with the oldest."""
    voter = Conversation(*rasa)
    await voter.say("my epic number is ABC1234567")
    await voter.say("thank you")
    key = TRACKER_KEY_PREFIX + voter.id
    stored = json.loads(await voter.trackers.get(key))
    last_user = max(i for i, e in enumerate(stored["events"]) if e["event"] == "user")
    for event in stored["events"][:last_user]:  # everything before the latest turn: older than the retention
        event["timestamp"] -= TRACKER_TTL_S + 86_400
    await voter.trackers.set(key, json.dumps(stored))

    await voter.say("what documents do i need to carry to the polling booth")
    events = await voter.events()
    assert min(e["timestamp"] for e in events) >= time.time() - TRACKER_TTL_S
    assert "ABC1234567" not in json.dumps(events)  # neither the message nor the slot it filled
    assert len(users(events)) == 2
    assert 0 < await voter.trackers.ttl(key) <= TRACKER_TTL_S + 1


async def test_after_an_hour_of_silence_only_the_new_session_is_kept(rasa) -> None:
    """A new session (domain.yml session_expiration_time) drops the old one's events, keeping the carried slots."""
    voter = Conversation(*rasa, language="hi")
    await voter.say("मेरा पोलिंग बूथ कहाँ है")
    await voter.say("मेरा एपिक नंबर BRP0412345 है")
    key = TRACKER_KEY_PREFIX + voter.id
    stored = json.loads(await voter.trackers.get(key))
    for event in stored["events"]:
        event["timestamp"] -= 2 * 3600
    await voter.trackers.set(key, json.dumps(stored))

    replies = await voter.say("धन्यवाद")
    assert texts(replies)
    events = await voter.events()
    assert [e["event"] for e in events].count("session_started") == 1
    assert users(events) == ["धन्यवाद"]
    assert "BRP0412345" not in json.dumps(events)  # the EPIC number is not carried over (bot/actions/session.py)
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["language"] == "hi"

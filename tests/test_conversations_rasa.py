"""Conversations that never trap the voter, end to end: gateway, real Rasa with the trained model, action server.

In English, Devanagari Hindi and Hinglish (issue 16):
- inside a form a question on another topic is answered and the form's question comes back once; a second
  change of topic, "thanks" or "goodbye" is answered and the form lets go (bot/actions/form_exits.py);
- a cancel word leaves the form and keeps outreach consent; "stop messages" withdraws it (bot/words.py);
- a request for a person wins over the topic in the same message, and the topic reaches the queue;
- outside agent hours that request gets one reply: nobody is available, with the call-back offer.

The form's question is read from domain.yml, so rewording a response does not break these tests.
"""

from __future__ import annotations

import random
from datetime import datetime
from itertools import count
from typing import Any

import pytest
import yaml

from bot import keys
from bot.handoff.hours import DAYS, IST
from bot.settings import ROOT
from tests.helpers.subscribers import add_subscribers
from tests.helpers.telegram_api import text_update

pytestmark = pytest.mark.rasa

_DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
_GATEWAY_TEXTS = yaml.safe_load((ROOT / "gateway_texts.yml").read_text(encoding="utf-8"))


def response_texts(name: str, language: str) -> list[str]:
    """The texts of a response in one language, as domain.yml has them."""
    variations = _DOMAIN["responses"][name]
    return [v["text"] for v in variations if {"type": "slot", "name": "language", "value": language} in v["condition"]]


class Voter:
    """One Telegram voter talking to the real gateway."""

    def __init__(self, gateway: Any, chat: int | None = None) -> None:
        self.gw = gateway
        self.chat = chat or random.randint(10_000_000, 99_999_999)
        self._updates = count(1)

    @property
    def conversation_id(self) -> str:
        return f"tg:{self.chat}"

    async def say(self, text: str) -> list[str]:
        before = len(self.gw.telegram.texts_to(self.chat))
        await self.gw.post_update(text_update(next(self._updates), self.chat, text))
        await self.gw.idle()
        return list(self.gw.telegram.texts_to(self.chat)[before:])


def asks_for_epic(replies: list[str], language: str) -> int:
    """How many of the replies are the polling station form's question."""
    questions = response_texts("utter_ask_epic_number", language)
    return sum(1 for reply in replies if any(q.strip() == reply.strip() for q in questions))


@pytest.fixture
async def gateway(make_gateway, rasa_stack):  # type: ignore[no-untyped-def]
    return await make_gateway(rasa_url=rasa_stack["rasa_url"])


# language the bot answers in, then: start the form, two other topics, thanks
DETOURS = {
    "en": ("en", "where do I vote", "which id should I carry to the booth", "how does the evm work", "thanks"),
    "hi": ("hi", "मेरा मतदान केंद्र कहाँ है", "वोट डालने के लिए कौन सा पहचान पत्र ले जाएं", "ईवीएम कैसे काम करती है",
           "धन्यवाद"),
    "hinglish": ("hi", "mera booth kaha hai", "vote ke liye kaunsa id le jaye", "evm kaise kaam karti hai", "shukriya"),
}  # fmt: skip


@pytest.mark.parametrize("case", DETOURS.values(), ids=DETOURS.keys())
async def test_one_change_of_topic_is_re_asked_once_and_a_second_lets_the_form_go(gateway, case) -> None:  # type: ignore[no-untyped-def]
    language, start, first, second, thanks = case
    voter = Voter(gateway)
    assert asks_for_epic(await voter.say(start), language) == 1

    answered = await voter.say(first)
    assert len(answered) >= 2 and asks_for_epic(answered, language) == 1, answered  # the answer, then asked again

    answered = await voter.say(second)
    assert answered and asks_for_epic(answered, language) == 0, answered  # answered, and the form let go
    assert not any(t in answered for t in response_texts("utter_form_cancelled", language)), answered

    later = await voter.say(thanks)
    assert later and asks_for_epic(later, language) == 0, later


# "thanks", "goodbye" inside the form: answered, and the form ends (no question after it, nor later).
CLOSINGS = [
    ("en", "where is my polling booth", "thank you so much"),
    ("en", "where is my polling booth", "bye"),
    ("hi", "मेरा बूथ कहाँ है", "बहुत धन्यवाद"),
    ("hi", "मेरा बूथ कहाँ है", "अलविदा"),
    ("hi", "mera polling booth kaha hai", "thank you ji"),
    ("hi", "mera polling booth kaha hai", "bye bye"),
]


@pytest.mark.parametrize(("language", "start", "closing"), CLOSINGS)
async def test_thanks_or_goodbye_inside_a_form_leaves_it(gateway, language: str, start: str, closing: str) -> None:  # type: ignore[no-untyped-def]
    voter = Voter(gateway)
    assert asks_for_epic(await voter.say(start), language) == 1
    closed = await voter.say(closing)
    assert closed and asks_for_epic(closed, language) == 0, closed
    question = {"en": "what is vvpat", "hi": "वीवीपैट क्या होता है"}[language]
    later = await voter.say(question)
    assert later and asks_for_epic(later, language) == 0, later


async def test_after_where_do_i_vote_the_epic_question_does_not_follow_every_answer(gateway) -> None:  # type: ignore[no-untyped-def]
    """The seed appended "Send your EPIC number" to five answers in a row, "thanks" included."""
    voter = Voter(gateway)
    asked = asks_for_epic(await voter.say("where do I vote"), "en")
    for text in ["what is nota", "which id can I carry", "how does vvpat work", "is there a ramp for wheelchairs",
                 "thanks"]:  # fmt: skip
        asked += asks_for_epic(await voter.say(text), "en")
    assert asked <= 2, "the EPIC question came back more than once"


CANCELS = [("en", "where do I vote", "cancel"), ("en", "where do I vote", "stop"),
           ("hi", "मेरा बूथ कहाँ है", "रुको"), ("hi", "mera booth kaha hai", "ruko")]  # fmt: skip


@pytest.mark.parametrize(("language", "start", "cancel"), CANCELS)
async def test_a_cancel_word_leaves_the_form_and_keeps_consent(gateway, redis, language, start, cancel) -> None:  # type: ignore[no-untyped-def]
    (chat,) = await add_subscribers(redis, 1, first_chat=random.randint(10_000_000, 99_999_999), language=language)
    voter = Voter(gateway, chat)
    assert asks_for_epic(await voter.say(start), language) == 1
    left = await voter.say(cancel)
    assert any(t in left for t in response_texts("utter_form_cancelled", language)), left
    assert _GATEWAY_TEXTS["texts"]["unsubscribed"][language] not in left, left
    assert await redis.sismember(keys.SUBSCRIBERS, voter.conversation_id)


@pytest.mark.parametrize(("language", "start", "stop"), [("en", "where do I vote", "stop messages"),
                                                         ("hi", "मेरा बूथ कहाँ है", "मैसेज बंद करो")])  # fmt: skip
async def test_stop_messages_inside_a_form_withdraws_consent(gateway, redis, language, start, stop) -> None:  # type: ignore[no-untyped-def]
    (chat,) = await add_subscribers(redis, 1, first_chat=random.randint(10_000_000, 99_999_999), language=language)
    voter = Voter(gateway, chat)
    await voter.say(start)
    stopped = await voter.say(stop)
    assert _GATEWAY_TEXTS["texts"]["unsubscribed"][language] in stopped, stopped
    assert not await redis.sismember(keys.SUBSCRIBERS, voter.conversation_id)


@pytest.mark.parametrize("text", ["alarm band kar do", "alarm band karo", "अलार्म बंद कर दो", "turn off the alarm"])
async def test_turning_an_alarm_off_is_not_an_opt_out(gateway, redis, text: str) -> None:  # type: ignore[no-untyped-def]
    (chat,) = await add_subscribers(redis, 1, first_chat=random.randint(10_000_000, 99_999_999), language="hi")
    replies = await Voter(gateway, chat).say(text)
    assert replies
    assert await redis.sismember(keys.SUBSCRIBERS, f"tg:{chat}"), replies


PERSON_WITH_TOPIC = [
    "मेरा नाम वोटर लिस्ट में नहीं है, मुझे किसी इंसान से बात करनी है",
    "my name is not on the voter list, I want to talk to a person",
    "mera naam voter list me nahi hai, mujhe kisi insaan se baat karni hai",
]


@pytest.mark.parametrize("text", PERSON_WITH_TOPIC)
async def test_a_request_for_a_person_wins_over_the_topic_and_the_topic_is_queued(gateway, redis, text: str) -> None:  # type: ignore[no-untyped-def]
    voter = Voter(gateway)
    replies = await voter.say(text)
    fields = await redis.hgetall(keys.voter(voter.conversation_id))
    assert fields.get("mode") == "queued", replies
    assert fields.get("queue_topic") == "check_registration", fields
    language = "en" if text.startswith("my") else "hi"
    assert asks_for_epic(replies, language) == 0, replies


@pytest.mark.parametrize(("text", "language"), [(PERSON_WITH_TOPIC[0], "hi"), (PERSON_WITH_TOPIC[1], "en"),
                                                ("kisi insaan se baat karwa do", "hi")])  # fmt: skip
async def test_out_of_hours_a_person_request_gets_one_reply(make_gateway, rasa_stack, redis, text, language) -> None:  # type: ignore[no-untyped-def]
    closed_day = DAYS[(datetime.now(IST).weekday() + 3) % 7]  # neither today nor yesterday in India
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"], agent_hours="09:00-09:01", agent_days=closed_day)
    voter = Voter(gw)
    said = await voter.say(text)
    connecting = response_texts("utter_handoff", language)
    assert len(said) == 1 and not any(t in said for t in connecting), said
    assert gw.telegram.sent[-1].reply_markup is not None  # the call-back offer
    assert await redis.hget(keys.voter(voter.conversation_id), "mode") == "bot"

"""End to end through the real gateway and a real Rasa with the trained model (acceptance of issue 3)."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from aiohttp.test_utils import TestServer

from bot import keys
from bot.language import Language, detect
from bot.models import Mode
from tests.helpers.switch_proxy import SwitchProxy
from tests.helpers.telegram_api import callback_update, text_update

pytestmark = pytest.mark.rasa

DEVANAGARI = range(0x0900, 0x0980)


def has_devanagari(text: str) -> bool:
    return any(ord(ch) in DEVANAGARI for ch in text)


def chat() -> int:
    return random.randint(10_000_000, 99_999_999)


@pytest.fixture
async def gateway(make_gateway, rasa_stack):  # type: ignore[no-untyped-def]
    return await make_gateway(rasa_url=rasa_stack["rasa_url"])


async def test_hindi_message_gets_a_hindi_reply(gateway) -> None:
    voter = chat()
    resp = await gateway.post_update(text_update(1, voter, "मेरा नाम वोटर लिस्ट में कैसे देखूं?"))
    assert resp.status == 200
    await gateway.idle()
    replies = gateway.telegram.texts_to(voter)
    assert replies and all(has_devanagari(text) for text in replies), replies


async def test_hinglish_message_gets_a_devanagari_reply(gateway) -> None:
    voter = chat()
    await gateway.post_update(text_update(1, voter, "mera polling booth kaha hai"))
    await gateway.idle()
    replies = gateway.telegram.texts_to(voter)
    assert replies and all(has_devanagari(text) for text in replies), replies


async def test_english_message_gets_an_english_reply(gateway) -> None:
    voter = chat()
    await gateway.post_update(text_update(1, voter, "which documents can I carry to the polling booth?"))
    await gateway.idle()
    replies = gateway.telegram.texts_to(voter)
    assert replies and not any(has_devanagari(text) for text in replies), replies


async def test_two_deliveries_of_one_update_produce_one_reply(gateway) -> None:
    voter = chat()
    update = text_update(7, voter, "how do I register as a new voter?")
    await asyncio.gather(gateway.post_update(update), gateway.post_update(update))
    await gateway.idle()
    once = gateway.telegram.texts_to(voter)
    other = chat()
    await gateway.post_update(text_update(8, other, "how do I register as a new voter?"))
    await gateway.idle()
    assert once and once == gateway.telegram.texts_to(other)


async def test_twenty_concurrent_messages_are_answered_one_at_a_time_in_order(gateway, redis) -> None:
    questions = [
        "how do I register as a new voter?",
        "which ID can I carry to the booth?",
        "how does the EVM work?",
        "how to download e-EPIC?",
        "thank you",
    ]
    # What each question gets on its own, in a fresh conversation.
    expected: dict[str, list[str]] = {}
    for index, question in enumerate(questions):
        probe = chat()
        await gateway.post_update(text_update(1000 + index, probe, question))
        await gateway.idle()
        expected[question] = gateway.telegram.texts_to(probe)
        assert expected[question], question

    voter = chat()
    messages = [questions[i % len(questions)] for i in range(20)]
    updates = [text_update(2000 + i, voter, text) for i, text in enumerate(messages)]
    results = await asyncio.gather(*(gateway.post_update(u) for u in updates))
    assert all(r.status == 200 for r in results)
    await gateway.idle()

    turns = [json.loads(t) for t in await redis.lrange(keys.transcript(f"tg:{voter}"), 0, -1)]
    voter_turns = [t["text"] for t in turns if t["who"] == "voter"]
    assert sorted(voter_turns) == sorted(messages)  # each message stored exactly once
    # One at a time, in the order stored: each question's whole answer before the next one's.
    expected_sequence = [reply for question in voter_turns for reply in expected[question]]
    assert gateway.telegram.texts_to(voter) == expected_sequence
    bot_turns = [t["text"] for t in turns if t["who"] == "bot"]
    assert bot_turns == expected_sequence


async def test_buttons_become_an_inline_keyboard_and_a_press_reaches_rasa(gateway, redis) -> None:
    voter = chat()
    await gateway.post_update(text_update(1, voter, "/start"))
    await gateway.idle()
    keyboards = [m.reply_markup for m in gateway.telegram.sent if m.chat_id == voter and m.reply_markup]
    assert keyboards, "the first-contact greeting offers language buttons"
    buttons = [b for row in keyboards[-1]["inline_keyboard"] for b in row]
    english = next(b for b in buttons if "English" in b["text"])
    # Rasa fills {slot} placeholders in responses: the payload's JSON braces must come through intact.
    assert english["callback_data"] == '/change_language{"language":"en"}'
    before = len(gateway.telegram.texts_to(voter))
    await gateway.post_update(callback_update(2, voter, english["callback_data"]))
    await gateway.idle()
    after = gateway.telegram.texts_to(voter)[before:]
    assert after and all(detect(text) in (Language.EN, None) for text in after), after
    # The explicit choice sticks: a Hinglish message is now answered in English.
    assert await redis.hget(keys.voter(f"tg:{voter}"), "language_locked") == "1"
    await gateway.post_update(text_update(3, voter, "mera naam list me hai kya"))
    await gateway.idle()
    latest = gateway.telegram.texts_to(voter)[before + len(after) :]
    assert latest and not any(has_devanagari(text) for text in latest), latest


async def test_asking_for_a_human_queues_the_conversation(gateway, redis) -> None:
    voter = chat()
    await gateway.post_update(text_update(1, voter, "मुझे किसी इंसान से बात करनी है"))
    await gateway.idle()
    assert gateway.telegram.texts_to(voter), "the voter is told a person will take over"
    assert await redis.hget(keys.voter(f"tg:{voter}"), "mode") == Mode.QUEUED.value
    entries = await redis.xrange(keys.handoff_queue("hi"))
    assert [e[1]["conversation_id"] for e in entries] == [f"tg:{voter}"]
    # While queued, the voter's messages are kept for the agent, not sent to Rasa.
    await gateway.post_update(text_update(2, voter, "कोई है?"))
    await gateway.idle()
    turns = [json.loads(t) for t in await redis.lrange(keys.transcript(f"tg:{voter}"), 0, -1)]
    assert turns[-2]["text"] == "कोई है?"


async def test_rasa_outage_apologises_and_loses_nothing_once_rasa_is_back(make_gateway, rasa_stack, redis) -> None:
    proxy = SwitchProxy(rasa_stack["rasa_url"])
    server = TestServer(proxy.app(), host="127.0.0.1")
    await server.start_server()
    try:
        gw = await make_gateway(rasa_url=str(server.make_url("")).rstrip("/"), rasa_retry_interval_s=0.2)
        voter = chat()
        proxy.up = False
        await gw.post_update(text_update(1, voter, "मतदान केंद्र पर कौन सा पहचान पत्र ले जाना है?"))
        await gw.post_update(text_update(2, voter, "धन्यवाद"))
        await gw.idle()
        apology = gw.telegram.texts_to(voter)
        assert len(apology) == 1 and has_devanagari(apology[0]) and "1950" in apology[0]
        assert await redis.llen(keys.RETRY) == 2

        proxy.up = True
        await gw.telegram.wait_for_messages(3, chat_id=voter, timeout=30)
        await gw.idle()
        assert await redis.llen(keys.RETRY) == 0
        answers = gw.telegram.texts_to(voter)[1:]
        assert len(answers) >= 2 and all(has_devanagari(a) for a in answers)
        # The agent reading the transcript later sees each held message once, not again for its replay.
        turns = [json.loads(t) for t in await redis.lrange(keys.transcript(f"tg:{voter}"), 0, -1)]
        voter_turns = [t["text"] for t in turns if t["who"] == "voter"]
        assert voter_turns == ["मतदान केंद्र पर कौन सा पहचान पत्र ले जाना है?", "धन्यवाद"]
    finally:
        await server.close()

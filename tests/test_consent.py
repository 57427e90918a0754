"""Consent through the gateway: opt in after the notice, STOP in any state, and "delete my data" end to end."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
import redis.asyncio as aioredis

from bot import keys, pubsub
from bot.consent import conversation_hash
from bot.words import is_stop_word
from tests.conftest import RASA_DB, redis_url
from tests.helpers.subscribers import add_subscribers
from tests.helpers.telegram_api import callback_update, text_update
from tests.test_handoff_router import queued_voter


def chat() -> int:
    return random.randint(10_000_000, 99_999_999)


@pytest.mark.parametrize("text", ["STOP", "stop.", "रुकें", "बंद", "बंद करो", "band karo", "Band Karo!", "unsubscribe"])
def test_bare_stop_words(text: str) -> None:
    assert is_stop_word(text)


@pytest.mark.parametrize("text", ["stop the car", "bus stop kahan hai", "बंद कमरे में वोटिंग?", "band baja"])
def test_stop_inside_a_sentence_is_a_question_not_an_opt_out(text: str) -> None:
    assert not is_stop_word(text)


@pytest.mark.parametrize(("text", "language", "reply"), [("STOP", "en", "Done: you will not get"),
                                                         ("band karo", "hi", "कोई रिमाइंडर नहीं"),
                                                         ("रुकें", "hi", "कोई रिमाइंडर नहीं")])  # fmt: skip
async def test_stop_withdraws_consent_without_asking_the_assistant(
    make_gateway, redis: aioredis.Redis, text: str, language: str, reply: str
) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)  # the assistant is down
    (voter,) = await add_subscribers(redis, 1, language=language, constituency="Gaya")
    await gw.post_update(text_update(1, voter, text))
    await gw.idle()
    (answer,) = gw.telegram.texts_to(voter)  # no "assistant unavailable" apology: Rasa was not needed
    assert reply in answer
    assert not await redis.sismember(keys.SUBSCRIBERS, f"tg:{voter}")
    consent = await redis.hgetall(keys.consent(f"tg:{voter}"))
    assert consent["state"] == "unsubscribed" and consent["constituency"] == "Gaya"
    ((_, entry),) = await redis.xrange(keys.CONSENT_LEDGER)
    assert entry["state"] == "unsubscribed" and entry["conversation_hash"] == conversation_hash(f"tg:{voter}")
    assert str(voter) not in json.dumps(entry)


async def test_the_stop_command_works(make_gateway, redis: aioredis.Redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    (voter,) = await add_subscribers(redis, 1, language="en")
    update = text_update(1, voter, "/stop")
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]  # type: ignore[index]
    await gw.post_update(update)
    await gw.idle()
    assert "Done: you will not get" in gw.telegram.texts_to(voter)[-1]
    assert not await redis.sismember(keys.SUBSCRIBERS, f"tg:{voter}")


async def test_stop_from_a_voter_who_never_subscribed_stores_nothing(make_gateway, redis: aioredis.Redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    await gw.post_update(text_update(1, 5553002, "stop"))
    await gw.idle()
    assert "will not get any more reminders" in gw.telegram.texts_to(5553002)[-1]
    assert await redis.exists(keys.consent("tg:5553002")) == 0 and await redis.xlen(keys.CONSENT_LEDGER) == 0


async def test_stop_works_while_waiting_for_a_person_and_the_agent_sees_it(make_gateway, redis) -> None:  # type: ignore[no-untyped-def]
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    voter = 5553001
    await add_subscribers(redis, 1, first_chat=voter)
    router, profile = await queued_voter(gw, voter)
    async with pubsub.subscribe(redis, keys.CONSOLE_EVENTS) as listener:  # as the consoles listen
        await gw.post_update(text_update(1, voter, "बंद"))
        await gw.idle()
        assert "कोई रिमाइंडर नहीं" in " ".join(gw.telegram.texts_to(voter))
        assert not await redis.sismember(keys.SUBSCRIBERS, profile.conversation_id)
        assert await router.conversations.queue.position(profile.conversation_id) == 1  # still waiting for the person
        seen = []
        for _ in range(20):
            data = await listener.message(timeout=0.1)
            if data:
                seen.append(json.loads(data))
    assert any(e.get("type") == "voter_message" and e.get("text") == "बंद" for e in seen)


async def all_values(client: aioredis.Redis) -> dict[str, str]:
    """Every key with its value as text, whatever its type."""
    found = {}
    async for key in client.scan_iter(count=500):
        kind = await client.type(key)
        if kind == "string":
            value = await client.get(key)
        elif kind == "hash":
            value = await client.hgetall(key)
        elif kind == "list":
            value = await client.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(await client.smembers(key))
        elif kind == "zset":
            value = await client.zrange(key, 0, -1)
        else:
            value = await client.xrange(key)
        found[key] = json.dumps(value, ensure_ascii=False)
    return found


@pytest.mark.rasa
async def test_subscribe_mid_form_stop_and_delete_my_data_leave_nothing_but_the_marker(
    make_gateway, rasa_stack, redis: aioredis.Redis
) -> None:
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"])
    voter, conversation = chat(), ""
    update_id = iter(range(1, 100))

    async def say(text: str, button: bool = False) -> list[str]:
        before = len(gw.telegram.texts_to(voter))
        update = callback_update(next(update_id), voter, text) if button else text_update(next(update_id), voter, text)
        await gw.post_update(update)
        await gw.idle()
        return gw.telegram.texts_to(voter)[before:]

    conversation = f"tg:{voter}"
    await say("hello, where is my polling booth?")
    await say("/subscribe_updates", button=True)
    notice = gw.telegram.sent[-1]
    assert "at most 2 messages a week" in notice.text and notice.reply_markup is not None
    await say("/affirm", button=True)
    assert await redis.sismember(keys.SUBSCRIBERS, conversation)
    # consent_notice_version in domain.yml: 3 since the Hindi notice names "मैसेज बंद करो" (issue 16)
    assert (await redis.hgetall(keys.consent(conversation)))["notice_version"] == "3"

    asked = await say("find my polling station")
    assert any("EPIC" in text for text in asked), asked
    left = await say("STOP")  # in the middle of the form: it only leaves the form
    assert not any("will not get any more reminders" in text for text in left), left
    assert await redis.sismember(keys.SUBSCRIBERS, conversation)
    stopped = await say("STOP")  # outside any form: no more outreach
    assert any("will not get any more reminders" in text for text in stopped), stopped
    assert not await redis.sismember(keys.SUBSCRIBERS, conversation)
    await say("find my polling station")
    station = await say("ABC1234567")
    assert any("ABC1234567" in text or "polling booth" in text.lower() for text in station), station

    await say("/subscribe_updates", button=True)
    await say("/affirm", button=True)
    await say("/delete_data", button=True)
    done = await say("/affirm", button=True)
    assert done and ("erased" in done[0].lower() or "deleted" in done[0].lower()), done

    leftovers = {k: v for k, v in (await all_values(redis)).items() if str(voter) in k or str(voter) in v}
    assert leftovers == {}, leftovers
    assert await redis.sismember(keys.SUPPRESSED, conversation_hash(conversation))
    states = [fields["state"] for _, fields in await redis.xrange(keys.CONSENT_LEDGER)]
    assert states == ["subscribed", "unsubscribed", "subscribed", "erased"]

    # The assistant's own record of the conversation (Rasa's tracker store) keeps none of the voter's words.
    rasa_store = aioredis.Redis.from_url(redis_url(RASA_DB), decode_responses=True)
    try:
        remembered = " ".join(v for k, v in (await all_values(rasa_store)).items() if str(voter) in k)
    finally:
        await rasa_store.aclose()
    assert "ABC1234567" not in remembered and "polling booth" not in remembered
    await asyncio.sleep(0)

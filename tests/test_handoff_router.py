"""What the voter sees around a hand-off: queue place, out-of-hours and long-wait offers, leaving, outages."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot import keys
from bot.app import ROUTER
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.hours import DAYS, IST, AgentHours
from bot.language import Language
from bot.models import Channel, InboundMessage
from tests.helpers.telegram_api import callback_update, text_update


async def queued_voter(gw, chat_id: int, language: str = "hi"):  # type: ignore[no-untyped-def]
    router = gw.app[ROUTER]
    message = InboundMessage(channel=Channel.TELEGRAM, chat_id=str(chat_id), text="मुझे किसी से बात करनी है")
    profile = await router.store.arrive(message, message.text)
    await router.store.set_language(profile.conversation_id, Language(language), locked=False)
    profile = await router.store.get(profile.conversation_id)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language=language))
    return router, profile


async def test_waiting_voter_hears_place_and_wait(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    await queued_voter(gw, 5552001)
    router, _ = await queued_voter(gw, 5552002)
    texts = gw.telegram.texts_to(5552002)
    assert len(texts) == 1 and "2 नंबर" in texts[0] and "10 मिनट" in texts[0]  # 2 x the default 5 minutes
    await router.conversations.take_next("asha", ["hi"])
    await router.positions.update()  # 2 -> 1: next in line, worth telling
    assert "1 नंबर" in gw.telegram.texts_to(5552002)[-1]


async def test_outside_agent_hours_the_voter_is_offered_a_call_back_and_nothing_is_queued(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    # Closed now: one minute on a day that is neither today nor yesterday in India (a fixed day
    # failed on Mondays at 09:00 IST).
    closed_day = DAYS[(datetime.now(IST).weekday() + 3) % 7]
    gw.app[ROUTER].hours = AgentHours("09:00-09:01", closed_day)
    router, profile = await queued_voter(gw, 5552003, "en")
    sent = gw.telegram.sent[-1]
    assert "from 9 AM to 9:01 AM" in sent.text  # the agent hours, said the way people say them (bot/clock.py)
    payloads = [b["callback_data"] for row in sent.reply_markup["inline_keyboard"] for b in row]  # type: ignore[index]
    assert payloads == ["/request_callback", "/continue_with_bot"]
    assert await router.conversations.queue.depth("en") == 0
    assert await redis.hget(keys.voter(profile.conversation_id), "mode") == "bot"


async def test_a_long_wait_brings_the_offer_and_the_voter_can_go_back_to_the_bot(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, handoff_max_wait_s=60)
    router, profile = await queued_voter(gw, 5552004)
    offer = gw.telegram.sent[-1]
    assert offer.reply_markup is not None and len(gw.telegram.texts_to(5552004)) == 2
    await gw.post_update(callback_update(1, 5552004, "/continue_with_bot"))
    await gw.idle()
    assert await router.conversations.queue.depth("hi") == 0
    assert await redis.hget(keys.voter(profile.conversation_id), "mode") == "bot"
    assert "बॉट" in gw.telegram.texts_to(5552004)[-1]  # welcome back, in Hindi


async def test_a_long_rasa_outage_hands_the_voter_to_people_without_replaying_twice(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, rasa_down_handoff_after_s=0.1)
    await gw.post_update(text_update(1, 5552005, "मेरा बूथ कहाँ है"))
    await gw.idle()
    router = gw.app[ROUTER]
    await asyncio.sleep(0.15)
    assert await router.outage.escalate(router.escalate) == 1
    assert await redis.hget(keys.voter("tg:5552005"), "mode") == "queued"
    entries = await redis.xrange(keys.handoff_queue("hi"))
    assert [(e[1]["conversation_id"], e[1]["reason"]) for e in entries] == [("tg:5552005", "rasa_unavailable")]

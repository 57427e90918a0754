"""WhatsApp end to end: the real gateway, a real Rasa with the trained model, the Graph API stand-in."""

from __future__ import annotations

import random

import pytest

from bot import keys
from bot.language import Language, detect
from bot.models import Mode
from tests.helpers import graph_api as wa

pytestmark = pytest.mark.rasa


def voter() -> str:
    return f"9196{random.randint(10_000_000, 99_999_999)}"


def has_devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)


@pytest.fixture
async def gateway(make_whatsapp_gateway, rasa_stack):  # type: ignore[no-untyped-def]
    return await make_whatsapp_gateway(rasa_url=rasa_stack["rasa_url"])


async def test_a_hindi_whatsapp_message_gets_a_hindi_reply(gateway) -> None:
    wa_id = voter()
    resp = await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.text("मेरा नाम वोटर लिस्ट में कैसे देखूं?"))))
    assert resp.status == 200
    await gateway.idle()
    replies = gateway.graph.texts_to(wa_id)
    assert replies and all(has_devanagari(text) for text in replies), replies


async def test_the_menu_is_a_list_and_a_list_reply_reaches_the_right_intent(gateway, redis) -> None:
    wa_id = voter()
    for greeting in ("नमस्ते", "नमस्ते जी"):  # the first contact offers languages, a greeting then the menu
        await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.text(greeting))))
        await gateway.idle()
    menus = [s.body["interactive"] for s in gateway.graph.to(wa_id) if s.body["type"] == "interactive"]
    assert menus and menus[-1]["type"] == "list", [s.body for s in gateway.graph.to(wa_id)]
    rows = menus[-1]["action"]["sections"][0]["rows"]
    booth = next(r for r in rows if r["id"] == "/find_polling_station")
    before = len(gateway.graph.to(wa_id))
    await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.list_reply(booth["id"], booth["title"]))))
    await gateway.idle()
    after = gateway.graph.texts_to(wa_id)[before:]
    assert any("EPIC" in text for text in after), after  # the polling-station form asks for the EPIC number
    assert all(has_devanagari(text) for text in after), after


async def test_a_reply_button_press_reaches_rasa_and_switches_the_language(gateway, redis) -> None:
    wa_id = voter()
    await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.text("/start"))))
    await gateway.idle()
    buttons = [
        b["reply"]
        for s in gateway.graph.to(wa_id)
        if s.body["type"] == "interactive" and s.body["interactive"]["type"] == "button"
        for b in s.body["interactive"]["action"]["buttons"]
    ]
    english = next(b for b in buttons if "English" in b["title"])
    before = len(gateway.graph.to(wa_id))
    await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.button_reply(english["id"], english["title"]))))
    await gateway.idle()
    after = gateway.graph.texts_to(wa_id)[before:]
    assert after and all(detect(text) in (Language.EN, None) for text in after), after
    assert await redis.hget(keys.voter(f"wa:{wa_id}"), "language_locked") == "1"


async def test_a_duplicate_wamid_gets_one_reply(gateway) -> None:
    wa_id = voter()
    message = wa.text("which documents can I carry to the polling booth?")
    payload = wa.webhook(wa.messages_value(wa_id, message))
    await gateway.post(payload)
    await gateway.idle()
    once = len(gateway.graph.to(wa_id))
    assert once >= 1
    assert (await gateway.post(payload)).status == 200
    await gateway.idle()
    assert len(gateway.graph.to(wa_id)) == once


async def test_a_wrong_signature_is_403_and_gets_no_reply(gateway) -> None:
    wa_id = voter()
    resp = await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.text("नमस्ते"))), secret="not-the-app-secret")
    assert resp.status == 403
    await gateway.idle()
    assert gateway.graph.to(wa_id) == []


async def test_asking_for_a_person_queues_the_whatsapp_conversation(gateway, redis) -> None:
    wa_id = voter()
    await gateway.post(wa.webhook(wa.messages_value(wa_id, wa.text("मुझे किसी इंसान से बात करनी है"))))
    await gateway.idle()
    assert await redis.hget(keys.voter(f"wa:{wa_id}"), "mode") == Mode.QUEUED.value
    entries = await redis.xrange(keys.handoff_queue("hi"))
    assert [e[1]["conversation_id"] for e in entries] == [f"wa:{wa_id}"]
    assert any("कतार" in text for text in gateway.graph.texts_to(wa_id))  # told their place in the queue

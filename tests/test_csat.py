"""The satisfaction question after a resolved close: asked once a day, answered before the assistant."""

from __future__ import annotations

import asyncio

import pytest

from bot import keys
from bot.app import ROUTER
from bot.channels.webchat import voter_id
from bot.console.accounts import Accounts, Role
from bot.csat import score_of
from bot.handoff import HandoffReason, HandoffSignal
from bot.models import Channel, conversation_id
from bot.settings import ROOT
from bot.texts import Texts
from tests.helpers.telegram_api import callback_update, text_update

PASSWORD = "correct horse battery"
ORIGIN = "http://127.0.0.1:8080"
TEXTS = Texts.load(ROOT / "gateway_texts.yml")


async def _agent_takes_and_closes(client, router, conv: str, disposition: str = "resolved") -> dict:  # type: ignore[no-untyped-def]
    profile = await router.store.get(conv)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
    taken = await (await client.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == conv
    assert (await client.post(f"/console/api/chats/{conv}/messages", json={"text": "आपका काम हो गया।"})).status == 200
    closed = await client.post(f"/console/api/chats/{conv}/close", json={"disposition": disposition})
    assert closed.status == 200
    return await closed.json()


async def _login(client, redis) -> None:  # type: ignore[no-untyped-def]
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=3)
    assert (await client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})).status == 200


async def test_telegram_round_trip_recorded_against_the_close_and_the_agent(make_gateway, redis) -> None:
    gateway = await make_gateway()
    router, client, chat = gateway.app[ROUTER], gateway.client, 6601
    conv = f"tg:{chat}"
    await gateway.post_update(text_update(1, chat, "मुझे मदद चाहिए"))
    await gateway.idle()
    await _login(client, redis)
    closed = await _agent_takes_and_closes(client, router, conv)
    assert closed["csat_asked"] is True

    question = gateway.telegram.sent[-1]
    assert question.text == TEXTS.get("csat_question", "hi")
    rows = question.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert [row[0]["callback_data"] for row in rows] == [f"/csat_{n}" for n in range(1, 6)]
    assert rows[0][0]["text"].startswith("1 ")

    before = len(gateway.telegram.sent)
    await gateway.post_update(callback_update(2, chat, "/csat_4"))
    await gateway.idle()
    replies = [m.text for m in gateway.telegram.sent[before:]]
    # Thanked by the gateway; Rasa (down in this test) was never asked, or the voter would hear its apology.
    assert replies == [TEXTS.get("csat_thanks", "hi")]
    answers = await redis.xrange(keys.CSAT)
    assert len(answers) == 1
    answer = answers[0][1]
    close_id = (await redis.xrange(keys.CLOSES))[-1][0]
    assert answer["score"] == "4" and answer["agent"] == "asha" and answer["close_id"] == close_id
    assert answer["language"] == "hi" and answer["channel"] == "telegram"

    # The button pressed again: thanked, not counted, and not sent to the assistant (nothing held for Rasa).
    held = await redis.llen(keys.RETRY)
    await gateway.post_update(callback_update(5, chat, "/csat_1"))
    await gateway.idle()
    assert gateway.telegram.sent[-1].text == TEXTS.get("csat_thanks", "hi")
    assert await redis.xlen(keys.CSAT) == 1 and await redis.llen(keys.RETRY) == held

    # The same day, a second resolved chat: no second question.
    closed = await _agent_takes_and_closes(client, router, conv)
    assert closed["csat_asked"] is False
    assert gateway.telegram.sent[-1].text != TEXTS.get("csat_question", "hi")


async def test_a_spam_close_asks_nothing_and_skipping_goes_to_the_assistant(make_gateway, redis) -> None:
    gateway = await make_gateway()
    router, client = gateway.app[ROUTER], gateway.client
    await _login(client, redis)
    await gateway.post_update(text_update(1, 6602, "hello"))
    await gateway.idle()
    closed = await _agent_takes_and_closes(client, router, "tg:6602", "spam")
    assert closed["csat_asked"] is False
    assert TEXTS.get("csat_question", "hi") not in gateway.telegram.texts_to(6602)

    await gateway.post_update(text_update(2, 6603, "hello"))
    await gateway.idle()
    assert (await _agent_takes_and_closes(client, router, "tg:6603"))["csat_asked"] is True
    held_before = await redis.llen(keys.RETRY)
    await gateway.post_update(text_update(3, 6603, "मतदान केंद्र कहाँ है?"))  # not an answer: skipped
    await gateway.idle()
    assert await redis.xlen(keys.CSAT) == 0
    assert not await redis.hexists(keys.voter("tg:6603"), "csat_pending")
    # It went to the assistant: Rasa is down here, so the message is held for it.
    assert await redis.llen(keys.RETRY) == held_before + 1
    # A digit later on is no longer an answer.
    await gateway.post_update(text_update(4, 6603, "5"))
    await gateway.idle()
    assert await redis.xlen(keys.CSAT) == 0


async def test_web_chat_round_trip_with_buttons(make_gateway, redis) -> None:
    gateway = await make_gateway()
    router, client = gateway.app[ROUTER], gateway.client
    ws = await client.ws_connect("/webchat/ws", headers={"Origin": ORIGIN})
    await ws.send_json({"type": "hello", "secret": None})
    identity = await ws.receive_json()
    assert identity["type"] == "identity"
    assert (await ws.receive_json())["type"] == "history"
    conv = conversation_id(Channel.WEBCHAT, voter_id(identity["secret"]))
    await ws.send_json({"type": "message", "text": "नमस्ते", "id": "m1"})
    await gateway.idle()
    await _login(client, redis)
    closed = await _agent_takes_and_closes(client, router, conv)
    assert closed["csat_asked"] is True

    async def next_message() -> dict:  # type: ignore[type-arg]
        while True:
            frame = await asyncio.wait_for(ws.receive_json(), 10)
            if frame.get("type") == "message":
                return frame

    while (frame := await next_message())["text"] != TEXTS.get("csat_question", "hi"):
        pass
    assert [b["payload"] for b in frame["buttons"]] == [f"/csat_{n}" for n in range(1, 6)]
    await ws.send_json({"type": "button", "payload": "/csat_2", "title": "2", "id": "b1"})
    thanks = await next_message()
    assert thanks["text"] == TEXTS.get("csat_thanks", "hi")
    await gateway.idle()
    answer = (await redis.xrange(keys.CSAT))[0][1]
    assert answer["score"] == "2" and answer["channel"] == "webchat"
    await ws.close()


def test_scores_from_buttons_and_digits() -> None:
    assert [score_of(t) for t in ("/csat_1", "5", " ३ ", "/csat_6", "0", "55", "good", "/csat_")] == [
        1, 5, 3, None, None, None, None, None,
    ]  # fmt: skip


async def test_whatsapp_round_trip_as_an_interactive_list(make_whatsapp_gateway, redis) -> None:
    from tests.helpers import graph_api as wa

    gw = await make_whatsapp_gateway()
    wa_id = "919811100018"
    conv = f"wa:{wa_id}"
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.text("नमस्ते"))))
    await gw.idle()
    await _login(gw.client, redis)
    closed = await _agent_takes_and_closes(gw.client, gw.app[ROUTER], conv)
    assert closed["csat_asked"] is True
    question = gw.graph.to(wa_id)[-1]
    assert question.text == TEXTS.get("csat_question", "hi")
    interactive = question.body["interactive"]
    # Five choices are more than WhatsApp's three reply buttons: the outbox renders them as a list.
    rows = [row for section in interactive["action"]["sections"] for row in section["rows"]]
    assert interactive["type"] == "list" and [r["id"] for r in rows] == [f"/csat_{n}" for n in range(1, 6)]

    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.list_reply("/csat_3", rows[2]["title"]))))
    await gw.idle()
    assert gw.graph.texts_to(wa_id)[-1] == TEXTS.get("csat_thanks", "hi")
    answer = (await redis.xrange(keys.CSAT))[0][1]
    assert answer["score"] == "3" and answer["channel"] == "whatsapp" and answer["agent"] == "asha"
    assert wa_id not in str(answer)  # the conversation's hash, not the number


@pytest.mark.rasa
async def test_with_the_real_assistant_the_answer_never_reaches_rasa_and_the_next_question_does(
    make_gateway, rasa_stack, redis
) -> None:
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"])
    await _login(gw.client, redis)
    voter = 5553018
    conv = f"tg:{voter}"
    await gw.post_update(text_update(1, voter, "मुझे किसी इंसान से बात करनी है"))
    await gw.idle()
    assert await redis.hget(keys.voter(conv), "mode") == "queued"
    taken = await (await gw.client.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == conv
    await gw.client.post(f"/console/api/chats/{conv}/messages", json={"text": "बताइए, क्या मदद करूँ?"})
    closed = await (await gw.client.post(f"/console/api/chats/{conv}/close", json={"disposition": "resolved"})).json()
    assert closed["csat_asked"] is True
    await gw.post_update(callback_update(2, voter, "/csat_5"))
    await gw.idle()
    assert gw.telegram.texts_to(voter)[-1] == TEXTS.get("csat_thanks", "hi")
    rasa = gw.app[ROUTER].rasa
    assert "/csat_5" not in [text for text, _ in await rasa.user_intents(conv)]  # the gateway took it
    # The assistant answers the voter's next question as usual.
    before = len(gw.telegram.texts_to(voter))
    await gw.post_update(text_update(3, voter, "वोट डालने के लिए कौन सा पहचान पत्र ले जाऊं?"))
    await gw.idle()
    replies = gw.telegram.texts_to(voter)[before:]
    assert any("आधार" in r for r in replies), replies
    assert (await redis.xrange(keys.CSAT))[0][1]["score"] == "5"

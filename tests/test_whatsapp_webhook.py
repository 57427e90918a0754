"""The WhatsApp webhook route, without Rasa: verify handshake, signatures, bad bodies, de-duplication, statuses."""

from __future__ import annotations

import json
import random

import pytest

from bot import keys
from bot.language import Language, detect
from bot.settings import Settings
from tests.helpers import graph_api as wa


def voter() -> str:
    return f"9198{random.randint(10_000_000, 99_999_999)}"


async def test_verify_handshake_answers_the_challenge_as_plain_text(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    query = {"hub.mode": "subscribe", "hub.verify_token": wa.VERIFY_TOKEN, "hub.challenge": "1158201444"}
    resp = await gw.client.get("/whatsapp/webhook", params=query)
    assert resp.status == 200 and resp.content_type == "text/plain"
    assert await resp.text() == "1158201444"
    for bad in ({**query, "hub.verify_token": "wrong"}, {**query, "hub.mode": "unsubscribe"}, {}):
        assert (await gw.client.get("/whatsapp/webhook", params=bad)).status == 403


async def test_missing_or_wrong_signature_is_403_and_nothing_is_stored(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    raw, headers = wa.signed(wa.webhook(wa.messages_value(voter(), wa.text("नमस्ते"))))
    tampered = raw.replace("नमस्ते".encode(), "नमस्कार".encode())
    for body, signature in (
        (raw, None),
        (raw, ""),
        (raw, "sha256=" + "0" * 64),
        (raw, headers["X-Hub-Signature-256"].replace("sha256=", "sha1=")),
        (raw, wa.signed(raw, "another-secret")[1]["X-Hub-Signature-256"]),
        (tampered, headers["X-Hub-Signature-256"]),
    ):
        sent_headers = {"Content-Type": "application/json"}
        if signature is not None:
            sent_headers["X-Hub-Signature-256"] = signature
        resp = await gw.client.post("/whatsapp/webhook", data=body, headers=sent_headers)
        assert resp.status == 403
    ignored = ("samvad:handoff:", "samvad:maintenance:")  # empty queues, the maintenance lease
    stored = [k for k in await redis.keys("samvad:*") if not k.startswith(ignored)]
    assert stored == []


async def test_signed_bodies_that_are_not_a_webhook_are_400(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    good = wa.webhook(wa.messages_value(voter(), wa.text("hi")))
    wrong_object = {**good, "object": "page"}
    no_from = json.loads(json.dumps(good))
    del no_from["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
    for body in (
        b"{not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'"text"',
        b"{}",
        wrong_object,
        no_from,
        {"object": "whatsapp_business_account", "entry": "x"},
        b"[" * 100_000,
    ):
        resp = await gw.post(body)
        assert resp.status == 400, body if isinstance(body, bytes) else json.dumps(body)[:80]
        assert (await resp.json())["ok"] is False
    assert await redis.keys("samvad:inbox:*") == []


async def test_a_redelivered_wamid_is_stored_once(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway(rasa_timeout_s=1.0)
    wa_id = voter()
    payload = wa.webhook(wa.messages_value(wa_id, wa.text("where is my booth")))
    first, second = await gw.post(payload), await gw.post(payload)
    assert first.status == second.status == 200
    assert (await second.json()).get("duplicates") == 1
    await gw.idle()
    held = [json.loads(raw)["chat_id"] for raw in await redis.lrange(keys.RETRY, 0, -1)]
    assert held == [wa_id]  # Rasa is down in this test: the one message waits for it, once
    assert len(gw.graph.texts_to(wa_id)) == 1  # one apology


async def test_every_entry_and_change_of_one_webhook_is_handled(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    a, b = voter(), voter()
    payload = wa.webhook(wa.messages_value(a, wa.text("/help")), wa.messages_value(b, wa.text("/help")))
    payload["entry"][0]["changes"].append({"field": "messages", "value": wa.messages_value(b, wa.text("/help"))})
    assert (await gw.post(payload)).status == 200
    await gw.idle()
    assert len(gw.graph.texts_to(a)) == 1 and len(gw.graph.texts_to(b)) == 2


async def test_voice_note_image_and_location_get_a_polite_answer_in_the_voters_language(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.text("/help"))))  # Hindi by default
    media = (wa.voice("media-1"), wa.image("media-2", "मेरा कार्ड"), wa.location(25.6, 85.1))
    assert (await gw.post(wa.webhook(wa.messages_value(wa_id, *media)))).status == 200
    await gw.idle()
    texts = gw.graph.texts_to(wa_id)
    assert len(texts) == 4 and all(detect(t) is Language.HI for t in texts[1:]), texts
    assert "/human" in texts[1]  # a person is offered


async def test_statuses_are_recorded_once_and_never_reach_the_assistant(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    message_id = wa.wamid()
    await redis.hset(keys.whatsapp_sent(message_id), mapping={"campaign": "check-your-name", "language": "hi"})
    statuses = [wa.status(message_id, s, wa_id) for s in ("sent", "delivered", "read")]
    failed = wa.status(wa.wamid(), "failed", wa_id, error=131047)
    payload = wa.webhook(wa.statuses_value(*statuses, failed))
    assert (await gw.post(payload)).status == 200
    assert (await gw.post(payload)).status == 200  # Meta's redelivery is not counted again
    await gw.idle()
    entries = await redis.xrange(keys.WHATSAPP_STATUSES)
    assert [e[1]["status"] for e in entries] == ["sent", "delivered", "read", "failed"]
    assert entries[-1][1]["errors"] == "131047" and wa_id not in json.dumps(entries)
    funnel = await redis.hgetall(keys.campaign_funnel("check-your-name"))
    assert funnel == {"hi:sent": "1", "hi:delivered": "1", "hi:read": "1"}
    assert gw.graph.attempts == [] and await redis.keys("samvad:inbox:*") == []


async def test_list_rows_with_long_payloads_come_back_as_the_payload(make_whatsapp_gateway, redis) -> None:
    from bot.app import WHATSAPP
    from bot.models import Button, Channel, OutboundMessage

    gw = await make_whatsapp_gateway(rasa_timeout_s=1.0)
    wa_id = voter()
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.text("/help"))))
    await gw.idle()
    payload = "/inform" + json.dumps({"constituency": "Patna Sahib", "note": "x" * 250})
    buttons = [Button(title=f"विकल्प {n}", payload=f"/option_{n}") for n in range(4)] + [
        Button(title="Patna Sahib (Bihar), the long way round", payload=payload)
    ]
    await gw.app[WHATSAPP].send(OutboundMessage(channel=Channel.WHATSAPP, chat_id=wa_id, text="चुनिए", buttons=buttons))
    interactive = gw.graph.to(wa_id)[-1].body["interactive"]
    assert interactive["type"] == "list"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [len(r["title"]) <= 24 for r in rows] == [True] * 5 and len(rows[4]["id"]) <= 200
    assert rows[4]["description"].startswith("Patna Sahib (Bihar)")
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.list_reply(rows[4]["id"], rows[4]["title"]))))
    await gw.idle()
    held = [json.loads(raw)["text"] for raw in await redis.lrange(keys.RETRY, 0, -1)]
    assert held == [payload]


def test_some_but_not_all_whatsapp_settings_stop_start_up_naming_what_is_missing() -> None:
    with pytest.raises(ValueError, match="WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN"):
        Settings(whatsapp_access_token="t", whatsapp_phone_number_id="1")  # type: ignore[arg-type]
    assert not Settings().whatsapp_enabled


async def test_without_whatsapp_settings_the_route_is_404(make_gateway) -> None:
    gw = await make_gateway()
    assert (await gw.client.get("/whatsapp/webhook")).status == 404
    assert (await gw.client.post("/whatsapp/webhook", data=b"{}")).status == 404

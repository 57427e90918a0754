"""The Telegram webhook route and channel, without Rasa: secrets, bad bodies, odd updates, Rasa down."""

from __future__ import annotations

import asyncio
import json
import random

from bot import keys
from bot.app import ROUTER
from bot.language import Language, detect
from bot.redis_client import stream_entries
from tests.conftest import WEBHOOK_SECRET
from tests.helpers.telegram_api import callback_update, text_update


def chat() -> int:
    return random.randint(10_000_000, 99_999_999)


async def test_wrong_or_missing_secret_is_403_and_nothing_is_stored(make_gateway, redis) -> None:
    gw = await make_gateway()
    update = text_update(1, chat(), "नमस्ते")
    for secret in ("wrong-secret", "", None):
        resp = await gw.post_update(update, secret=secret)
        assert resp.status == 403
    ignored = ("samvad:handoff:", "samvad:maintenance:")  # empty queues, the maintenance lease
    stored = [k for k in await redis.keys("samvad:*") if not k.startswith(ignored)]
    assert stored == []


async def test_malformed_body_is_400_without_traceback(make_gateway) -> None:
    gw = await make_gateway()
    headers = {"X-Telegram-Bot-Api-Secret-Token": "test-secret-xxxxxxxx", "Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2, 3]", b'{"message": {}}', b'"text"', b"\xff\xfe"):
        resp = await gw.client.post("/telegram/webhook", data=body, headers=headers)
        text = await resp.text()
        assert resp.status == 400, body
        assert "Traceback" not in text and json.loads(text)["ok"] is False


async def test_photo_gets_a_polite_answer_in_the_voters_language(make_gateway) -> None:
    gw = await make_gateway()
    voter = chat()
    await gw.post_update(text_update(10, voter, "/help"))  # first contact: commands set no language, Hindi default
    photo = text_update(11, voter, "")
    del photo["message"]["text"]  # type: ignore[attr-defined]
    photo["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]  # type: ignore[index]
    assert (await gw.post_update(photo)).status == 200
    await gw.idle()
    texts = gw.telegram.texts_to(voter)
    assert len(texts) == 2
    assert detect(texts[1]) is Language.HI and "/language" in texts[0]


async def test_edited_messages_and_channel_posts_are_ignored(make_gateway) -> None:
    gw = await make_gateway()
    voter = chat()
    edited = {"update_id": 20, "edited_message": text_update(20, voter, "edited")["message"]}
    edited["edited_message"]["edit_date"] = 1  # type: ignore[index]
    post = {
        "update_id": 21,
        "channel_post": {**text_update(21, -100123, "news")["message"], "chat": {"id": -100123, "type": "channel"}},
    }
    for update in (edited, post):
        assert (await gw.post_update(update)).status == 200
    await gw.idle()
    assert gw.telegram.sent == []


async def test_group_chat_is_told_to_write_privately_only_when_addressed(make_gateway) -> None:
    gw = await make_gateway()
    group = -chat()
    chatter = text_update(30, group, "kal match kab hai")
    chatter["message"]["chat"] = {"id": group, "type": "group", "title": "g"}  # type: ignore[index]
    addressed = text_update(31, group, "@samvad_test_bot booth kahan hai")
    addressed["message"]["chat"] = {"id": group, "type": "group", "title": "g"}  # type: ignore[index]
    await gw.post_update(chatter)
    await gw.post_update(addressed)
    await gw.idle()
    texts = gw.telegram.texts_to(group)
    assert len(texts) == 1 and detect(texts[0]) is Language.HI


async def test_rasa_down_gives_apology_once_and_holds_every_message(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    voter = chat()
    await gw.post_update(text_update(40, voter, "where is my polling booth"))
    await gw.post_update(text_update(41, voter, "my epic is ABC1234567"))
    await gw.idle()
    texts = gw.telegram.texts_to(voter)
    assert len(texts) == 1 and detect(texts[0]) is Language.EN and "1950" in texts[0]
    held = [json.loads(raw)["text"] for raw in await redis.lrange(keys.RETRY, 0, -1)]
    assert held == ["where is my polling booth", "my epic is ABC1234567"]


async def test_duplicate_delivery_is_stored_once(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    voter = chat()
    update = text_update(50, voter, "hello")
    first, second = await gw.post_update(update), await gw.post_update(update)
    assert first.status == second.status == 200
    assert (await second.json()).get("duplicate") is True
    await gw.idle()
    assert await redis.llen(keys.RETRY) == 1


async def test_long_button_payload_survives_telegrams_64_byte_limit(make_gateway, redis) -> None:
    from bot.models import Button, Channel, OutboundMessage

    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    voter = chat()
    payload = '/inform{"constituency": "Patna Sahib", "state": "Bihar", "pin_code": "800001"}'
    channel = gw.app[__import__("bot.app", fromlist=["TELEGRAM"]).TELEGRAM]
    await channel.send(
        OutboundMessage(
            channel=Channel.TELEGRAM, chat_id=str(voter), text="x", buttons=[Button(title="t", payload=payload)]
        )
    )
    data = gw.telegram.sent[-1].reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    assert len(data.encode()) <= 64 and data != payload
    await gw.post_update(callback_update(60, voter, data))
    await gw.idle()
    held = [json.loads(raw)["text"] for raw in await redis.lrange(keys.RETRY, 0, -1)]
    assert held == [payload]


# --- updates that used to loop or fail (issue 14, items 8 and 10) ------------------------------------------


async def test_a_lone_surrogate_is_stored_not_refused_forever(make_gateway, redis) -> None:
    """Redis cannot store a lone surrogate: the update got 503, and Telegram resent it forever."""
    gw = await make_gateway()
    voter = chat()
    body = json.dumps(text_update(random.randint(1, 10**9), voter, "booth \ud800 kahan hai"))
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    resp = await gw.client.post("/telegram/webhook", data=body, headers=headers)
    assert resp.status == 200
    await gw.idle()
    turns = [json.loads(t) for t in await redis.lrange(keys.transcript(f"tg:{voter}"), 0, -1)]
    assert turns[0]["text"] == "booth \ufffd kahan hai"


async def test_an_update_that_always_fails_is_kept_and_acknowledged(make_gateway, redis, monkeypatch) -> None:
    gw = await make_gateway()

    async def broken(*_: object, **__: object) -> bool:
        raise ValueError("fails the same way every time")

    monkeypatch.setattr(gw.app[ROUTER], "accept", broken)
    await redis.xadd(keys.DEAD_LETTERS, {"conversation_id": "tg:1", "raw": "{}"})  # an earlier dead letter
    update = text_update(random.randint(1, 10**9), chat(), "hello")
    resp = await gw.post_update(update)
    assert resp.status == 200  # not 503: Telegram would resend it forever
    [_, (_, kept)] = stream_entries(await redis.xrange(keys.DEAD_LETTERS))
    assert json.loads(kept["raw"])["telegram_update"]["update_id"] == update["update_id"]
    assert kept["conversation_id"] == ""  # shown to supervisors, never replayed into an inbox
    assert (await gw.client.get("/healthz")).status == 200


async def test_a_flooding_voter_is_told_once_to_slow_down(make_gateway, redis) -> None:
    gw = await make_gateway(voter_messages_per_window=3)
    voter = chat()
    for n in range(10):
        assert (await gw.post_update(text_update(random.randint(1, 10**9), voter, f"spam {n}"))).status == 200
    await gw.idle()
    turns = [json.loads(t) for t in await redis.lrange(keys.transcript(f"tg:{voter}"), 0, -1)]
    assert [t["text"] for t in turns if t["who"] == "voter"] == ["spam 0", "spam 1", "spam 2"]
    for _ in range(50):
        if any("रुककर" in t for t in gw.telegram.texts_to(voter)):
            break
        await asyncio.sleep(0.1)
    slow_downs = [t for t in gw.telegram.texts_to(voter) if "रुककर" in t]
    assert len(slow_downs) == 1 and "one at a time" in slow_downs[0]


async def test_an_update_dated_beyond_any_clock_is_400_not_500(make_gateway) -> None:
    """Found by the fuzzer: PTB turns the date into a datetime, which raised OSError (Errno 75) and gave a 500."""
    gw = await make_gateway()
    update = text_update(1, chat(), "नमस्ते")
    update["message"]["date"] = 72057593995984896  # type: ignore[index]
    resp = await gw.post_update(update)
    assert resp.status == 400
    ok = await gw.post_update(text_update(2, chat(), "नमस्ते"))
    assert ok.status == 200  # and the gateway keeps serving

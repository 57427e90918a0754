"""Supervisors see dead letters masked, and replay or discard each (bot/console/dead_letters.py)."""

from __future__ import annotations

from bot import keys
from bot.app import ROUTER
from bot.deadletters import DeadKind
from bot.models import Channel, InboundMessage
from tests.test_console import PASSWORD, client, login  # noqa: F401  (the fixture)

ORIGIN = {"Origin": "http://127.0.0.1:8080"}


async def test_dead_letters_are_masked_replayable_and_for_supervisors_only(client, redis) -> None:  # noqa: F811
    router = client.server.app[ROUTER]
    message = InboundMessage(channel=Channel.TELEGRAM, chat_id="5556001", text="मेरा EPIC ABC1234567 है, 9876543210")
    await router.store.arrive(message, message.text)
    entry = await router.dead.record(
        DeadKind.INBOUND, message.conversation_id, raw=message.model_dump_json(), text=message.text, reason="boom"
    )
    await login(client, "asha")
    assert (await client.get("/console/api/dead-letters")).status == 403
    await client.post("/console/api/logout", headers=ORIGIN)
    await login(client, "meera")
    listed = await (await client.get("/console/api/dead-letters")).json()
    [shown] = listed["inbound"]
    assert shown["id"] == entry and shown["reason"] == "boom"
    assert "ABC1234567" not in str(listed) and "9876543210" not in str(listed)

    bad = await client.post(f"/console/api/dead-letters/inbound/{entry}/explode", headers=ORIGIN, json={})
    assert bad.status == 400
    missing = await client.post("/console/api/dead-letters/outbound/1-0/discard", headers=ORIGIN, json={})
    assert missing.status == 404
    replayed = await client.post(f"/console/api/dead-letters/inbound/{entry}/replay", headers=ORIGIN, json={})
    assert replayed.status == 200
    await router.lanes.wait_idle()
    assert await redis.xlen(keys.DEAD_LETTERS) == 0  # replayed: out of the list, into the voter's inbox and handled
    assert (await router.store.transcript(message.conversation_id))[-1]["who"] == "bot"


async def test_dead_letters_expire(redis) -> None:
    from bot.deadletters import DeadLetters

    dead = DeadLetters(redis, ttl_s=3600)
    await redis.xadd(keys.OUTBOUND_DEAD, {"conversation_id": "tg:1", "text": "old"}, id="1000-0")  # 1970
    await dead.record(DeadKind.OUTBOUND, "tg:2", text="new", reason="x")
    assert [e["text"] for e in await dead.list(DeadKind.OUTBOUND)] == ["new"]

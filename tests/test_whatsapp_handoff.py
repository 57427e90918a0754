"""Hand-off on WhatsApp through the console: the agent's reply goes out on WhatsApp, or is refused after 24 h."""

from __future__ import annotations

from bot import keys
from bot.app import ROUTER
from bot.console.accounts import Accounts, Role
from bot.handoff import HandoffReason, HandoffSignal
from tests.helpers import graph_api as wa

PASSWORD = "correct horse battery"


async def _queued_voter(gw, redis, wa_id: str) -> str:  # type: ignore[no-untyped-def]
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.text("/help"))))
    await gw.idle()
    conv = f"wa:{wa_id}"
    router = gw.app[ROUTER]
    profile = await router.store.get(conv)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, topic="greet", language="hi"))
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=2)
    assert (await gw.client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})).status == 200
    taken = await (await gw.client.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == conv, taken
    return conv


async def test_an_agents_reply_reaches_the_voter_on_whatsapp(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = "919811100001"
    conv = await _queued_voter(gw, redis, wa_id)
    sent = await gw.client.post(f"/console/api/chats/{conv}/messages", json={"text": "नमस्ते, मैं आशा हूँ।"})
    assert sent.status == 200
    assert gw.graph.texts_to(wa_id)[-1] == "नमस्ते, मैं आशा हूँ।"


async def test_after_24_hours_the_agent_is_told_the_window_is_closed(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = "919811100002"
    conv = await _queued_voter(gw, redis, wa_id)
    before = len(gw.graph.attempts)
    await redis.delete(keys.whatsapp_window(conv))  # as if the voter's last message were a day old
    refused = await gw.client.post(f"/console/api/chats/{conv}/messages", json={"text": "कोई और सवाल?"})
    assert refused.status == 409 and "window_closed" in (await refused.json())["error"]
    assert len(gw.graph.attempts) == before


async def test_closing_after_24_hours_still_hands_the_voter_back_to_the_assistant(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = "919811100003"
    conv = await _queued_voter(gw, redis, wa_id)
    await redis.delete(keys.whatsapp_window(conv))
    closed = await gw.client.post(f"/console/api/chats/{conv}/close", json={"disposition": "resolved"})
    assert closed.status == 200
    assert await redis.hget(keys.voter(conv), "mode") == "bot"

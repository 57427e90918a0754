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


async def test_a_voice_note_from_a_held_voter_reaches_the_agent_and_only_the_agent(
    make_whatsapp_gateway, redis
) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = "919811100004"
    conv = await _queued_voter(gw, redis, wa_id)
    gw.graph.media_files["media-voice-1"] = (b"OggS-fake-opus-bytes", "audio/ogg; codecs=opus")
    before = len(gw.graph.texts_to(wa_id))
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.voice("media-voice-1"))))
    await gw.idle()
    assert len(gw.graph.texts_to(wa_id)) == before  # no "we cannot read voice notes" while a person holds it
    chat = await (await gw.client.get(f"/console/api/chats/{conv}")).json()
    media_turns = [t for t in chat["transcript"] if t.get("media")]
    assert len(media_turns) == 1, chat["transcript"]
    [turn] = media_turns
    assert turn["media"]["type"] == "audio" and turn["media"]["media_id"] == "media-voice-1"

    played = await gw.client.get(f"/console/api/chats/{conv}/media/media-voice-1")
    assert played.status == 200 and played.content_type == "audio/ogg"
    assert await played.read() == b"OggS-fake-opus-bytes"
    assert played.headers["Cache-Control"] == "no-store"
    # A media id this voter never sent, and another agent, get nothing.
    assert (await gw.client.get(f"/console/api/chats/{conv}/media/someone-elses")).status == 404
    await Accounts(redis).add("ravi", PASSWORD, role=Role.AGENT, languages=["hi"])
    await gw.client.post("/console/api/logout", json={})
    assert (await gw.client.post("/console/api/login", json={"name": "ravi", "password": PASSWORD})).status == 200
    assert (await gw.client.get(f"/console/api/chats/{conv}/media/media-voice-1")).status == 403


async def test_in_bot_mode_a_voice_note_gets_the_polite_answer(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = "919811100005"
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.voice("media-voice-2"))))
    await gw.idle()
    assert gw.graph.texts_to(wa_id), "the voter heard nothing"


async def test_after_the_window_closed_the_agent_may_send_the_approved_follow_up_template(
    make_whatsapp_gateway, redis
) -> None:
    gw = await make_whatsapp_gateway(whatsapp_followup_template="question_followup", org_name="Voter Help Desk")
    wa_id = "919811100006"
    conv = await _queued_voter(gw, redis, wa_id)
    await redis.delete(keys.whatsapp_window(conv))  # as if the voter's last message were a day old
    refused = await gw.client.post(f"/console/api/chats/{conv}/messages", json={"text": "कोई और सवाल?"})
    body = await refused.json()
    assert refused.status == 409 and body["template_available"] is True
    sent = await gw.client.post(f"/console/api/chats/{conv}/template", json={})
    assert sent.status == 200, await sent.text()
    last = gw.graph.to(wa_id)[-1].body
    assert last["type"] == "template" and last["template"]["name"] == "question_followup"
    assert last["template"]["language"] == {"code": "hi"}
    assert last["template"]["components"][0]["parameters"] == [{"type": "text", "text": "Voter Help Desk"}]
    assert (await gw.app[ROUTER].store.transcript(conv))[-1]["text"] == "[template: question_followup]"


async def test_without_a_follow_up_template_the_agent_is_only_told(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = "919811100007"
    conv = await _queued_voter(gw, redis, wa_id)
    await redis.delete(keys.whatsapp_window(conv))
    refused = await gw.client.post(f"/console/api/chats/{conv}/messages", json={"text": "?"})
    assert (await refused.json())["template_available"] is False
    assert (await gw.client.post(f"/console/api/chats/{conv}/template", json={})).status == 409

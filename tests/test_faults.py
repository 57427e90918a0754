"""Fault tests across the gateway (issue 14, "Prove it"): a web-chat tab closed mid-reply, and the console's
shared pub/sub connection dropped while an agent is connected."""

from __future__ import annotations

import asyncio
import time

import pytest

import bot.console.api
from bot import keys
from bot.app import ROUTER
from bot.channels.webchat import voter_id
from bot.console.accounts import Accounts, Role
from bot.handoff import HandoffReason, HandoffSignal
from bot.models import Channel, OutboundMessage, conversation_id
from tests.conftest import ACTIONS_DB, redis_url
from tests.helpers.telegram_api import text_update
from tests.helpers.voters import enqueue
from tests.test_webchat import ORIGIN, open_chat

PASSWORD = "correct horse battery"


async def test_a_tab_closed_mid_reply_loses_nothing_and_the_reply_is_in_the_history(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    ws, secret, _ = await open_chat(gw.client)
    chat_id = voter_id(secret)
    await ws.send_json({"type": "message", "text": "मेरा बूथ कहाँ है", "id": "m1"})
    assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "ack"
    await gw.idle()
    channel = gw.app[ROUTER].outbox.senders[Channel.WEBCHAT]
    closing = asyncio.create_task(ws.close())  # the tab goes away while the gateway writes to it
    await channel.send(OutboundMessage(channel=Channel.WEBCHAT, chat_id=chat_id, text="a reply mid-close"))
    await closing
    conv = conversation_id(Channel.WEBCHAT, chat_id)
    await gw.app[ROUTER].agent_says(conv, "asha", "जवाब: आपका बूथ")  # and a reply while no tab is open
    assert await redis.xlen(keys.OUTBOUND_DEAD) == 0  # nothing failed: the web chat keeps replies for later
    ws, _, turns = await open_chat(gw.client, secret)
    assert [t["text"] for t in turns][-1] == "जवाब: आपका बूथ"
    await ws.close()


async def test_a_dropped_console_subscription_does_not_put_the_agents_chats_back_in_the_queue(
    make_gateway, redis, monkeypatch
) -> None:
    monkeypatch.setattr(bot.console.api, "HEARTBEAT_S", 0.2)
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, agent_abandon_after_s=1.0)
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=2)
    conversations = gw.app[ROUTER].conversations
    await enqueue(conversations, "tg:5557001", HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
    http = gw.client
    assert (await http.post("/console/api/login", json={"name": "asha", "password": PASSWORD})).status == 200
    taken = await (await http.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == "tg:5557001"
    ws = await http.ws_connect("/console/ws", headers={"Origin": ORIGIN})
    assert (await ws.receive_json())["type"] == "queues"

    killed = await redis.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    assert killed >= 1
    await asyncio.sleep(2.5)  # past agent_abandon_after_s, with the janitor running every quarter of it
    held = await conversations.assignment("tg:5557001")
    assert held is not None and held.agent == "asha"
    assert await redis.hget(keys.voter("tg:5557001"), "mode") == "agent"
    # The subscription came back by itself: events reach the agent again.
    for _ in range(50):
        event = '{"type": "voter_message", "conversation_id": "tg:5557001", "text": "x"}'
        await redis.publish(keys.CONSOLE_EVENTS, event)
        try:
            seen = await asyncio.wait_for(ws.receive_json(), 0.2)
        except TimeoutError:
            continue
        if seen.get("type") == "voter_message":
            break
    else:
        pytest.fail("no event reached the agent after the subscription was dropped")
    await ws.close()


@pytest.mark.rasa
async def test_with_the_action_server_down_the_voter_hears_an_apology_and_the_assistant_recovers(
    make_gateway, rasa_stack, action_server, redis
) -> None:
    """Rasa answers 200 with its own apology when a custom action cannot run, so the gateway cannot hold that
    message for later (docs/security.md); the voter is told, nothing crashes, and the next message works."""
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"])
    voter = 5557100 + int(time.time()) % 1000
    action_server.stop("actions")
    await gw.post_update(text_update(1, voter, "where is my polling booth"))
    await gw.idle()
    during = gw.telegram.texts_to(voter)
    assert during, "the voter heard nothing while the action server was down"
    assert await redis.xlen(keys.DEAD_LETTERS) == 0
    port = int(rasa_stack["actions_url"].rsplit(":", 1)[1])
    await asyncio.to_thread(action_server.start_actions, port, redis_url(ACTIONS_DB))
    await gw.post_update(text_update(2, voter, "where is my polling booth"))
    await gw.idle()
    after = gw.telegram.texts_to(voter)[len(during) :]
    assert any("EPIC" in text for text in after), after  # the form runs again: the action server answered

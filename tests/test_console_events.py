"""Console events between gateways: a voter writes through one replica, the agent's console is open on another.

Runs on standalone Redis and on a Redis Cluster (sharded pub/sub there; tests/conftest.py CLUSTER_MODULES).
"""

from __future__ import annotations

import asyncio

from bot.console.accounts import Accounts, Role
from bot.conversation import Conversations
from bot.handoff import HandoffReason, HandoffSignal
from tests.helpers.telegram_api import text_update
from tests.helpers.voters import enqueue

PASSWORD = "correct horse battery"


async def test_a_voter_message_on_one_gateway_reaches_the_console_on_another(make_gateway, redis) -> None:
    voter = 5558001
    conversation = f"tg:{voter}"
    first = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    second = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"])
    await first.post_update(text_update(1, voter, "namaste"))  # the voter exists
    await first.idle()
    conversations = Conversations(redis)
    await enqueue(conversations, conversation, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
    assert (await conversations.take_next("asha", ["hi"])) is not None

    console = second.client
    assert (await console.post("/console/api/login", json={"name": "asha", "password": PASSWORD})).status == 200
    ws = await console.ws_connect("/console/ws", headers={"Origin": "http://127.0.0.1:8080"})
    try:
        assert (await ws.receive_json(timeout=10))["type"] == "queues"
        await asyncio.sleep(0.5)  # the replica's listener is subscribed before the voter writes
        await first.post_update(text_update(2, voter, "मेरा बूथ कहाँ है"))
        await first.idle()
        while True:
            event = await ws.receive_json(timeout=10)
            if event.get("type") == "voter_message":
                break
        assert event["conversation_id"] == conversation and event["text"] == "मेरा बूथ कहाँ है"
    finally:
        await ws.close()

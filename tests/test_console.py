"""The agent console: accounts, sessions, roles, and the API flow on the real app and Redis."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.app import ROUTER, create_app
from bot.console.accounts import Accounts, Role
from bot.conversation import Conversations
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.queue import HandoffQueue
from bot.models import Channel, InboundMessage
from tests.conftest import make_settings
from tests.helpers.voters import enqueue

PASSWORD = "correct horse battery"
ORIGIN = "http://127.0.0.1:8080"  # PUBLIC_URL in tests/conftest.py: the console's page
API = [
    ("GET", "/console/api/me"),
    ("POST", "/console/api/presence"),
    ("GET", "/console/api/queues"),
    ("POST", "/console/api/take"),
    ("GET", "/console/api/chats/tg:1"),
    ("POST", "/console/api/chats/tg:1/messages"),
    ("POST", "/console/api/chats/tg:1/close"),
    ("POST", "/console/api/chats/tg:1/transfer"),
    ("GET", "/console/api/canned"),
    ("GET", "/console/api/supervisor"),
]


@pytest.fixture
async def client(redis):  # type: ignore[no-untyped-def]
    accounts = Accounts(redis)
    await accounts.add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=1)
    await accounts.add("meera", PASSWORD, role=Role.SUPERVISOR, languages=["hi", "en"])
    app = create_app(make_settings(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0))
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Origin": ORIGIN}) as client:
        yield client


async def login(client, name: str = "asha"):  # type: ignore[no-untyped-def]
    resp = await client.post("/console/api/login", json={"name": name, "password": PASSWORD})
    assert resp.status == 200
    return resp


async def test_every_api_needs_a_session(client) -> None:
    for method, path in API:
        resp = await client.request(method, path, json={})
        assert resp.status == 401, (method, path)


async def test_session_cookie_is_httponly_and_samesite(client) -> None:
    resp = await login(client)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie


async def test_supervisor_view_is_403_for_an_agent_and_200_for_a_supervisor(client) -> None:
    await login(client, "asha")
    assert (await client.get("/console/api/supervisor")).status == 403
    await client.post("/console/api/logout", json={})
    await login(client, "meera")
    resp = await client.get("/console/api/supervisor")
    body = await resp.json()
    assert resp.status == 200 and {a["name"] for a in body["agents"]} == {"asha", "meera"}


async def test_password_guessing_is_throttled(client) -> None:
    statuses = [
        (await client.post("/console/api/login", json={"name": "asha", "password": f"guess-{n}"})).status
        for n in range(7)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    # Even the right password waits out the window now.
    right = await client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})
    assert right.status == 429


async def test_disabled_agent_cannot_log_in(client, redis) -> None:
    await Accounts(redis).set_disabled("asha", True)
    resp = await client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})
    assert resp.status == 401


async def test_take_chat_reply_and_close_through_the_api(client, redis) -> None:
    conv = "web:voter-console-1"
    store_msg = InboundMessage(channel=Channel.WEBCHAT, chat_id="voter-console-1", text="मुझे इंसान से बात करनी है")
    router = client.server.app[ROUTER]
    profile = await router.store.arrive(store_msg, store_msg.text)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, topic="greet", language="hi"))

    await login(client, "asha")
    queues = await (await client.get("/console/api/queues")).json()
    assert queues["queues"]["hi"]["depth"] == 1
    taken = await (await client.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == conv
    assert taken["chat"]["transcript"][0]["text"] == "मुझे इंसान से बात करनी है"
    # Capacity 1: a second take is refused.
    assert (await client.post("/console/api/take", json={})).status == 409

    sent = await client.post(f"/console/api/chats/{conv}/messages", json={"text": "नमस्ते, मैं आशा हूँ।"})
    assert sent.status == 200
    turns = await router.store.transcript(conv)
    assert turns[-1]["who"] == "agent" and turns[-1]["text"] == "नमस्ते, मैं आशा हूँ।"

    assert (await client.post(f"/console/api/chats/{conv}/close", json={"disposition": "nope"})).status == 400
    closed = await client.post(f"/console/api/chats/{conv}/close", json={"disposition": "resolved"})
    assert closed.status == 200
    assert await redis.hget(keys.voter(conv), "mode") == "bot"
    # Rasa is down in this test: the resume waits for the voter's next message.
    assert (await router.store.get(conv)).resume_pending
    assert (await router.store.transcript(conv))[-1]["who"] == "bot"  # the welcome-back text
    assert await HandoffQueue(redis).depth("hi") == 0
    await client.post("/console/api/logout", json={})
    await login(client, "meera")
    today = (await (await client.get("/console/api/supervisor")).json())["today"]
    assert today["handled"] == 1 and today["dispositions"] == {"resolved": 1}


async def test_another_agents_chat_is_403(client, redis) -> None:
    queue = Conversations(redis)
    await enqueue(queue, "tg:77", HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
    await queue.take_next("meera", ["hi"])
    await login(client, "asha")
    assert (await client.get("/console/api/chats/tg:77")).status == 403
    assert (await client.post("/console/api/chats/tg:77/messages", json={"text": "hi"})).status == 403


async def test_console_websocket_checks_origin_and_session(client) -> None:
    from aiohttp import WSServerHandshakeError

    with pytest.raises(WSServerHandshakeError) as no_session:
        await client.ws_connect("/console/ws", headers={"Origin": "http://127.0.0.1:8080"})
    assert no_session.value.status == 401
    await login(client)
    with pytest.raises(WSServerHandshakeError) as foreign:
        await client.ws_connect("/console/ws", headers={"Origin": "https://evil.example"})
    assert foreign.value.status == 403
    ws = await client.ws_connect("/console/ws", headers={"Origin": "http://127.0.0.1:8080"})
    first = await ws.receive_json()
    assert first["type"] == "queues"
    await ws.close()


async def test_call_back_requests_are_listed_and_marked_once(client, redis) -> None:
    import json as _json

    transcript = _json.dumps([{"who": "voter", "text": "<b>कॉल करो</b>"}], ensure_ascii=False)
    entry = await redis.xadd(
        keys.CALLBACKS,
        {
            "conversation_id": "tg:9",
            "phone": "+919876543210",
            "language": "hi",
            "topic": "find_polling_station",
            "transcript": transcript,
            "requested_at": "1764400000",
        },
    )
    await login(client)
    listed = (await (await client.get("/console/api/callbacks")).json())["callbacks"]
    assert [(c["id"], c["phone"], c["transcript"][0]["text"]) for c in listed] == [
        (entry, "+919876543210", "<b>कॉल करो</b>")
    ]
    assert (await client.post(f"/console/api/callbacks/{entry}", json={"status": "maybe"})).status == 400
    assert (await client.post(f"/console/api/callbacks/{entry}", json={"status": "done"})).status == 200
    again = await client.post(f"/console/api/callbacks/{entry}", json={"status": "failed"})
    assert again.status in (404, 409)
    assert (await (await client.get("/console/api/callbacks")).json())["callbacks"] == []
    status = await redis.hgetall(keys.callback_status(entry))
    assert status["status"] == "done" and status["by"] == "asha"
    assert "9876543210" not in str(await redis.xrange(keys.CALLBACKS)) + str(status)  # number gone after the call

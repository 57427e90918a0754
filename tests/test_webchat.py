"""The web chat: websocket rules, and the page in a real headless Chromium against a real Rasa."""

from __future__ import annotations

import asyncio
import json
import shutil

import aiohttp
import pytest
import redis.asyncio as aioredis
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.app import ROUTER, create_app
from bot.channels.webchat import voter_id
from bot.devstack import free_port
from bot.models import Channel, conversation_id
from bot.settings import ROOT
from tests.conftest import make_settings

ORIGIN = "http://127.0.0.1:8080"


@pytest.fixture
async def client(redis):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def open_chat(client, secret: str | None = None):  # type: ignore[no-untyped-def]
    """A browser tab: connect, say hello (with the stored secret, if any), read the history."""
    ws = await client.ws_connect("/webchat/ws", headers={"Origin": ORIGIN})
    await ws.send_json({"type": "hello", "secret": secret})
    frame = await ws.receive_json()
    if frame["type"] == "identity":
        secret = frame["secret"]
        frame = await ws.receive_json()
    assert frame["type"] == "history"
    return ws, secret, frame["turns"]


async def test_websocket_refuses_foreign_origin_and_bad_voter_id(client) -> None:
    with pytest.raises(WSServerHandshakeError) as foreign:
        await client.ws_connect("/webchat/ws", headers={"Origin": "https://evil.example"})
    assert foreign.value.status == 403
    with pytest.raises(WSServerHandshakeError) as bad_id:
        await client.ws_connect("/webchat/ws?voter=<script>", headers={"Origin": ORIGIN})
    assert bad_id.value.status == 400


async def test_bad_frames_get_a_clear_error_and_the_socket_stays_open(client) -> None:
    ws, _, _ = await open_chat(client)
    for frame in ("not json", "[1]", '{"type": "message"}'):
        await ws.send_str(frame)
        reply = await ws.receive_json()
        assert reply["type"] == "error" and reply["error"]
    await ws.send_json({"type": "message", "text": "hello"})  # still usable; Rasa is down here
    reply = await asyncio.wait_for(ws.receive_json(), 10)
    assert reply["type"] == "message" and "1950" in reply["text"]
    await ws.close()


async def test_huge_frame_closes_the_socket_without_harm(client) -> None:
    ws, _, _ = await open_chat(client)
    await ws.send_json({"type": "message", "text": "x" * 200_000})
    closed = await asyncio.wait_for(ws.receive(), 10)
    assert closed.type.name in ("CLOSE", "CLOSED", "CLOSING")
    health = await client.get("/healthz")
    assert health.status == 200


async def test_page_is_served_as_utf8_html(client) -> None:
    resp = await client.get("/chat")
    assert resp.status == 200 and "मतदाता" in await resp.text()


@pytest.mark.rasa
@pytest.mark.browser
async def test_english_message_in_the_browser_gets_an_english_reply_and_survives_reload(redis, rasa_stack) -> None:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    port = free_port()  # the page's origin must be PUBLIC_URL: the Host header is not trusted
    app = create_app(make_settings(rasa_url=rasa_stack["rasa_url"], public_url=f"http://127.0.0.1:{port}"))
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            )
            page = await browser.new_page()
            await page.goto(f"{base}/chat")
            await page.fill("#text", "which documents can I carry to the polling booth?")
            await page.click("button[type=submit]")
            bot = page.locator(".msg--bot")
            await bot.first.wait_for(timeout=30_000)
            reply = await bot.first.inner_text()
            assert reply and not any(0x0900 <= ord(ch) < 0x0980 for ch in reply), reply

            await page.reload()
            await page.locator(".msg--voter").first.wait_for(timeout=10_000)
            assert "which documents" in await page.locator(".msg--voter").first.inner_text()

            await page.fill("#text", "नमस्ते")
            await page.click("button[type=submit]")
            await page.wait_for_function(
                "() => [...document.querySelectorAll('.msg--bot')].some(e => /[\\u0900-\\u097F]/.test(e.textContent))",
                timeout=30_000,
            )
            (ROOT / ".run").mkdir(exist_ok=True)
            await page.screenshot(path=str(ROOT / ".run" / "webchat.png"))
            await browser.close()
    finally:
        await server.close()


# --- identity, acknowledgements and hostile frames (issue 14, items 3, 5, 8, 9 and 10) -----------------------


async def test_the_gateway_issues_the_identity_and_shows_only_its_digest(client, redis) -> None:
    ws, secret, _ = await open_chat(client)
    assert secret and len(secret) == 43
    await ws.send_json({"type": "message", "text": "hello", "id": "m1"})
    assert (await asyncio.wait_for(ws.receive_json(), 10)) == {"type": "ack", "id": "m1"}
    await client.server.app[ROUTER].lanes.wait_idle()
    await ws.close()
    conv = conversation_id(Channel.WEBCHAT, voter_id(secret))
    assert await redis.exists(keys.voter(conv))
    stored = " ".join([k async for k in redis.scan_iter(match="samvad:*")])
    assert secret not in stored  # the secret is nowhere in Redis; the id agents see is its digest
    # A reload with the secret continues the conversation, with its history.
    ws, again, turns = await open_chat(client, secret)
    assert again == secret and any(t["text"] == "hello" for t in turns)
    await ws.close()


async def test_an_id_seen_by_agents_does_not_open_the_conversation(client, redis) -> None:
    """The browser-made voter id was the only credential, and every agent saw it."""
    ws, secret, _ = await open_chat(client)
    await ws.send_json({"type": "message", "text": "mera naam Priya", "id": "m1"})
    await asyncio.wait_for(ws.receive_json(), 10)
    await ws.close()
    seen_by_agents = voter_id(secret)
    with pytest.raises(WSServerHandshakeError):  # the old way in, through the query string
        await client.ws_connect(f"/webchat/ws?voter={seen_by_agents}", headers={"Origin": ORIGIN})
    ws, other, turns = await open_chat(client, seen_by_agents)  # not a secret: a new conversation is issued
    assert other != seen_by_agents and turns == []
    await ws.close()


async def test_ids_with_a_trailing_newline_are_refused_even_when_legacy_ids_are_on(redis) -> None:
    app = create_app(make_settings(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, webchat_legacy_ids=True))
    async with TestClient(TestServer(app, host="127.0.0.1")) as legacy:
        with pytest.raises(WSServerHandshakeError) as refused:
            await legacy.ws_connect("/webchat/ws?voter=abcdefgh12%0A", headers={"Origin": ORIGIN})
        assert refused.value.status == 400
        ws = await legacy.ws_connect("/webchat/ws?voter=abcdefgh12", headers={"Origin": ORIGIN})
        assert (await ws.receive_json())["type"] == "history"  # an older browser's conversation goes on
        await ws.close()


async def test_the_host_header_does_not_make_an_origin_trusted(client) -> None:
    """DNS rebinding: the attacker's name points at the gateway, so Host and Origin agree."""
    host = f"rebind.example:{client.server.port}"
    with pytest.raises(WSServerHandshakeError) as refused:
        await client.ws_connect("/webchat/ws", headers={"Origin": f"http://{host}", "Host": host})
    assert refused.value.status == 403


async def test_a_resent_message_is_stored_once(client, redis) -> None:
    ws, secret, _ = await open_chat(client)
    for _ in range(3):
        await ws.send_json({"type": "message", "text": "booth kahan hai", "id": "same-id"})
        while (await asyncio.wait_for(ws.receive_json(), 10))["type"] != "ack":
            pass  # "we are having trouble" (Rasa is down here)
    await ws.close()
    await client.server.app[ROUTER].lanes.wait_idle()
    turns = [json.loads(t) for t in await redis.lrange(keys.transcript(f"web:{voter_id(secret)}"), 0, -1)]
    assert [t["text"] for t in turns if t["who"] == "voter"] == ["booth kahan hai"]


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "message", "text": "\\ud800 lone surrogate", "id": "s1"}',
        "[" * 30_000 + "]" * 30_000,  # as deep as a 64 KB frame holds
        '{"type": "message", "text": "x", "id": "bad id\\n"}',
        '{"type": "message", "text": "' + "a@" * 30_000 + '"}',
    ],
    ids=["lone-surrogate", "deep-json", "bad-client-id", "regex-bomb"],
)
async def test_hostile_frames_get_an_answer_and_the_gateway_keeps_serving(client, frame: str) -> None:
    ws, _, _ = await open_chat(client)
    await ws.send_str(frame)
    await ws.send_json({"type": "message", "text": "still there?", "id": "after"})
    replies = [await asyncio.wait_for(ws.receive_json(), 20)]
    while replies[-1] != {"type": "ack", "id": "after"}:
        replies.append(await asyncio.wait_for(ws.receive_json(), 20))
    assert all(r["type"] in ("ack", "error", "message") for r in replies), replies
    assert (await client.get("/healthz")).status == 200
    await ws.close()


async def test_a_flooding_voter_is_told_politely_once_and_the_rest_is_dropped(redis) -> None:
    settings = make_settings(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, voter_messages_per_window=3)
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as flooded:
        ws, secret, _ = await open_chat(flooded)
        acks, slow_downs = [], []
        for n in range(8):
            await ws.send_json({"type": "message", "text": f"spam {n}", "id": f"f{n}"})
        while len(acks) < 8:
            frame = await asyncio.wait_for(ws.receive_json(), 20)
            if frame["type"] == "ack":
                acks.append(frame)
            elif "slow down" in frame.get("text", "").lower() or "रुककर" in frame.get("text", ""):
                slow_downs.append(frame["text"])
        await ws.close()
        assert [a.get("dropped", False) for a in acks] == [False] * 3 + [True] * 5
        assert len(slow_downs) == 1 and "रुककर" in slow_downs[0] and "slow" not in slow_downs[0].split("\n")[0]
        await flooded.server.app[ROUTER].lanes.wait_idle()
        conv = f"web:{voter_id(secret)}"
        turns = [json.loads(t) for t in await redis.lrange(keys.transcript(conv), 0, -1)]
        assert [t["text"] for t in turns if t["who"] == "voter"] == ["spam 0", "spam 1", "spam 2"]


async def test_a_thousand_simultaneous_messages_are_all_stored(redis) -> None:
    """redis-py's default pool failed past its size: 200 messages at once lost half; now they wait for a connection."""
    settings = make_settings(
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_s=1.0,
        redis_max_connections=20,
        redis_pool_timeout_s=30.0,
        address_messages_per_window=10_000,  # all 250 tabs are on 127.0.0.1
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with TestClient(server, connector=aiohttp.TCPConnector(limit=0)) as gateway:  # 250 sockets at once
        tabs = [await open_chat(gateway) for _ in range(250)]

        async def burst(ws, n: int) -> int:  # type: ignore[no-untyped-def]
            for k in range(4):
                await ws.send_json({"type": "message", "text": f"sandesh {n}-{k}", "id": f"b{n}-{k}"})
            acked = 0
            while acked < 4:
                frame = await asyncio.wait_for(ws.receive_json(), 60)
                acked += frame["type"] == "ack"
            return acked

        acked = await asyncio.gather(*(burst(ws, n) for n, (ws, _, _) in enumerate(tabs)))
        assert sum(acked) == 1000
        for ws, _, _ in tabs:
            await ws.close()
        await gateway.server.app[ROUTER].lanes.wait_idle()
        stored = 0
        for _, secret, _ in tabs:
            turns = await redis.lrange(keys.transcript(f"web:{voter_id(secret)}"), 0, -1)
            stored += sum(json.loads(t)["who"] == "voter" for t in turns)
        assert stored == 1000  # lost: 0


@pytest.mark.slow
async def test_a_redis_restart_during_web_chat_traffic_loses_nothing(own_redis) -> None:
    """Fault test: the browser resends what was not acknowledged, and a resend is stored once."""
    port, start, stop = own_redis
    settings = make_settings(
        redis_url=f"redis://127.0.0.1:{port}/0", rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0,
        redis_pool_timeout_s=2.0, address_messages_per_window=10_000,
    )  # fmt: skip
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as gateway:
        tabs = [await open_chat(gateway) for _ in range(20)]

        async def browser(ws, n: int) -> int:  # type: ignore[no-untyped-def]
            unacked = {f"t{n}-{k}": f"sandesh {n}-{k}" for k in range(10)}
            for message_id, text in list(unacked.items()):
                await ws.send_json({"type": "message", "text": text, "id": message_id})
                await asyncio.sleep(0.03)
            resends = 0
            for _ in range(600):
                if not unacked:
                    break
                try:
                    frame = await ws.receive_json(timeout=1.0)
                except TimeoutError:
                    for message_id, text in unacked.items():  # as chat.js does every few seconds
                        await ws.send_json({"type": "message", "text": text, "id": message_id})
                        resends += 1
                    continue
                if frame["type"] == "ack":
                    unacked.pop(frame["id"], None)
            assert not unacked
            return resends

        traffic = asyncio.gather(*(browser(ws, n) for n, (ws, _, _) in enumerate(tabs)))
        await asyncio.sleep(0.1)
        stop()
        await asyncio.sleep(1.0)
        start()
        resends = await asyncio.wait_for(traffic, 120)
        check = aioredis.Redis(port=port, decode_responses=True)
        stored = {}
        for _, secret, _ in tabs:
            turns = await check.lrange(keys.transcript(f"web:{voter_id(secret)}"), 0, -1)
            voter_turns = [json.loads(t)["text"] for t in turns if json.loads(t)["who"] == "voter"]
            stored[secret] = voter_turns
            assert sorted(set(voter_turns)) == sorted(voter_turns)  # none twice
        await check.aclose()
        assert sum(len(v) for v in stored.values()) == 200  # lost: 0
        assert sum(resends) > 0  # the restart did hit messages in flight
        for ws, _, _ in tabs:
            await ws.close()

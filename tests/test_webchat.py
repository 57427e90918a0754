"""The web chat: websocket rules, and the page in a real headless Chromium against a real Rasa."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.devstack import free_port
from bot.settings import ROOT
from tests.conftest import make_settings

ORIGIN = "http://127.0.0.1:8080"


@pytest.fixture
async def client(redis):  # type: ignore[no-untyped-def]
    app = create_app(make_settings(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


async def test_websocket_refuses_foreign_origin_and_bad_voter_id(client) -> None:
    with pytest.raises(WSServerHandshakeError) as foreign:
        await client.ws_connect("/webchat/ws?voter=abcdef123456", headers={"Origin": "https://evil.example"})
    assert foreign.value.status == 403
    with pytest.raises(WSServerHandshakeError) as bad_id:
        await client.ws_connect("/webchat/ws?voter=<script>", headers={"Origin": ORIGIN})
    assert bad_id.value.status == 400


async def test_bad_frames_get_a_clear_error_and_the_socket_stays_open(client) -> None:
    ws = await client.ws_connect("/webchat/ws?voter=voter-frames-1", headers={"Origin": ORIGIN})
    assert (await ws.receive_json())["type"] == "history"
    for frame in ("not json", "[1]", '{"type": "message"}'):
        await ws.send_str(frame)
        reply = await ws.receive_json()
        assert reply["type"] == "error" and reply["error"]
    await ws.send_json({"type": "message", "text": "hello"})  # still usable; Rasa is down here
    reply = await asyncio.wait_for(ws.receive_json(), 10)
    assert reply["type"] == "message" and "1950" in reply["text"]
    await ws.close()


async def test_huge_frame_closes_the_socket_without_harm(client) -> None:
    ws = await client.ws_connect("/webchat/ws?voter=voter-huge-1", headers={"Origin": ORIGIN})
    await ws.receive_json()
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

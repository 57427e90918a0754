"""End to end in headless Chromium: a voter asks for a person in Hindi, an agent takes over, hands back."""

from __future__ import annotations

import shutil

import pytest
from aiohttp.test_utils import TestServer

from bot.app import create_app
from bot.console.accounts import Accounts, Role
from bot.devstack import free_port
from bot.settings import ROOT
from tests.conftest import make_settings

pytestmark = [pytest.mark.rasa, pytest.mark.browser]

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
HAS_DEVANAGARI = "(e) => /[\\u0900-\\u097F]/.test(e.textContent)"


async def test_voter_and_agent_talk_in_devanagari_then_the_bot_answers_again(redis, rasa_stack) -> None:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi", "en"])
    # The pages' origin must be PUBLIC_URL: the gateway trusts configured origins only, never the Host header.
    port = free_port()
    settings = make_settings(rasa_url=rasa_stack["rasa_url"], public_url=f"http://127.0.0.1:{port}")
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    shots = ROOT / ".run"
    shots.mkdir(exist_ok=True)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            voter = await (await browser.new_context()).new_page()
            agent = await (await browser.new_context()).new_page()

            # 1. The voter asks for a person, in Hindi.
            await voter.goto(f"{base}/chat")
            await voter.fill("#text", "मुझे किसी इंसान से बात करनी है")
            await voter.click("button[type=submit]")
            await voter.wait_for_function(
                "() => [...document.querySelectorAll('.msg--bot')].some(e => e.textContent.includes('1'))",
                timeout=30_000,
            )  # the queue position

            # 2. The agent logs in and takes the chat; a hostile-looking voter text stays text.
            await voter.fill("#text", "<img src=x onerror=\"document.title='pwned'\"> मेरा नाम लिस्ट में नहीं है")
            await voter.click("button[type=submit]")
            await agent.goto(f"{base}/console")
            await agent.fill("#login-name", "asha")
            await agent.fill("#login-password", PASSWORD)
            await agent.click("#login-form button[type=submit]")
            await agent.wait_for_selector("#app:not([hidden])")
            await agent.click("#take")
            await agent.wait_for_selector(".turn--voter")
            voter_turns = await agent.locator(".turn--voter").all_inner_texts()
            assert any("मुझे किसी इंसान से बात करनी है" in t for t in voter_turns)
            assert any("<img src=x" in t for t in voter_turns)  # shown literally, not rendered
            assert await agent.locator("#transcript img").count() == 0
            assert await agent.title() != "pwned"
            assert any("intent: ask_human" in t for t in voter_turns)

            await agent.fill("#text", "नमस्ते, मैं आशा हूँ। बताइए क्या मदद चाहिए?")
            await agent.click("#compose button[type=submit]")
            await voter.locator(".msg--agent").first.wait_for(timeout=10_000)
            assert "मैं आशा हूँ" in await voter.locator(".msg--agent").first.inner_text()

            # The voter answers; it reaches the agent live over the console websocket.
            await voter.fill("#text", "मेरा वोटर कार्ड खो गया है")
            await voter.click("button[type=submit]")
            await agent.wait_for_function(
                "() => [...document.querySelectorAll('.turn--voter')].some(e => e.textContent.includes('खो गया'))",
                timeout=10_000,
            )
            await agent.screenshot(path=str(shots / "console.png"))

            # 3. The agent closes; the assistant greets the voter back and answers again.
            bots_before = await voter.locator(".msg--bot").count()
            await agent.select_option("#disposition", "resolved")
            await agent.click("#close")
            await agent.wait_for_function("() => document.getElementById('chat').hidden")
            await voter.wait_for_function(
                f"() => document.querySelectorAll('.msg--bot').length > {bots_before}", timeout=10_000
            )  # welcome back
            bots_now = await voter.locator(".msg--bot").count()
            await voter.fill("#text", "वोट डालने के लिए कौन सा पहचान पत्र ले जाऊं?")
            await voter.click("button[type=submit]")
            await voter.wait_for_function(
                f"() => document.querySelectorAll('.msg--bot').length > {bots_now}", timeout=30_000
            )  # the assistant answers again
            last = await voter.locator(".msg--bot").last.inner_text()
            assert "आधार" in last, last  # the ID-documents answer, not a fallback: the assistant is back
            await voter.screenshot(path=str(shots / "voter-after-handoff.png"))
            await browser.close()
    finally:
        await server.close()

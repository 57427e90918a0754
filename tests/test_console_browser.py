"""The console's shift features in headless Chromium: notes, labels, keyboard, SLA, CSAT, reports, search,
auto-assignment with alerts, and the layout at 1,280 px and on a tablet. Takes the screenshots in docs/."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot import keys
from bot.app import ROUTER, create_app
from bot.console.accounts import Accounts, Role
from bot.devstack import free_port
from bot.handoff import HandoffReason, HandoffSignal
from bot.settings import ROOT
from tests.conftest import WEBHOOK_SECRET, make_settings
from tests.helpers.postgres import temporary_database
from tests.helpers.telegram_api import text_update

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
# The pictures in docs/ are remade with `SAMVAD_SCREENSHOTS=docs pytest tests/test_console_browser.py`; other runs
# keep theirs in .run/, so a test run does not change tracked files.
SHOTS = (
    ROOT / "docs" / "screenshots" if os.environ.get("SAMVAD_SCREENSHOTS") == "docs" else ROOT / ".run" / "screenshots"
)


class Site:
    def __init__(self, server: TestServer, base: str) -> None:
        self.server, self.base = server, base
        self.app = server.app

    async def voter_says(self, update_id: int, chat: int, text: str) -> None:
        async with aiohttp.ClientSession() as http:
            resp = await http.post(
                f"{self.base}/telegram/webhook",
                json=text_update(update_id, chat, text),
                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            )
            assert resp.status == 200
        await self.app[ROUTER].lanes.wait_idle()

    async def hand_off(self, chat: int) -> None:
        router = self.app[ROUTER]
        profile = await router.store.get(f"tg:{chat}")
        await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))


async def _site(telegram_api, **overrides: object) -> Site:  # type: ignore[no-untyped-def]
    fake, api_url = telegram_api
    port = free_port()
    settings = make_settings(
        telegram_bot_token=fake.token, telegram_api_url=api_url, public_url=f"http://127.0.0.1:{port}", **overrides
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    return Site(server, str(server.make_url("")).rstrip("/"))


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def _login(browser, site: Site, name: str, width: int = 1280, height: int = 900):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": width, "height": height}, locale="hi-IN")
    await context.grant_permissions(["notifications"], origin=site.base)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{site.base}/console")
    await page.fill("#login-name", name)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#app:not([hidden])")
    return page, errors


async def _no_sideways_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"))


async def test_an_agents_shift_and_the_supervisors_view(browser, redis, telegram_api) -> None:  # type: ignore[no-untyped-def]
    fake, _ = telegram_api
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=3)
    await Accounts(redis).add("meera", PASSWORD, role=Role.SUPERVISOR, languages=["hi", "en"])
    async with temporary_database() as database:
        # Tiny thresholds: every chat is red at once, so the breach list has something to show.
        site = await _site(telegram_api, search_database_url=database, sla_first_reply_amber_s=0.001,
                           sla_first_reply_red_s=0.002)  # fmt: skip
        try:
            await site.voter_says(1, 7001, "मेरे मतदान केंद्र पर रैंप नहीं है, व्हीलचेयर कैसे जाएगी?")
            await site.hand_off(7001)
            await site.voter_says(2, 7002, "मुझे किसी से बात करनी है")
            await site.hand_off(7002)
            page, errors = await _login(browser, site, "asha")
            assert await page.inner_text("#take") == "अगली चैट लें"  # the console speaks Hindi to a Hindi browser

            # Alt+T takes the next chat; its timers run.
            await page.keyboard.press("Alt+t")
            await page.wait_for_selector(".turn--voter")
            assert "रैंप" in await page.inner_text("#transcript")
            await page.wait_for_function(
                "() => /पहला जवाब \\d+:\\d\\d/.test(document.getElementById('chat-sla').textContent)"
            )
            assert "timer--red" in await page.get_attribute("#chat-sla", "class")

            # A private note: shown in its own style, the voter's Telegram gets nothing.
            sent_before = len(fake.texts_to(7001))  # the other voter may hear of their queue place meanwhile
            await page.fill("#note-text", "व्हीलचेयर वाली शिकायत, बूथ अधिकारी को बताना है")
            await page.click("#note-form button[type=submit]")
            await page.wait_for_selector(".turn--note")
            assert "व्हीलचेयर वाली शिकायत" in await page.inner_text(".turn--note")
            await asyncio.sleep(0.3)
            assert len(fake.texts_to(7001)) == sent_before

            # A label from labels.yml, put on and shown as a chip.
            await page.select_option("#add-label", "booth-problem")
            await page.wait_for_selector(".chip[data-label=booth-problem]")

            # Keyboard: Shift+Enter is a new line, Enter sends; Alt+1 puts in the first canned reply.
            await page.click("#text")
            await page.keyboard.type("नमस्ते जी,")
            await page.keyboard.press("Shift+Enter")
            await page.keyboard.type("मैं आशा हूँ।")
            assert await page.input_value("#text") == "नमस्ते जी,\nमैं आशा हूँ।"
            assert len(fake.texts_to(7001)) == sent_before
            await page.keyboard.press("Enter")
            await page.wait_for_function("() => document.getElementById('text').value === ''")
            await fake.wait_for_messages(sent_before + 1, chat_id=7001)
            assert fake.texts_to(7001)[-1] == "नमस्ते जी,\nमैं आशा हूँ।"
            await page.keyboard.press("Alt+1")
            assert "नमस्ते" in await page.input_value("#text")
            await page.fill("#text", "")
            await page.wait_for_function("() => !/पहला जवाब \\d/.test(document.getElementById('chat-sla').textContent)")
            SHOTS.mkdir(parents=True, exist_ok=True)
            assert await _no_sideways_scroll(page)
            await page.screenshot(path=str(SHOTS / "agent.png"))
            await page.set_viewport_size({"width": 800, "height": 1180})  # the same chat on a tablet
            assert await _no_sideways_scroll(page) and await page.is_visible("#compose button[type=submit]")
            await page.screenshot(path=str(SHOTS / "agent-tablet.png"))
            await page.set_viewport_size({"width": 1280, "height": 900})

            # Close as resolved: the voter gets the satisfaction question and answers 5.
            told = len(fake.texts_to(7001))
            await page.select_option("#disposition", "resolved")
            await page.click("#close")
            await page.wait_for_function("() => document.getElementById('chat').hidden")
            await fake.wait_for_messages(told + 2, chat_id=7001)  # welcome back, then the question
            question = [m for m in fake.sent if m.chat_id == 7001][-1]
            assert question.reply_markup and len(question.reply_markup["inline_keyboard"]) == 5
            from tests.helpers.telegram_api import callback_update

            async with aiohttp.ClientSession() as http:
                await http.post(f"{site.base}/telegram/webhook", json=callback_update(3, 7001, "/csat_5"),
                                headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})  # fmt: skip
            await site.app[ROUTER].lanes.wait_idle()
            assert (await redis.xrange(keys.CSAT))[0][1]["score"] == "5"
            assert errors == []

            # The supervisor: live breaches (7002 still waits), reports with charts, search by a Hindi word.
            sup, sup_errors = await _login(browser, site, "meera")
            await sup.wait_for_selector("#breaches .breach")
            assert "tg:7002" in await sup.inner_text("#breaches")
            assert "tg:7002" in await sup.inner_text("#sla-all")  # every waiting chat, with its timers
            assert await sup.locator("#sla-all .timer--red").count() >= 1
            await sup.wait_for_function("() => window.SamvadSupervisor && window.SamvadSupervisor.charts['chart-csat']")
            assert "1" in await sup.inner_text("#report-summary")
            csv_href = await sup.get_attribute("#report-csv", "href")
            assert csv_href and csv_href.startswith("/console/api/reports.csv?from=")
            await sup.click("#show-search")
            await sup.fill("#search-q", "रैंप")
            await sup.click("#search-form button[type=submit]")
            await sup.wait_for_selector(".result")
            results = await sup.inner_text("#search-results")
            assert "«रैंप»" in results and "booth-problem" in results
            await sup.click(".result button")
            await sup.wait_for_selector(".turn--match")
            assert "रैंप" in await sup.inner_text(".turn--match")
            export = await sup.get_attribute("#found-export", "href")
            assert export
            exported = await sup.evaluate("(url) => fetch(url).then((r) => r.text())", export)
            assert "रैंप" in exported and "Agent / सहायक" in exported
            await sup.click("#show-search")  # hide it again for the picture
            assert await _no_sideways_scroll(sup)
            await sup.screenshot(path=str(SHOTS / "supervisor.png"), full_page=True)
            assert sup_errors == []

            # A tablet (portrait): everything stacks, nothing scrolls sideways.
            tablet, tablet_errors = await _login(browser, site, "meera", width=800, height=1180)
            await tablet.wait_for_selector("#breaches .breach")
            assert await _no_sideways_scroll(tablet)
            await tablet.screenshot(path=str(SHOTS / "tablet.png"))
            assert tablet_errors == []
        finally:
            await site.server.close()


async def test_auto_assignment_pushes_a_chat_with_an_alert_and_the_agent_accepts(browser, redis, telegram_api) -> None:  # type: ignore[no-untyped-def]
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=2)
    site = await _site(telegram_api, assignment="auto", auto_assign_every_s=0.2)
    try:
        page, errors = await _login(browser, site, "asha")
        assert await page.is_hidden("#take") and await page.is_visible("#auto-note")
        await page.wait_for_function("() => window.Notification && Notification.permission === 'granted'")
        await site.voter_says(1, 7101, "मुझे इंसान से बात करनी है")
        await site.hand_off(7101)
        await page.wait_for_selector(".pill--offer", timeout=15_000)  # pushed, no button pressed
        assert await page.evaluate("() => window.samvadAlerts") >= 1  # the tone and notification fired
        await page.click("#chats li button")
        await page.wait_for_selector("#accept:not([hidden])")
        await page.click("#accept")
        await page.wait_for_selector("#accept", state="hidden")
        assert not await redis.exists(keys.offer("tg:7101"))
        # The held voter writes while the agent is in another tab: a tone and a notification again.
        alerts = await page.evaluate("() => window.samvadAlerts")
        await page.evaluate("() => Object.defineProperty(document, 'hidden', { value: true, configurable: true })")
        await site.voter_says(2, 7101, "हेलो? कोई है?")
        await page.wait_for_function(f"() => window.samvadAlerts > {alerts}")
        assert "कोई है?" in await page.inner_text("#transcript")
        # A second chat is pushed; Alt+N goes to the next chat.
        await site.voter_says(3, 7102, "नमस्ते")
        await site.hand_off(7102)
        await page.wait_for_function("() => document.querySelectorAll('#chats li').length === 2", timeout=15_000)
        assert await page.inner_text("#chat-title") == "tg:7101"
        await page.keyboard.press("Alt+n")
        await page.wait_for_function("() => document.getElementById('chat-title').textContent === 'tg:7102'")
        assert errors == []
    finally:
        await site.server.close()


async def test_web_chat_voter_answers_the_satisfaction_question_with_a_button(browser, redis, telegram_api) -> None:  # type: ignore[no-untyped-def]
    from bot.channels.webchat import voter_id
    from bot.models import Channel, conversation_id
    from bot.texts import Texts

    texts = Texts.load(ROOT / "gateway_texts.yml")
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=2)
    site = await _site(telegram_api)
    try:
        voter = await (await browser.new_context()).new_page()
        await voter.goto(f"{site.base}/chat")
        await voter.fill("#text", "नमस्ते, मदद चाहिए")
        await voter.click("button[type=submit]")
        await voter.wait_for_function("() => localStorage.getItem('samvad.secret')")
        await site.app[ROUTER].lanes.wait_idle()
        secret = await voter.evaluate("() => localStorage.getItem('samvad.secret')")
        conv = conversation_id(Channel.WEBCHAT, voter_id(secret))
        router = site.app[ROUTER]
        await router.start_handoff(
            await router.store.get(conv), HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi")
        )
        page, errors = await _login(browser, site, "asha")
        await page.click("#take")
        await page.wait_for_selector(".turn--voter")
        await page.fill("#text", "आपका काम हो गया।")
        await page.keyboard.press("Enter")
        await voter.wait_for_selector(".msg--agent")
        await page.select_option("#disposition", "resolved")
        await page.click("#close")
        # The voter's page shows the question with five buttons; pressing 4 is thanked and recorded.
        question = voter.locator(".msg", has_text=texts.get("csat_question", "hi"))
        await question.wait_for(timeout=10_000)
        assert await question.locator(".buttons button").count() == 5
        await question.locator(".buttons button", has_text="4").click()
        await voter.locator(".msg", has_text=texts.get("csat_thanks", "hi")).wait_for(timeout=10_000)
        await router.lanes.wait_idle()
        answer = (await redis.xrange(keys.CSAT))[0][1]
        assert answer["score"] == "4" and answer["channel"] == "webchat" and answer["agent"] == "asha"
        assert errors == []
    finally:
        await site.server.close()

"""End to end in headless Chromium: a voice note from a queued WhatsApp voter plays in the agent's console."""

from __future__ import annotations

import io
import math
import shutil
import struct
import wave

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.app import ROUTER, create_app
from bot.console.accounts import Accounts, Role
from bot.devstack import free_port
from bot.handoff import HandoffReason, HandoffSignal
from bot.settings import ROOT
from tests.conftest import make_settings
from tests.helpers import graph_api as wa
from tests.test_handoff_browser import CHROMIUM_ARGS, PASSWORD

pytestmark = pytest.mark.browser


def tone_wav(seconds: float = 0.6) -> bytes:
    """A short 440 Hz tone, as a WAV file Chromium can play."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        frames = int(8000 * seconds)
        samples = (int(8000 * math.sin(2 * math.pi * 440 * n / 8000)) for n in range(frames))
        w.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return out.getvalue()


async def test_a_voice_note_from_a_queued_voter_plays_in_the_agents_console(redis, graph_api) -> None:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi", "en"])
    port = free_port()
    settings = make_settings(
        public_url=f"http://127.0.0.1:{port}",
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_s=1.0,
        whatsapp_access_token=wa.TOKEN,
        whatsapp_phone_number_id=wa.PHONE_NUMBER_ID,
        whatsapp_app_secret=wa.APP_SECRET,
        whatsapp_verify_token=wa.VERIFY_TOKEN,
        whatsapp_api_url=graph_api.api_url,
    )
    server = TestServer(create_app(settings), host="127.0.0.1", port=port)
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    router = server.app[ROUTER]
    wa_id, conv = "919811100077", "wa:919811100077"
    graph_api.media_files["voice-note-77"] = (tone_wav(), "audio/wav")
    try:
        async with aiohttp.ClientSession() as http:

            async def webhook(*messages: dict[str, object]) -> None:
                raw, headers = wa.signed(wa.webhook(wa.messages_value(wa_id, *messages)))
                async with http.post(f"{base}/whatsapp/webhook", data=raw, headers=headers) as resp:
                    assert resp.status == 200
                await router.lanes.wait_idle()

            await webhook(wa.text("/help"))
            profile = await router.store.get(conv)
            assert profile is not None
            await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
            await webhook(wa.voice("voice-note-77"))  # sent while waiting for a person

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
            )
            agent = await (await browser.new_context()).new_page()
            await agent.goto(f"{base}/console")
            await agent.fill("#login-name", "asha")
            await agent.fill("#login-password", PASSWORD)
            await agent.click("#login-form button[type=submit]")
            await agent.wait_for_selector("#app:not([hidden])")
            await agent.click("#take")
            await agent.wait_for_selector("#transcript audio.media")
            played = await agent.evaluate(
                """async () => {
                    const audio = document.querySelector('#transcript audio.media');
                    if (audio.readyState < 1 && !audio.error) await new Promise((ok) => {
                        audio.onloadedmetadata = ok; audio.onerror = ok;
                    });
                    if (audio.error) return {error: audio.error.code};
                    await audio.play();
                    await new Promise(ok => setTimeout(ok, 300));
                    return {duration: audio.duration, time: audio.currentTime, error: audio.error && audio.error.code};
                }"""
            )
            assert played["error"] is None and played["duration"] > 0.5 and played["time"] > 0, played
            shots = ROOT / ".run"
            shots.mkdir(exist_ok=True)
            await agent.screenshot(path=str(shots / "console-voice-note.png"))
            await browser.close()
    finally:
        await server.close()

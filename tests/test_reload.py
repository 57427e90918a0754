"""``make reload``: a new model goes into the running Rasa server and conversations carry on.

The model loaded is a copy of the trained one under another name (a retrain would add a minute or
two to the suite); what matters here is the swap itself, which Rasa does the same way for any file.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.content.reload import newest_model, reload_model
from bot.errors import RasaUnavailable
from tests.conftest import RASA_TOKEN

pytestmark = [pytest.mark.rasa, pytest.mark.slow]


async def say(session: aiohttp.ClientSession, rasa_url: str, sender: str, text: str) -> str:
    body = {"sender": sender, "message": text, "metadata": {"channel": "webchat", "language": "en"}}
    async with session.post(f"{rasa_url}/webhooks/rest/webhook", json=body) as response:
        assert response.status == 200, await response.text()
        replies: list[dict[str, Any]] = await response.json()
    return "\n".join(r.get("text", "") for r in replies)


async def status(session: aiohttp.ClientSession, rasa_url: str) -> dict[str, Any]:
    async with session.get(f"{rasa_url}/status", params={"token": RASA_TOKEN}) as response:
        result: dict[str, Any] = await response.json()
    return result


async def test_a_voter_in_the_polling_station_form_carries_on_after_a_reload(
    rasa_stack: dict[str, str], tmp_path: Path
) -> None:
    url = rasa_stack["rasa_url"]
    sender = f"web:reload-{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        before = await status(session, url)
        assert "EPIC number" in await say(session, url, sender, "where is my polling booth")

        served = newest_model()  # what the session's Rasa loaded (`-m models`)
        model = tmp_path / "reloaded.tar.gz"
        shutil.copy(served, model)
        try:
            after = await reload_model(url, RASA_TOKEN, model)
            assert (before["model_file"], after["model_file"]) == (served.name, "reloaded.tar.gz")
            assert after["model_id"] == before["model_id"]  # the same training, under another name
            assert (await status(session, url))["model_file"] == after["model_file"]

            reply = await say(session, url, sender, "ABC1234567")
            assert "Government Middle School Kadamkuan" in reply, reply
        finally:
            # The session's Rasa serves other tests: put its own model back.
            await reload_model(url, RASA_TOKEN, served)


async def test_a_reload_with_the_wrong_token_fails_and_changes_nothing(rasa_stack: dict[str, str]) -> None:
    url = rasa_stack["rasa_url"]
    async with aiohttp.ClientSession() as session:
        before = await status(session, url)
    with pytest.raises(RasaUnavailable, match="401"):
        await reload_model(url, "not-the-token", newest_model(), timeout_s=30)
    async with aiohttp.ClientSession() as session:
        assert (await status(session, url))["model_file"] == before["model_file"]

"""The routing component (rasa_ext/intent_routing.py) inside the real trained model, through /model/parse.

The words themselves are unit-tested in tests/test_intent_words.py; this checks that the trained model
carries what the component learned (intents, vocabulary, the entity regexes of nlu/entities.yml) and that
its corrections reach Rasa's answer.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.conftest import RASA_TOKEN

pytestmark = pytest.mark.rasa


async def parse(rasa_url: str, text: str) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=30)
    params, body = {"token": RASA_TOKEN}, {"text": text}
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(f"{rasa_url}/model/parse", params=params, json=body) as response,
    ):
        assert response.status == 200, await response.text()
        parsed: dict[str, Any] = await response.json()
        return parsed


@pytest.mark.parametrize(
    "text",
    ["DLW4821937", "it's xyz 7654321", "मेरा पिन कोड 302017 है", "mera mobile 98765 43210 hai", "Varanasi",
     "मैं पटना साहिब से हूँ", "jaipur", "main gorakhpur se hu", "इंदौर"],
)  # fmt: skip
async def test_a_bare_answer_is_inform(rasa_stack: dict[str, str], text: str) -> None:
    assert (await parse(rasa_stack["rasa_url"], text))["intent"]["name"] == "inform"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("form 8 kya hota hai", "update_details"), ("फॉर्म 8 कैसे भरें", "update_details"),
     ("form 7 online", "remove_name"), ("ABC1234567 ka status kya hai", None)],
)  # fmt: skip
async def test_a_named_form_routes_and_a_question_with_a_code_is_not_a_bare_answer(
    rasa_stack: dict[str, str], text: str, intent: str | None
) -> None:
    name = (await parse(rasa_stack["rasa_url"], text))["intent"]["name"]
    assert name == intent if intent else name != "inform"


async def test_a_person_request_keeps_its_topic(rasa_stack: dict[str, str]) -> None:
    parsed = await parse(rasa_stack["rasa_url"], "मेरा नाम वोटर लिस्ट में नहीं है, मुझे किसी इंसान से बात करनी है")
    assert parsed["intent"]["name"] == "ask_human"
    assert parsed.get("handoff_topic") == "check_registration"

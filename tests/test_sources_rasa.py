"""End to end, real Rasa and action server: "source?" names the page behind the previous answer (issue 19).

Rasa records which response each bot message was; the action reads it back from the tracker, so this
only works if that metadata survives the trip through the gateway, Rasa and the action server.
"""

from __future__ import annotations

import random

import pytest

from bot.citations import load
from tests.helpers.telegram_api import text_update

pytestmark = pytest.mark.rasa


@pytest.fixture
async def gateway(make_gateway, rasa_stack):  # type: ignore[no-untyped-def]
    return await make_gateway(rasa_url=rasa_stack["rasa_url"])


async def test_source_of_the_id_answer_in_english(gateway) -> None:  # type: ignore[no-untyped-def]
    voter = random.randint(10_000_000, 99_999_999)
    await gateway.post_update(text_update(1, voter, "which documents can I carry to the polling booth?"))
    await gateway.idle()
    await gateway.post_update(text_update(2, voter, "source?"))
    await gateway.idle()
    reply = gateway.telegram.texts_to(voter)[-1]
    page = load().pages_of("utter_id_documents")[0]
    assert page.title_in("en") in reply and str(page.url) in reply, reply


async def test_source_of_the_form_7_answer_in_hindi(gateway) -> None:  # type: ignore[no-untyped-def]
    voter = random.randint(10_000_000, 99_999_999)
    await gateway.post_update(text_update(1, voter, "पिताजी गुज़र गए, वोटर लिस्ट से उनका नाम कैसे हटाएँ"))
    await gateway.idle()
    await gateway.post_update(text_update(2, voter, "यह कहाँ लिखा है?"))
    await gateway.idle()
    reply = gateway.telegram.texts_to(voter)[-1]
    assert "फ़ॉर्म 6, 6A, 6B, 7 और 8" in reply and "voters.eci.gov.in" in reply, reply
    assert "दिसंबर" in reply, reply  # the checked date, with babel's Hindi month name

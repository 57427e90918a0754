"""Hand-off and back, through the real gateway and the real Rasa (Telegram side)."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot import keys
from bot.console.accounts import Accounts, Role
from bot.handoff.hours import DAYS, IST
from tests.helpers.telegram_api import text_update

pytestmark = pytest.mark.rasa
PASSWORD = "correct horse battery"


async def test_closing_as_callback_needed_asks_the_voter_for_a_number(make_gateway, rasa_stack, redis) -> None:
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"])
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi", "en"])
    voter = 5553001
    await gw.post_update(text_update(1, voter, "I want to talk to a real person please"))
    await gw.idle()
    assert await redis.hget(keys.voter(f"tg:{voter}"), "mode") == "queued"

    http = gw.client
    assert (await http.post("/console/api/login", json={"name": "asha", "password": PASSWORD})).status == 200
    taken = await (await http.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == f"tg:{voter}"
    intents = [t.get("intent") for t in taken["chat"]["transcript"] if t["who"] == "voter"]
    assert intents == ["ask_human"]
    before = len(gw.telegram.texts_to(voter))
    closed = await http.post(f"/console/api/chats/tg:{voter}/close", json={"disposition": "callback_needed"})
    assert closed.status == 200
    await gw.idle()
    after = gw.telegram.texts_to(voter)[before:]
    assert len(after) >= 2, after  # welcome back, then the assistant asks for the number
    assert "phone" in after[-1].lower() or "number" in after[-1].lower(), after
    # The assistant is un-paused: the voter's next message is answered by Rasa, not queued.
    await gw.post_update(text_update(2, voter, "9876543210"))
    await gw.idle()
    assert await redis.hget(keys.voter(f"tg:{voter}"), "mode") == "bot", "\n".join(gw.telegram.texts_to(voter))
    assert len(gw.telegram.texts_to(voter)) > before + len(after)


@pytest.mark.parametrize(
    ("text", "closed_words"),
    [("मुझे किसी इंसान से बात करनी है", "उपलब्ध नहीं"), ("I want to talk to a real person please", "not available")],
)
async def test_out_of_hours_a_request_for_a_person_gets_one_coherent_reply(
    make_gateway, rasa_stack, redis, text: str, closed_words: str
) -> None:
    """The seed said "I am passing you to a person" and then, in the next message, "nobody is available"."""
    closed_day = DAYS[(datetime.now(IST).weekday() + 3) % 7]  # neither today nor yesterday in India
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"], agent_hours="09:00-09:01", agent_days=closed_day)
    voter = 5553100 + len(text)
    await gw.post_update(text_update(1, voter, text))
    await gw.idle()
    said = gw.telegram.texts_to(voter)
    assert len(said) == 1 and closed_words in said[0], said
    assert not any("passing you" in t or "पहुँचा रहा" in t for t in said), said
    assert await redis.hget(keys.voter(f"tg:{voter}"), "mode") == "bot"
    # The assistant was not left paused: the next question is answered.
    await gw.post_update(text_update(2, voter, "where do I vote"))
    await gw.idle()
    assert len(gw.telegram.texts_to(voter)) > 1


async def test_a_voter_handed_back_can_ask_for_a_person_again(make_gateway, rasa_stack, redis) -> None:
    gw = await make_gateway(rasa_url=rasa_stack["rasa_url"])
    await Accounts(redis).add("ravi", PASSWORD, role=Role.AGENT, languages=["hi", "en"])
    voter = 5553011
    http = gw.client
    assert (await http.post("/console/api/login", json={"name": "ravi", "password": PASSWORD})).status == 200
    for round_ in range(2):
        await gw.post_update(text_update(10 * round_ + 1, voter, "I want to talk to a person"))
        await gw.idle()
        assert await redis.hget(keys.voter(f"tg:{voter}"), "mode") == "queued", gw.telegram.texts_to(voter)
        taken = await (await http.post("/console/api/take", json={})).json()
        assert taken["chat"]["conversation_id"] == f"tg:{voter}"
        closed = await http.post(f"/console/api/chats/tg:{voter}/close", json={"disposition": "resolved"})
        assert closed.status == 200
        await gw.idle()
        await gw.post_update(text_update(10 * round_ + 2, voter, "which documents can I carry to vote"))
        await gw.idle()
        assert await redis.hget(keys.voter(f"tg:{voter}"), "mode") == "bot"

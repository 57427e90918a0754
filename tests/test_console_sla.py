"""SLA timers: first and latest reply waits of waiting and held chats, amber and red from settings."""

from __future__ import annotations

import time

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.app import create_app
from bot.console.accounts import Accounts, Role
from bot.console.sla import Thresholds, timers
from bot.conversation import Conversations
from bot.handoff import HandoffReason, HandoffSignal
from bot.settings import SettingsError, load
from bot.store import turn_json
from tests.conftest import make_settings
from tests.helpers.voters import enqueue

PASSWORD = "correct horse battery"
ORIGIN = "http://127.0.0.1:8080"
SIGNAL = HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi")


def test_timers_follow_the_turns() -> None:
    q = 1000.0
    old = [{"who": "voter", "at": 900.0}, {"who": "agent", "at": 950.0}]  # before this hand-off: ignored
    assert timers(old, q) == (q, q)
    assert timers([*old, {"who": "voter", "at": 1010.0}], q) == (q, q)
    replied = [{"who": "voter", "at": 1010.0}, {"who": "agent", "at": 1030.0}]
    assert timers(replied, q) == (None, None)
    later = [*replied, {"who": "bot", "at": 1040.0}, {"who": "voter", "at": 1050.0}, {"who": "voter", "at": 1060.0}]
    assert timers(later, q) == (None, 1050.0)  # the oldest unanswered message counts


def test_levels() -> None:
    t = Thresholds(60, 180, 30, 90)
    assert [t.level(s, first=True) for s in (None, 0, 59.9, 60, 179, 180)] == [
        "ok",
        "ok",
        "ok",
        "amber",
        "amber",
        "red",
    ]
    assert [t.level(s, first=False) for s in (29, 30, 90)] == ["ok", "amber", "red"]


def test_amber_must_be_below_red() -> None:
    with pytest.raises(SettingsError) as raised:
        load(sla_reply_amber_s=300, sla_reply_red_s=200)
    assert "SAMVAD_SLA_REPLY_AMBER_S" in str(raised.value)


@pytest.fixture
async def client(redis):  # type: ignore[no-untyped-def]
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=3)
    await Accounts(redis).add("meera", PASSWORD, role=Role.SUPERVISOR, languages=["hi", "en"])
    app = create_app(make_settings(sla_first_reply_amber_s=60, sla_first_reply_red_s=600))
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Origin": ORIGIN}) as client:
        yield client


async def test_a_held_chat_turns_red_then_clears_and_the_supervisor_sees_the_breach_masked(client, redis) -> None:
    conversations = Conversations(redis)
    held = "wa:919876543210"
    await enqueue(conversations, held, SIGNAL)
    await enqueue(conversations, "tg:4402", SIGNAL)  # waits in the queue
    await client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})
    taken = await (await client.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == held
    # The voter has waited 15 minutes already (moved back in time, not slept).
    await redis.hset(keys.assignment(held), "queued_at", str(time.time() - 900))

    mine = await (await client.get("/console/api/sla")).json()
    assert [(c["conversation"], c["first_level"], c["reply_level"]) for c in mine["chats"]] == [(held, "red", "red")]
    assert mine["thresholds"]["first_red_s"] == 600

    await client.post("/console/api/logout", json={})
    await client.post("/console/api/login", json={"name": "meera", "password": PASSWORD})
    resp = await client.get("/console/api/sla")
    board = await resp.json()
    assert "9876543210" not in await resp.text()  # masked outside the voter's own chat
    assert [(b["conversation"], b["agent"]) for b in board["breaches"]] == [("wa:ID***10", "asha")]
    waiting = [c for c in board["chats"] if c["state"] == "waiting"]
    assert [(c["conversation"], c["first_level"]) for c in waiting] == [("tg:4402", "ok")]

    # asha answers: both timers stop; the voter writes again: the latest-reply timer runs from that message.
    await client.post("/console/api/logout", json={})
    await client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})
    await redis.rpush(keys.transcript(held), turn_json("agent", "नमस्ते", agent="asha"))
    chat = (await (await client.get("/console/api/sla")).json())["chats"][0]
    assert (chat["first_since"], chat["reply_since"], chat["first_level"]) == (None, None, "ok")
    await redis.rpush(keys.transcript(held), turn_json("voter", "मेरा कार्ड?"))
    chat = (await (await client.get("/console/api/sla")).json())["chats"][0]
    assert chat["first_since"] is None and chat["reply_since"] > 0 and chat["reply_level"] == "ok"


async def test_sla_needs_a_session(client) -> None:
    assert (await client.get("/console/api/sla")).status == 401

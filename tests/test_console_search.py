"""Search over open and closed conversations on PostgreSQL full-text search: masked, filtered, erased."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import CONSOLE, ROUTER, create_app
from bot.console.accounts import Accounts, Role
from bot.console.search import ref_of
from bot.handoff import HandoffReason, HandoffSignal
from bot.models import Channel, InboundMessage
from tests.conftest import make_settings
from tests.helpers.postgres import temporary_database

PASSWORD = "correct horse battery"
ORIGIN = "http://127.0.0.1:8080"


@pytest.fixture
async def database():  # type: ignore[no-untyped-def]
    async with temporary_database() as url:
        yield url


@pytest.fixture
async def client(redis, database):  # type: ignore[no-untyped-def]
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi", "en"], capacity=5)
    await Accounts(redis).add("meera", PASSWORD, role=Role.SUPERVISOR, languages=["hi", "en"])
    app = create_app(make_settings(search_database_url=database))
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Origin": ORIGIN}) as client:
        yield client


async def _as(client, name: str) -> None:  # type: ignore[no-untyped-def]
    await client.post("/console/api/logout", json={})
    assert (await client.post("/console/api/login", json={"name": name, "password": PASSWORD})).status == 200


async def _chat(client, channel: Channel, chat_id: str, texts: list[str], language: str = "hi") -> str:  # type: ignore[no-untyped-def]
    router = client.server.app[ROUTER]
    for text in texts:
        message = InboundMessage(channel=channel, chat_id=chat_id, text=text)
        profile = await router.store.arrive(message, text)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language=language))
    taken = await (await client.post("/console/api/take", json={})).json()
    return str(taken["chat"]["conversation_id"])


async def _close(client, conv: str, label: str, disposition: str = "resolved") -> None:  # type: ignore[no-untyped-def]
    await client.post(f"/console/api/chats/{conv}/messages", json={"text": "ठीक है, मैं देखती हूँ।"})
    await client.post(f"/console/api/chats/{conv}/labels", json={"label": label})
    assert (await client.post(f"/console/api/chats/{conv}/close", json={"disposition": disposition})).status == 200


async def test_a_hindi_word_finds_the_closed_transcript_at_its_turn_masked(client, redis, database) -> None:
    await _as(client, "asha")
    booth = await _chat(
        client,
        Channel.WHATSAPP,
        "919876543210",
        ["नमस्ते", "मेरे मतदान केंद्र पर रैंप नहीं है, मेरा नंबर 9876543210 है", "EPIC ABC1234567"],
    )
    await _close(client, booth, "booth-problem")
    other = await _chat(client, Channel.TELEGRAM, "777", ["my name is missing from the roll"], "en")
    await _close(client, other, "registration", "callback_needed")

    found = await (await client.get("/console/api/search", params={"q": "रैंप"})).json()
    assert [r["ref"] for r in found["results"]] == [ref_of(booth)]
    hit = found["results"][0]
    assert hit["conversation"] == "wa:ID***10" and hit["labels"] == ["booth-problem"]
    assert hit["agent"] == "asha" and hit["disposition"] == "resolved" and hit["state"] == "closed"
    assert "«रैंप»" in hit["snippet"] and "9876543210" not in str(found)

    opened = await (await client.get(f"/console/api/search/{hit['ref']}")).json()
    turn = opened["turns"][hit["turn"]]
    assert "रैंप" in turn["text"] and "PHONE***10" in turn["text"]
    assert "ABC1234567" not in str(opened) and "9876543210" not in str(opened)

    # Filters, alone and together.
    async def refs(**params: str) -> list[str]:
        return [r["ref"] for r in (await (await client.get("/console/api/search", params=params)).json())["results"]]

    assert await refs(label="registration") == [ref_of(other)]
    assert await refs(disposition="callback_needed") == [ref_of(other)]
    assert await refs(language="hi") == [ref_of(booth)]
    assert sorted(await refs(agent="asha")) == sorted([ref_of(booth), ref_of(other)])
    assert await refs(q="roll", label="booth-problem") == []
    assert await refs(state="open") == []
    assert await refs(**{"from": "2020-01-01", "to": "2020-01-02"}) == []
    # Nobody can search without a session; bad filters are 400.
    for params in ({"label": "nope"}, {"state": "gone"}, {"from": "monday"}, {"q": "x" * 201}, {"language": "fr"}):
        assert (await client.get("/console/api/search", params=params)).status == 400, params
    assert (await client.get("/console/api/search/nope")).status == 404
    await client.post("/console/api/logout", json={})
    assert (await client.get("/console/api/search", params={"q": "रैंप"})).status == 401
    assert (await client.get(f"/console/api/search/{hit['ref']}")).status == 401


async def test_open_chats_are_indexed_by_the_refresh_and_delete_my_data_removes_the_voter(
    client, redis, database
) -> None:
    await _as(client, "asha")
    conv = await _chat(client, Channel.TELEGRAM, "4242", ["मेरा वोटर कार्ड खो गया है"])
    app = client.server.app
    search = app[CONSOLE].services.search
    assert search is not None
    assert await search.refresh_open(app[ROUTER].conversations, ["asha"]) == 1
    found = await (await client.get("/console/api/search", params={"q": "खो", "state": "open"})).json()
    assert [(r["ref"], r["state"]) for r in found["results"]] == [(ref_of(conv), "held")]
    # Unchanged, the next refresh leaves the turns alone; a new message is found after the one after it.
    await search.refresh_open(app[ROUTER].conversations, ["asha"])
    message = InboundMessage(channel=Channel.TELEGRAM, chat_id="4242", text="डुप्लीकेट कार्ड कैसे मिलेगा")
    await app[ROUTER].store.arrive(message, message.text)
    assert (await (await client.get("/console/api/search", params={"q": "डुप्लीकेट"})).json())["results"] == []
    await search.refresh_open(app[ROUTER].conversations, ["asha"])
    found = await (await client.get("/console/api/search", params={"q": "डुप्लीकेट"})).json()
    assert [r["ref"] for r in found["results"]] == [ref_of(conv)]

    await app[ROUTER].erase(conv)
    assert (await (await client.get("/console/api/search", params={"q": "खो"})).json())["results"] == []
    conn = await asyncpg.connect(database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM search_turns") == 0
        assert await conn.fetchval("SELECT count(*) FROM search_conversations WHERE conversation_id = $1", conv) == 0
    finally:
        await conn.close()


async def test_supervisor_exports_a_found_conversation_masked(client, redis) -> None:
    await _as(client, "asha")
    conv = await _chat(client, Channel.WHATSAPP, "919812345678", ["शिकायत: बूथ पर लाइन बहुत लंबी थी, फ़ोन 9812345678"])
    await _close(client, conv, "complaint")
    ref = ref_of(conv)
    assert (await client.get(f"/console/api/transcripts/{ref}/export")).status == 403
    await _as(client, "meera")
    resp = await client.get(f"/console/api/transcripts/{ref}/export")
    text = await resp.text()
    assert resp.status == 200 and "लाइन बहुत लंबी" in text and "9812345678" not in text


async def test_without_a_database_search_is_503(redis) -> None:
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"])
    app = create_app(make_settings())
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Origin": ORIGIN}) as client:
        await _as(client, "asha")
        resp = await client.get("/console/api/search", params={"q": "x"})
        assert resp.status == 503 and "SAMVAD_SEARCH_DATABASE_URL" in (await resp.json())["error"]


async def test_filters_match_any_earlier_chat_of_the_voter_and_the_open_one(client, redis) -> None:
    """A voter's first chat: spam, by asha, labelled complaint; the second, open now, labelled registration."""
    await _as(client, "asha")
    conv = await _chat(client, Channel.TELEGRAM, "5151", ["पहली बार: गलत संदेश"])
    await _close(client, conv, "complaint", "spam")
    app = client.server.app
    router = app[ROUTER]
    await router.start_handoff(
        await router.store.get(conv), HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi")
    )
    await client.post("/console/api/take", json={})
    await client.post(f"/console/api/chats/{conv}/labels", json={"label": "registration"})
    search = app[CONSOLE].services.search
    assert search is not None
    await search.refresh_open(router.conversations, ["asha"])

    async def refs(**params: str) -> list[str]:
        return [r["ref"] for r in (await (await client.get("/console/api/search", params=params)).json())["results"]]

    ref = ref_of(conv)
    assert await refs(disposition="spam") == [ref]  # the earlier chat still counts
    assert await refs(label="complaint") == [ref]
    assert await refs(label="registration") == [ref]  # the open chat's label, from the refresh
    assert await refs(agent="asha", disposition="spam", label="complaint") == [ref]
    assert await refs(disposition="resolved") == []
    assert await refs(agent="meera") == []
    assert await refs(label="registration", disposition="spam") == []  # never the same chat

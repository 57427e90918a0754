"""Private notes and labels on a chat, through the console's API on the real app and Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import keys
from bot.app import ROUTER
from bot.console.accounts import Accounts, Role
from bot.console.labels import LabelsFileError, load_labels
from bot.handoff import HandoffReason, HandoffSignal
from bot.settings import ROOT
from tests.helpers.telegram_api import text_update

PASSWORD = "correct horse battery"
CHAT = 5501
CONV = f"tg:{CHAT}"


async def _held_chat(gateway, redis):  # type: ignore[no-untyped-def]
    """A Telegram voter handed to people and taken by asha through the API."""
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=3)
    await Accounts(redis).add("ravi", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=3)
    router = gateway.app[ROUTER]
    resp = await gateway.post_update(text_update(1, CHAT, "मेरा नाम सूची में नहीं है"))
    assert resp.status == 200
    await gateway.idle()
    profile = await router.store.get(CONV)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
    client = gateway.client
    assert (await client.post("/console/api/login", json={"name": "asha", "password": PASSWORD})).status == 200
    taken = await (await client.post("/console/api/take", json={})).json()
    assert taken["chat"]["conversation_id"] == CONV
    return router


async def test_a_private_note_is_kept_with_author_and_time_and_never_reaches_the_voter(make_gateway, redis) -> None:
    gateway = await make_gateway()
    router = await _held_chat(gateway, redis)
    client = gateway.client
    sent_before = len(gateway.telegram.sent)
    transcript_before = await router.store.transcript(CONV, 200)

    resp = await client.post(f"/console/api/chats/{CONV}/notes", json={"text": "वोटर का EPIC गलत छपा है, कल फ़ोन करना"})
    assert resp.status == 200
    note = (await resp.json())["note"]
    assert note["agent"] == "asha" and note["who"] == "note" and note["at"] > 0

    chat = await (await client.get(f"/console/api/chats/{CONV}")).json()
    assert [n["text"] for n in chat["notes"]] == ["वोटर का EPIC गलत छपा है, कल फ़ोन करना"]
    # The voter's channel got nothing, and the transcript (which the web chat replays to voters) has no note.
    await gateway.idle()
    assert len(gateway.telegram.sent) == sent_before
    assert not [c for c in gateway.telegram.calls[-3:] if c[0].lower() == "sendmessage" and "फ़ोन करना" in str(c)]
    assert await router.store.transcript(CONV, 200) == transcript_before
    # "Delete my data" takes the notes too.
    await router.erase(CONV)
    assert not await redis.exists(keys.notes(CONV))


async def test_bad_notes_are_4xx(make_gateway, redis) -> None:
    gateway = await make_gateway()
    await _held_chat(gateway, redis)
    client = gateway.client
    assert (await client.post(f"/console/api/chats/{CONV}/notes", json={"text": "  "})).status == 400
    assert (await client.post(f"/console/api/chats/{CONV}/notes", json={"text": 12})).status == 400
    assert (await client.post(f"/console/api/chats/{CONV}/notes", json={"text": "x" * 2001})).status == 413
    assert (
        await client.post(
            f"/console/api/chats/{CONV}/notes", data="{not json", headers={"Content-Type": "application/json"}
        )
    ).status == 400
    # Another agent's chat: refused.
    await client.post("/console/api/logout", json={})
    await client.post("/console/api/login", json={"name": "ravi", "password": PASSWORD})
    assert (await client.post(f"/console/api/chats/{CONV}/notes", json={"text": "hello"})).status == 403
    assert (await client.get(f"/console/api/chats/{CONV}/notes")).status == 403


async def test_labels_are_put_on_taken_off_and_recorded_with_the_close(make_gateway, redis) -> None:
    gateway = await make_gateway()
    await _held_chat(gateway, redis)
    client = gateway.client
    defined = (await (await client.get("/console/api/labels")).json())["labels"]
    assert {"registration", "complaint", "booth-problem", "follow-up"} <= {d["name"] for d in defined}
    assert all(d["hi"] and d["en"] for d in defined)

    url = f"/console/api/chats/{CONV}/labels"
    assert (await (await client.post(url, json={"label": "complaint"})).json())["labels"] == ["complaint"]
    assert (await (await client.post(url, json={"label": "booth-problem"})).json())["labels"] == [
        "booth-problem",
        "complaint",
    ]
    assert (await (await client.post(url, json={"label": "complaint", "on": False})).json())["labels"] == [
        "booth-problem"
    ]
    assert (await client.post(url, json={"label": "no-such-label"})).status == 400
    assert (await client.post(url, json={"label": "complaint", "on": "yes"})).status == 400
    assert (await client.post(url, json=["complaint"])).status == 400

    closed = await client.post(f"/console/api/chats/{CONV}/close", json={"disposition": "callback_needed"})
    assert closed.status == 200 and (await closed.json())["labels"] == ["booth-problem"]
    records = await redis.xrange(keys.CLOSES)
    assert len(records) == 1
    record = records[0][1]
    assert record["labels"] == "booth-problem" and record["disposition"] == "callback_needed"
    assert record["agent"] == "asha" and record["language"] == "hi"
    assert CONV not in str(record)  # the close record holds a hash, never the conversation id
    assert not await redis.exists(keys.labels(CONV))  # the voter's next chat starts without labels


def test_the_shipped_labels_file_loads() -> None:
    names = [label.name for label in load_labels(ROOT / "labels.yml")]
    assert "registration" in names and len(names) == len(set(names))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("labels:\n  - name: Booth Problem\n    hi: बूथ\n    en: Booth\n", "labels.0.name"),
        ("labels:\n  - name: booth\n    en: Booth\n", "labels.0.hi"),
        ("labels:\n  - {name: a, hi: क, en: A}\n  - {name: a, hi: ख, en: B}\n", "defined twice"),
        ("labels: [\n", "cannot read"),
        ("labels: []\n", "labels"),
    ],
)
def test_a_bad_labels_file_is_refused_with_the_problem_named(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "labels.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelsFileError) as raised:
        load_labels(path)
    assert str(path) in str(raised.value) and problem in str(raised.value)


async def test_every_console_route_needs_a_session(make_gateway) -> None:
    """Every /console/api route (but login), including the new ones, answers 401 without a session."""
    gateway = await make_gateway()
    checked = 0
    for route in gateway.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or ""
        if not path.startswith("/console/api/") or path == "/console/api/login" or route.method == "HEAD":
            continue
        concrete = path.replace("{conv}", "tg:1").replace("{ref}", "abc").replace("{entry}", "1-0")
        concrete = concrete.replace("{kind}", "inbound").replace("{action}", "replay").replace("{media_id}", "m1")
        resp = await gateway.client.request(route.method, concrete, json={})
        assert resp.status == 401 or (path == "/console/api/logout" and resp.status == 200), (route.method, path)
        checked += 1
    assert checked >= 25


async def test_a_chat_transferred_to_an_agent_reaches_their_console_live(make_gateway, redis) -> None:
    import aiohttp

    gateway = await make_gateway()
    await _held_chat(gateway, redis)  # asha holds it
    origin = {"Origin": "http://127.0.0.1:8080"}
    base = str(gateway.client.make_url("")).rstrip("/")
    jar = aiohttp.CookieJar(unsafe=True)  # the gateway is at an IP address
    async with aiohttp.ClientSession(headers=origin, cookie_jar=jar) as ravi:  # ravi's own browser, with his own cookie
        login = await ravi.post(f"{base}/console/api/login", json={"name": "ravi", "password": PASSWORD})
        assert login.status == 200
        ws = await ravi.ws_connect(f"{base}/console/ws", headers=origin)
        assert (await ws.receive_json())["type"] == "queues"
        moved = await gateway.client.post(f"/console/api/chats/{CONV}/transfer", json={"agent": "ravi"})
        assert moved.status == 200
        while (event := await ws.receive_json(timeout=10))["type"] != "assigned":
            pass
        assert event["conversation_id"] == CONV and event["agent"] == "ravi" and event["offer"] is False
        await ws.close()

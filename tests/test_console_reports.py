"""Supervisor reports, the CSV export and the masked transcript export, on the real app and Redis."""

from __future__ import annotations

import csv
import io

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot import keys
from bot.app import ROUTER, create_app
from bot.console.accounts import Accounts, Role
from bot.console.reports import build_report, percentile
from bot.handoff import HandoffReason, HandoffSignal
from bot.models import Channel, InboundMessage
from tests.conftest import make_settings

PASSWORD = "correct horse battery"
ORIGIN = "http://127.0.0.1:8080"


def test_percentiles_and_groups() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0
    assert percentile([float(n) for n in range(1, 11)], 0.5) == 5.0
    rows = [
        {"agent": "asha", "language": "hi", "disposition": "resolved", "labels": "complaint,booth-problem",
         "handle_s": "100", "first_response_s": "10", "csat": "5"},
        {"agent": "asha", "language": "hi", "disposition": "spam", "labels": "",
         "handle_s": "20", "first_response_s": "", "csat": ""},
        {"agent": "ravi", "language": "en", "disposition": "resolved", "labels": "complaint",
         "handle_s": "300", "first_response_s": "30", "csat": "2"},
    ]  # fmt: skip
    report = build_report(rows)
    total = report["total"]
    assert total["handled"] == 3 and total["median_handle_s"] == 100.0 and total["p90_handle_s"] == 300.0
    assert total["median_first_response_s"] == 20.0 and total["csat_avg"] == 3.5
    assert total["csat_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert total["dispositions"] == {"resolved": 2, "spam": 1}
    assert report["by_agent"]["asha"]["handled"] == 2 and report["by_agent"]["ravi"]["csat_avg"] == 2.0
    assert report["by_language"]["en"]["dispositions"] == {"resolved": 1}
    assert report["by_label"]["complaint"]["handled"] == 2 and report["by_label"]["-"]["handled"] == 1
    assert report["by_label"]["booth-problem"]["dispositions"] == {"resolved": 1}


@pytest.fixture
async def client(redis):  # type: ignore[no-untyped-def]
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=3)
    await Accounts(redis).add("meera", PASSWORD, role=Role.SUPERVISOR, languages=["hi", "en"])
    app = create_app(make_settings())
    async with TestClient(TestServer(app, host="127.0.0.1"), headers={"Origin": ORIGIN}) as client:
        yield client


async def _as(client, name: str) -> None:  # type: ignore[no-untyped-def]
    await client.post("/console/api/logout", json={})
    assert (await client.post("/console/api/login", json={"name": name, "password": PASSWORD})).status == 200


async def _chat(client, chat_id: str, text: str, label: str, disposition: str) -> str:  # type: ignore[no-untyped-def]
    router = client.server.app[ROUTER]
    message = InboundMessage(channel=Channel.WHATSAPP, chat_id=chat_id, text=text)
    profile = await router.store.arrive(message, text)
    await router.start_handoff(profile, HandoffSignal(reason=HandoffReason.ASK_HUMAN, language="hi"))
    conv = (await (await client.post("/console/api/take", json={})).json())["chat"]["conversation_id"]
    await client.post(f"/console/api/chats/{conv}/messages", json={"text": "मैं देखती हूँ।"})
    await client.post(f"/console/api/chats/{conv}/labels", json={"label": label})
    await client.post(f"/console/api/chats/{conv}/notes", json={"text": "आंतरिक नोट: पुरानी शिकायत"})
    assert (await client.post(f"/console/api/chats/{conv}/close", json={"disposition": disposition})).status == 200
    return conv


async def test_the_report_and_its_csv_after_two_chats(client, redis) -> None:
    await _as(client, "asha")
    await _chat(client, "919876543210", "मेरा नंबर 9876543210 है, बूथ बदल गया", "booth-problem", "resolved")
    await _chat(client, "919812345678", "spam spam", "complaint", "spam")
    await _as(client, "meera")
    report = await (await client.get("/console/api/reports")).json()
    assert report["total"]["handled"] == 2
    assert report["total"]["dispositions"] == {"resolved": 1, "spam": 1}
    assert report["total"]["median_first_response_s"] is not None
    assert report["by_agent"]["asha"]["handled"] == 2
    assert set(report["by_label"]) == {"booth-problem", "complaint"}

    resp = await client.get("/console/api/reports.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    body = (await resp.read()).decode("utf-8-sig")
    assert "9876543210" not in body and "919812345678" not in body
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["agent"], r["disposition"], r["labels"]) for r in rows] == [
        ("asha", "resolved", "booth-problem"),
        ("asha", "spam", "complaint"),
    ]
    assert all(len(r["conversation"]) == 16 for r in rows)


async def test_reports_are_for_supervisors_and_check_their_range(client) -> None:
    assert (await client.get("/console/api/reports")).status == 401
    await _as(client, "asha")
    assert (await client.get("/console/api/reports")).status == 403
    assert (await client.get("/console/api/reports.csv")).status == 403
    await _as(client, "meera")
    for query in ("from=yesterday", "from=2026-12-02&to=2026-12-01", "from=2026-01-01&to=2026-12-01"):
        resp = await client.get(f"/console/api/reports?{query}")
        assert resp.status == 400 and "error" in await resp.json()
    ok = await client.get("/console/api/reports?from=2026-11-01&to=2026-11-30")
    assert ok.status == 200 and (await ok.json())["total"]["handled"] == 0


async def test_transcript_export_is_masked_without_notes_and_for_supervisors(client, redis) -> None:
    await _as(client, "asha")
    conv = await _chat(client, "919876543210", "EPIC ABC1234567, फ़ोन 9876543210", "complaint", "resolved")
    assert (await client.get(f"/console/api/chats/{conv}/export")).status == 403
    await _as(client, "meera")
    resp = await client.get(f"/console/api/chats/{conv}/export")
    text = await resp.text()
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert "ABC1234567" not in text and "9876543210" not in text and "EPIC***67" in text
    assert "मैं देखती हूँ।" in text and "आंतरिक नोट" not in text
    as_json = await (await client.get(f"/console/api/chats/{conv}/export?format=json")).json()
    assert as_json["conversation"] == "wa:ID***10"
    assert "agent" in [t["who"] for t in as_json["turns"]] and "note" not in [t["who"] for t in as_json["turns"]]
    assert (await client.get("/console/api/chats/tg:404/export")).status == 404
    assert not await redis.exists(keys.transcript("tg:404"))

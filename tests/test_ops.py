"""Health, readiness, metrics and masked logs."""

from __future__ import annotations

import logging
import time

import structlog
from prometheus_client import REGISTRY

from bot import keys, logs
from bot.deadletters import DeadKind, DeadLetters
from tests.conftest import make_settings


async def test_healthz_and_readyz_report_each_dependency(make_gateway) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    assert (await gw.client.get("/healthz")).status == 200
    ready = await gw.client.get("/readyz")
    assert ready.status == 503
    assert await ready.json() == {"ok": False, "redis": True, "rasa": False}


async def test_metrics_are_in_prometheus_format(make_gateway) -> None:
    from tests.helpers.telegram_api import text_update

    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    await gw.post_update(text_update(1, 5550001, "नमस्ते"))
    await gw.idle()
    body = await (await gw.client.get("/metrics")).text()
    assert 'samvad_messages_in_total{channel="telegram",language="hi"}' in body
    assert 'samvad_errors_total{kind="rasa_unavailable"}' in body
    assert "samvad_rasa_roundtrip_seconds_bucket" in body
    assert 'samvad_handoff_queue_depth{language="hi"}' in body


async def test_metrics_show_rasa_down_and_the_oldest_wait_for_a_person(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    two_minutes_ago_ms = int((time.time() - 120) * 1000)
    await redis.xadd(keys.handoff_queue("hi"), {"conversation_id": "tg:5550009"}, id=f"{two_minutes_ago_ms}-0")
    await (await gw.client.get("/metrics")).text()
    assert REGISTRY.get_sample_value("samvad_rasa_up") == 0.0
    oldest = REGISTRY.get_sample_value("samvad_handoff_oldest_wait_seconds", {"language": "hi"})
    assert oldest is not None and 119 <= oldest < 600
    assert REGISTRY.get_sample_value("samvad_handoff_oldest_wait_seconds", {"language": "en"}) == 0.0


async def test_each_dead_letter_is_counted(redis) -> None:
    def count() -> float:
        return REGISTRY.get_sample_value("samvad_dead_letters_total", {"kind": "outbound"}) or 0.0

    before = count()
    dead = DeadLetters(redis, ttl_s=3600)
    await dead.record(DeadKind.OUTBOUND, "tg:5550010", text="x", reason="blocked")
    await dead.record(DeadKind.OUTBOUND, "tg:5550010", text="y", reason="blocked")
    assert count() == before + 2


def test_phone_and_epic_numbers_are_masked_in_logs(capsys) -> None:
    logs.configure("INFO")
    text = "call 98765 43210 or +919876543210, epic ABC1234567 / xyz१२३४५६७"
    structlog.get_logger("t").info("voter wrote", text=text)
    logging.getLogger("aiohttp.access").info("GET /x?phone=9876543210")
    err = capsys.readouterr().err
    for secret in ("98765 43210", "9876543210", "ABC1234567", "xyz१२३४५६७"):
        assert secret not in err
    assert "PHONE***10" in err and "EPIC***67" in err
    assert make_settings().org_name  # settings build without any environment

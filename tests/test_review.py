"""The fallback review loop: the actions keep masked messages, the export groups and counts them,
and an off-topic message sent to the real Rasa ends up in the export."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis as sync_redis
import redis.asyncio as aioredis
import yaml
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot import keys
from bot.actions import common
from bot.actions.handoff import ActionHandoff
from bot.actions.review import ActionRecordForReview
from bot.cli import main
from bot.content.lint import lint
from bot.content.review import Reason, entries_since, export, parse_since, record
from tests.conftest import redis_url
from tests.test_actions import make_tracker, run

FALLBACK_RANKING = [
    {"name": "nlu_fallback", "confidence": 0.7},
    {"name": "find_polling_station", "confidence": 0.28},
    {"name": "check_registration", "confidence": 0.2},
]


@pytest.fixture
async def store(redis: aioredis.Redis) -> AsyncIterator[aioredis.Redis]:
    """The actions write to the test database (clean for every test)."""
    common.use_redis(redis)
    yield redis
    common.use_redis(None)


def with_ranking(tracker: Any, ranking: list[dict[str, Any]]) -> Any:
    tracker.latest_message["intent_ranking"] = ranking
    return tracker


async def entries(redis: aioredis.Redis) -> list[dict[str, str]]:
    return [fields for _, fields in await redis.xrange(keys.REVIEW)]


# ------------------------------------------------------------------ the actions


async def test_a_fallback_is_kept_masked_with_the_guessed_intent(store: aioredis.Redis) -> None:
    text = "mera booth batao epic ABC1234567 phone 98765 43210"
    tracker = with_ranking(make_tracker(text, "nlu_fallback", confidence=0.7), FALLBACK_RANKING)
    events, messages = await run(ActionRecordForReview(), tracker)
    assert events == [] and messages == []
    [entry] = await entries(store)
    assert entry["text"] == "mera booth batao epic EPIC***67 phone PHONE***10"
    assert "1234567" not in str(entry) and "43210" not in str(entry) and "424242" not in str(entry)
    assert (entry["intent"], entry["confidence"], entry["reason"], entry["language"]) == (
        "find_polling_station", "0.280", "fallback", "hinglish",
    )  # fmt: skip
    assert abs(float(entry["at"]) - time.time()) < 60
    assert set(entry) == {"text", "intent", "confidence", "reason", "language", "at"}  # no conversation id


async def test_out_of_scope_is_kept_with_its_language(store: aioredis.Redis) -> None:
    tracker = make_tracker("आज मौसम कैसा रहेगा", "out_of_scope", confidence=0.91)
    await run(ActionRecordForReview(), tracker)
    [entry] = await entries(store)
    assert (entry["intent"], entry["reason"], entry["language"]) == ("out_of_scope", "out_of_scope", "hi")


async def test_a_long_message_is_cut_after_masking(store: aioredis.Redis) -> None:
    await run(ActionRecordForReview(), make_tracker("booth " * 200 + "ABC1234567", "nlu_fallback", confidence=0.2))
    await run(ActionRecordForReview(), make_tracker("x" * 496 + " 9876543210", "nlu_fallback", confidence=0.2))
    first, second = await entries(store)
    assert len(first["text"]) == 500 and first["text"].startswith("booth booth")
    assert second["text"] == "x" * 496 + " PHO"  # the number was masked before the cut


async def test_a_button_press_is_not_kept(store: aioredis.Redis) -> None:
    await run(ActionRecordForReview(), make_tracker("/out_of_scope", "out_of_scope"))
    assert await entries(store) == []


def _user(text: str, intent: str, confidence: float = 0.9) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


async def test_the_message_before_a_request_for_a_person_is_kept(store: aioredis.Redis) -> None:
    earlier = [_user("hello", "greet"), _user("booth wala form kab bharna hai 9876543210", "register_voter", 0.41)]
    tracker = make_tracker("insaan se baat karni hai", "ask_human", events=earlier)
    await run(ActionHandoff(), tracker)
    [entry] = await entries(store)
    assert (entry["text"], entry["intent"], entry["confidence"], entry["reason"]) == (
        "booth wala form kab bharna hai PHONE***10", "register_voter", "0.410", "handoff",
    )  # fmt: skip


async def test_a_second_fallback_before_the_hand_off_is_kept_once(store: aioredis.Redis) -> None:
    earlier = [_user("asdf", "nlu_fallback", 0.2)]  # recorded by action_record_for_review when it came
    tracker = with_ranking(make_tracker("qwerty booth??", "nlu_fallback", confidence=0.7), FALLBACK_RANKING)
    tracker.events[:0] = earlier
    await run(ActionHandoff(), tracker)
    [entry] = await entries(store)
    assert (entry["text"], entry["intent"], entry["reason"]) == ("qwerty booth??", "find_polling_station", "handoff")


async def test_nothing_is_kept_when_the_first_message_asks_for_a_person(store: aioredis.Redis) -> None:
    await run(ActionHandoff(), make_tracker("I want to talk to a person", "ask_human"))
    await run(
        ActionHandoff(), make_tracker("call me", "request_callback", events=[_user("ek insaan chahiye", "ask_human")])
    )
    assert await entries(store) == []


async def test_the_hand_off_still_happens_when_redis_is_down() -> None:
    common.use_redis(aioredis.Redis.from_url("redis://127.0.0.1:9/0", retry=Retry(NoBackoff(), 0)))
    try:
        tracker = make_tracker("kuch samajh nahi aaya", "ask_human", events=[_user("xyz abc", "greet", 0.3)])
        events, messages = await run(ActionHandoff(), tracker)
    finally:
        common.use_redis(None)
    assert events[-1]["event"] == "pause" and messages[0]["response"] == "utter_handoff"


# ------------------------------------------------------------------ the export


async def test_the_export_groups_merges_counts_and_respects_since(redis: aioredis.Redis) -> None:
    now = time.time()
    for text, intent, reason, lang in [
        ("booth kidhar hai", "find_polling_station", Reason.FALLBACK, "hinglish"),
        ("Booth   kidhar hai?", "find_polling_station", Reason.HANDOFF, "hinglish"),
        ("BOOTH KIDHAR HAI", "find_polling_station", Reason.FALLBACK, "hinglish"),
        ("mera naam list me hai kya", "find_polling_station", Reason.FALLBACK, "hinglish"),
        ("who won the match", "out_of_scope", Reason.OUT_OF_SCOPE, "en"),
        ("मौसम कैसा है", "out_of_scope", Reason.OUT_OF_SCOPE, "hi"),
    ]:
        await record(redis, text=text, intent=intent, confidence=0.3, reason=reason, language=lang, at=now - 60)
    await record(redis, text="old message", intent="greet", confidence=0.2, reason=Reason.FALLBACK, language="en",
                 at=now - 10 * 86400)  # fmt: skip
    # An entry written unmasked (by an older version, say) is masked on the way out.
    await redis.xadd(keys.REVIEW, {"text": "call 9876543210", "intent": "out_of_scope", "confidence": "0.5",
                                   "reason": "out_of_scope", "language": "en", "at": str(now)})  # fmt: skip

    text = await export(redis, parse_since("7d"), now=datetime.fromtimestamp(now + 1, UTC))
    assert "9876543210" not in text and "PHONE***10" in text
    assert "old message" not in text
    data = yaml.safe_load(text)
    assert data["version"] == "3.1"
    blocks = [(b["intent"], b["metadata"]["lang"], [e["text"] for e in b["examples"]]) for b in data["nlu"]]
    assert blocks == [
        ("find_polling_station", "hinglish", ["booth kidhar hai", "mera naam list me hai kya"]),
        ("out_of_scope", "en", ["call PHONE***10", "who won the match"]),
        ("out_of_scope", "hi", ["मौसम कैसा है"]),
    ]
    assert '  - text: "booth kidhar hai"  # 3x; fallback 2, handoff 1; confidence 0.30' in text
    assert '  - text: "मौसम कैसा है"  # 1x; out_of_scope 1; confidence 0.30' in text

    # Only the last hour: the same messages; only the last second: just the unmasked one.
    assert len(await entries_since(redis, now - 3600)) == 7
    assert [e.text for e in await entries_since(redis, now - 1)] == ["call PHONE***10"]


async def test_the_export_is_nlu_the_lint_reads(redis: aioredis.Redis, tmp_path: Path) -> None:
    await record(redis, text='kya "quote" : colon # hash', intent="greet", confidence=0.2,
                 reason=Reason.FALLBACK, language="hinglish")  # fmt: skip
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "review.yml").write_text(await export(redis, timedelta(hours=1)), encoding="utf-8")
    (tmp_path / "content_rules.yml").write_text("min_examples: {en: 0, hi: 0, hinglish: 0}\n", encoding="utf-8")
    (tmp_path / "domain.yml").write_text('version: "3.1"\nintents: [greet]\n', encoding="utf-8")
    # The example and its line are read back; only "greet is in no rule" is left to fix.
    assert [(p.check, p.path) for p in lint(tmp_path)] == [("unused-intent", "domain.yml")]


@pytest.mark.parametrize("value", ["7", "0d", "7 days", "-1h", ""])
def test_since_needs_a_number_and_a_unit(value: str) -> None:
    with pytest.raises(ValueError, match="like 7d"):
        parse_since(value)


def test_the_command_writes_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = sync_redis.Redis.from_url(redis_url(), decode_responses=True)
    client.delete(keys.REVIEW)
    client.xadd(keys.REVIEW, {"text": "booth kaha", "intent": "find_polling_station", "confidence": "0.3",
                              "reason": "fallback", "language": "hinglish", "at": str(time.time())})  # fmt: skip
    monkeypatch.setenv("REDIS_URL", redis_url())
    out = tmp_path / "review.yml"
    try:
        assert main(["review", "export", "--since", "2h", "--out", str(out)]) == 0
    finally:
        client.delete(keys.REVIEW)
        client.close()
    assert '- text: "booth kaha"  # 1x; fallback 1' in out.read_text(encoding="utf-8")
    assert main(["review", "export", "--since", "week"]) == 2


# ------------------------------------------------------------------ through the real Rasa


@pytest.mark.rasa
async def test_an_off_topic_message_sent_to_rasa_ends_up_in_the_export(rasa_stack: dict[str, str], redis) -> None:
    sender = f"web:review-{uuid.uuid4().hex[:8]}"
    body = {"sender": sender, "message": "who won yesterdays ipl match", "metadata": {"language": "en"}}
    url = f"{rasa_stack['rasa_url']}/webhooks/rest/webhook"
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
        session.post(url, json=body) as response,
    ):
        assert response.status == 200
        replies = await response.json()
    assert "only help with voting" in " ".join(r.get("text", "") for r in replies), replies
    data = yaml.safe_load(await export(redis, timedelta(minutes=10)))
    [block] = data["nlu"]
    assert (block["intent"], block["metadata"]["lang"]) == ("out_of_scope", "en")
    assert [e["text"] for e in block["examples"]] == ["who won yesterdays ipl match"]

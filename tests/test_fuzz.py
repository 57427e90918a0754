"""Fuzzers (hypothesis): what outsiders and careless editors can send never gets a 5xx, a crash or a hang.

At the default profile all of them together take about a minute (in `make test`); `make fuzz` runs them with
`HYPOTHESIS_PROFILE=fuzz` for as many inputs as SAMVAD_FUZZ_EXAMPLES says. The language detector and the
identifiers module have theirs in tests/test_language.py and tests/test_identifiers.py. Counts of what ran
are printed at the end (`pytest -s`) and go into docs/security.md.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.console.accounts import Accounts, Role
from bot.content.lint import lint
from bot.errors import CampaignFileError
from bot.outreach.campaign import load_campaign
from bot.schedule import Schedule
from bot.settings import ROOT
from tests.conftest import WEBHOOK_SECRET
from tests.helpers.fuzz import examples
from tests.helpers.telegram_api import callback_update, text_update

FIGURES: Counter[str] = Counter()
# One gateway serves every input of a fuzzer: it must keep serving whatever came before.
KEEP_GATEWAY = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ORIGIN = "http://127.0.0.1:8080"
PASSWORD = "correct horse battery"

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=40)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20,
)
voter_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="aA@.:/ 0123456789९-+ABCkyaहै\ud800\n", max_size=300),
    st.sampled_from(["/start", "/stop", "/delete", "#" + "x" * 40, "", " ", "\u0000", "ABC-1234567"]),
)


def _mutated(update: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """`update` with the field at `path` replaced by `value` (a type confusion, a missing part)."""
    node: Any = update
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return update
    node[path[-1]] = value
    return update


@st.composite
def telegram_updates(draw: st.DrawFn) -> str:
    update_id = draw(st.integers(1, 2**40))
    base = (
        text_update(update_id, draw(st.integers(-(2**40), 2**40)), draw(voter_text))
        if draw(st.booleans())
        else callback_update(update_id, draw(st.integers(1, 2**40)), draw(voter_text))
    )
    paths = [["update_id"], ["message"], ["message", "chat"], ["message", "chat", "type"], ["message", "text"],
             ["message", "from"], ["message", "date"], ["callback_query"], ["callback_query", "data"]]  # fmt: skip
    for _ in range(draw(st.integers(0, 3))):
        base = _mutated(base, draw(st.sampled_from(paths)), draw(json_value))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=100))  # not even JSON
    return json.dumps(base)


@pytest.fixture
async def gateway(make_gateway):  # type: ignore[no-untyped-def]
    return await make_gateway(voter_messages_per_window=10_000, address_messages_per_window=100_000)


@KEEP_GATEWAY
@given(body=telegram_updates())
async def test_fuzz_telegram_updates(gateway, body: str) -> None:  # type: ignore[no-untyped-def]
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET, "Content-Type": "application/json"}
    resp = await gateway.client.post("/telegram/webhook", data=body.encode("utf-8", "surrogatepass"), headers=headers)
    FIGURES["telegram updates"] += 1
    assert resp.status in (200, 400), (resp.status, body[:300])


@st.composite
def webchat_frames(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["message", "button", "hello", "other"]))
    frame: dict[str, Any] = {"type": kind if kind != "other" else draw(json_value)}
    frame["text" if kind != "button" else "payload"] = draw(st.one_of(voter_text, json_value))
    if draw(st.booleans()):
        frame["id"] = draw(st.one_of(st.text(max_size=70), json_value))
    if draw(st.integers(0, 7)) == 0:
        return draw(st.one_of(st.text(max_size=200), json_value.map(json.dumps)))
    return json.dumps(frame)


@KEEP_GATEWAY
@given(frames=st.lists(webchat_frames(), min_size=1, max_size=5))
async def test_fuzz_webchat_frames(gateway, frames: list[str]) -> None:  # type: ignore[no-untyped-def]
    ws = await gateway.client.ws_connect("/webchat/ws", headers={"Origin": ORIGIN})
    await ws.send_json({"type": "hello", "secret": None})
    for frame in frames:
        await ws.send_str(frame)
        FIGURES["web-chat frames"] += 1
    await ws.send_json({"type": "message", "text": "ping", "id": "fuzz-end"})
    while True:  # whatever came before, the socket still answers
        reply = await asyncio.wait_for(ws.receive_json(), 30)
        if reply == {"type": "ack", "id": "fuzz-end"}:
            break
        assert reply["type"] in ("identity", "history", "ack", "error", "message"), reply
    await ws.close()


CONSOLE_POSTS = [
    "/console/api/login", "/console/api/presence", "/console/api/take", "/console/api/chats/tg:1/messages",
    "/console/api/chats/tg:1/close", "/console/api/chats/tg:1/transfer", "/console/api/callbacks/1-0",
]  # fmt: skip


@pytest.fixture
async def agent(gateway, redis):  # type: ignore[no-untyped-def]
    await Accounts(redis).add("fuzz", PASSWORD, role=Role.SUPERVISOR, languages=["hi", "en"])
    client: TestClient = gateway.client
    assert (await client.post("/console/api/login", json={"name": "fuzz", "password": PASSWORD})).status == 200
    return client


@KEEP_GATEWAY
@given(
    path=st.one_of(st.sampled_from(CONSOLE_POSTS), st.text(max_size=30).map(lambda s: "/console/api/callbacks/" + s)),
    body=st.one_of(json_value.map(json.dumps), st.text(max_size=200)),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]),
)
async def test_fuzz_console_api_bodies(agent, path: str, body: str, content_type: str) -> None:  # type: ignore[no-untyped-def]
    if path.endswith("/login"):
        return  # would log the fuzzing agent out of its own session; login bodies: test_console_auth.py
    resp = await agent.post(
        path.replace("?", "%3F").replace("#", "%23"),
        data=body.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": content_type},
    )
    FIGURES["console API bodies"] += 1
    assert resp.status < 500, (resp.status, path, body[:200])


def _edit(draw: st.DrawFn, text: str) -> str:
    """The file with a few careless edits: a cut, a paste of junk, a line doubled or dropped."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["cut", "paste", "double", "tab"]))
        if edit == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 80)) :]
        elif edit == "paste":
            text = text[:at] + draw(st.text(alphabet=":-[]{}#&*!|>'\" \n\tabc१{}", max_size=30)) + text[at:]
        elif edit == "double":
            lines = text.splitlines(keepends=True)
            if lines:
                n = draw(st.integers(0, len(lines) - 1))
                lines.insert(n, lines[n])
            text = "".join(lines)
        else:
            text = text[:at] + "\t" + text[at:]
    return text


CAMPAIGN = (ROOT / "campaigns" / "polling-day-reminder.yml").read_text(encoding="utf-8")


@settings(max_examples=examples(0.5))
@given(data=st.data())
def test_fuzz_campaign_files(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("campaign") / "fuzzed.yml"
    text = data.draw(st.one_of(st.just(CAMPAIGN), st.text(max_size=200)))
    if data.draw(st.booleans()):
        text = _edit(data.draw, text)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    FIGURES["campaign files"] += 1
    try:
        load_campaign(path, Schedule.load(ROOT / "data" / "schedule.yml"))
    except CampaignFileError as exc:
        assert exc.problems, "an error names what is wrong"


@pytest.fixture(scope="module")
def content_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("content")
    for name in ("nlu", "stories"):
        shutil.copytree(ROOT / name, root / name)
    for name in ("domain.yml", "content_rules.yml"):
        shutil.copy(ROOT / name, root / name)
    return root


@settings(max_examples=examples(0.1), suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), target=st.sampled_from(["domain.yml", "nlu/registration.yml", "stories/handoff.yml"]))
def test_fuzz_content_files(content_copy: Path, data: st.DataObject, target: str) -> None:
    path = content_copy / target
    if not path.exists():
        path = sorted((content_copy / target.split("/")[0]).glob("*.yml"))[0] if "/" in target else path
    original = (ROOT / path.relative_to(content_copy)).read_text(encoding="utf-8")
    path.write_text(_edit(data.draw, original), encoding="utf-8")
    FIGURES["content files"] += 1
    try:
        problems = lint(content_copy)  # problems with file and line, never a traceback
        assert all(p.path and p.line >= 1 for p in problems)
    finally:
        path.write_text(original, encoding="utf-8")


def test_zz_print_figures() -> None:
    """Runs last in this module: the figures for docs/security.md (shown with `pytest -s`)."""
    print("\nfuzzed inputs:", dict(FIGURES), "total", sum(FIGURES.values()))

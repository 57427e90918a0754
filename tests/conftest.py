"""Shared fixtures: a clean Redis database per test, the real app, a real Rasa, a stand-in Bot API."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import redis_client
from bot.app import ROUTER, create_app
from bot.devcluster import LocalCluster
from bot.devstack import Stack, free_port, wait_for_port
from bot.settings import ROOT, Settings
from tests.helpers import fuzz as _fuzz  # noqa: F401 - registers the hypothesis profiles
from tests.helpers import graph_api as wa
from tests.helpers.telegram_api import FakeTelegram

REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
GATEWAY_DB = 9  # the gateway's keys in tests
RASA_DB = 8  # Rasa's tracker and lock store in tests
ACTIONS_DB = GATEWAY_DB  # actions share the gateway's database, as in production
WEBHOOK_SECRET = "test-secret-" + "x" * 8
RASA_TOKEN = "test-rasa-token"


def redis_url(db: int = GATEWAY_DB) -> str:
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"


# The Redis-facing modules run every test twice: on the standalone Redis and on a real Redis Cluster of three
# masters (SAMVAD_REDIS_CLUSTER=1, docs/scaling.md). Their gateways, made with `make_settings`, use the same one.
CLUSTER_MODULES = {
    "test_lanes",
    "test_store",
    "test_conversation",
    "test_handoff_queue",
    "test_handoff_router",
    "test_consent",
    "test_outreach_sender",
    "test_console",
    "test_console_events",
    "test_telegram_webhook",
    "test_webchat",
    "test_outage",
    "test_maintenance",
}
# What `make_settings` points a gateway at: the Redis of the test running now.
_TARGET: dict[str, object] = {"url": redis_url(), "cluster": False}


def another_client() -> aioredis.Redis:
    """A new client of its own (its own connections) on the Redis the running test uses."""
    return redis_client.connect(str(_TARGET["url"]), cluster=bool(_TARGET["cluster"]))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    # Not the tests with the session's Rasa: its action server writes to the standalone Redis.
    with_rasa = metafunc.definition.get_closest_marker("rasa") is not None or "rasa_stack" in metafunc.fixturenames
    if module in CLUSTER_MODULES and "redis" in metafunc.fixturenames and not with_rasa:
        metafunc.parametrize("redis_kind", ["standalone", "cluster"], indirect=True)


@pytest.fixture
def redis_kind(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "standalone"))


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[LocalCluster]:
    """A real Redis Cluster of three masters on free ports, for the whole run."""
    stack = Stack(log_dir=ROOT / ".run" / "tests-cluster")
    cluster = LocalCluster(stack, masters=3).start()
    yield cluster
    cluster.stop()


@pytest.fixture
async def redis(redis_kind: str, request: pytest.FixtureRequest) -> AsyncIterator[aioredis.Redis]:
    if redis_kind == "cluster":
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        client = redis_client.connect(cluster.url, cluster=True)
        _TARGET.update(url=cluster.url, cluster=True)
    else:
        client = aioredis.Redis.from_url(redis_url(), decode_responses=True)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
    _TARGET.update(url=redis_url(), cluster=False)


@pytest.fixture(scope="session")
def rasa_stack() -> Iterator[dict[str, str]]:
    """A real Rasa server with the trained model, and the real action server."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make train` (make test does it)")
    import redis as sync_redis

    sync_redis.Redis.from_url(redis_url(RASA_DB)).flushdb()  # trackers left by an earlier run
    stack = Stack(log_dir=ROOT / ".run" / "tests")
    try:
        actions = stack.start_actions(free_port(), redis_url(ACTIONS_DB))
        rasa = stack.start_rasa(free_port(), RASA_TOKEN, redis_url(), actions, rasa_db=RASA_DB)
        _STACKS.append(stack)
        yield {"rasa_url": rasa, "actions_url": actions}
    finally:
        _STACKS.clear()
        stack.stop_all()


_STACKS: list[Stack] = []


@pytest.fixture
def action_server(rasa_stack: dict[str, str]) -> Iterator[Stack]:
    """The session's action server, which the test may stop: it runs again, on its port, afterwards."""
    stack = _STACKS[0]
    yield stack
    if "actions" not in stack.procs:
        port = int(rasa_stack["actions_url"].rsplit(":", 1)[1])
        stack.start_actions(port, redis_url(ACTIONS_DB))


@pytest.fixture
async def telegram_api() -> AsyncIterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "redis_url": _TARGET["url"],
        "redis_cluster": _TARGET["cluster"],
        "rasa_url": "http://127.0.0.1:9",
        "rasa_token": RASA_TOKEN,
        "rasa_tracker_redis_url": redis_url(RASA_DB),
        "rasa_timeout_s": 20.0,
        "rasa_retry_interval_s": 0.2,
        "webhook_secret": WEBHOOK_SECRET,
        "chat_interval_s": 0.0,
        "public_url": "http://127.0.0.1:8080",
        "texts_file": ROOT / "gateway_texts.yml",
        "agent_hours": "00:00-00:00",  # people on duty all day, so tests do not depend on the clock
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class Gateway:
    """The real aiohttp app in-process, with helpers to talk to it like Telegram does."""

    def __init__(self, client: TestClient, telegram: FakeTelegram) -> None:
        self.client = client
        self.telegram = telegram
        self.app: web.Application = client.server.app  # type: ignore[assignment]

    async def post_update(self, update: dict[str, object], secret: str | None = WEBHOOK_SECRET):
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.client.post("/telegram/webhook", json=update, headers=headers)

    async def idle(self) -> None:
        await self.app[ROUTER].lanes.wait_idle()


@pytest.fixture
async def make_gateway(redis: aioredis.Redis, telegram_api: tuple[FakeTelegram, str]):  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []
    fake, api_url = telegram_api

    async def factory(**overrides: object) -> Gateway:
        settings = make_settings(telegram_bot_token=fake.token, telegram_api_url=api_url, **overrides)
        # As a browser on the gateway's page would: every POST carries the page's Origin (the CSRF guard wants it).
        client = TestClient(TestServer(create_app(settings), host="127.0.0.1"), headers={"Origin": settings.public_url})
        await client.start_server()
        clients.append(client)
        return Gateway(client, fake)

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
async def graph_api() -> AsyncIterator[wa.FakeGraph]:
    fake = wa.FakeGraph()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.base_url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


class WhatsAppGateway:
    """The real app with WhatsApp configured against the Graph API stand-in."""

    def __init__(self, client: TestClient, graph: wa.FakeGraph) -> None:
        self.client = client
        self.graph = graph
        self.app: web.Application = client.server.app  # type: ignore[assignment]

    async def post(self, payload: object, secret: str = wa.APP_SECRET):  # type: ignore[no-untyped-def]
        raw, headers = wa.signed(payload, secret)
        return await self.client.post("/whatsapp/webhook", data=raw, headers=headers)

    async def idle(self) -> None:
        await self.app[ROUTER].lanes.wait_idle()


@pytest.fixture
async def make_whatsapp_gateway(redis: aioredis.Redis, graph_api: wa.FakeGraph):  # type: ignore[no-untyped-def]
    clients: list[TestClient] = []

    async def factory(**overrides: object) -> WhatsAppGateway:
        values: dict[str, object] = {
            "whatsapp_access_token": wa.TOKEN,
            "whatsapp_phone_number_id": wa.PHONE_NUMBER_ID,
            "whatsapp_app_secret": wa.APP_SECRET,
            "whatsapp_verify_token": wa.VERIFY_TOKEN,
            "whatsapp_api_url": graph_api.api_url,
            "whatsapp_backoff_s": 0.05,
            **overrides,
        }
        settings = make_settings(**values)
        client = TestClient(TestServer(create_app(settings), host="127.0.0.1"), headers={"Origin": settings.public_url})
        await client.start_server()
        clients.append(client)
        return WhatsAppGateway(client, graph_api)

    yield factory
    for client in clients:
        await client.close()


def new_secret() -> str:
    return secrets.token_hex(8)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def own_redis():  # type: ignore[no-untyped-def]
    """A redis-server of this test's own, which the test may stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed")
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="samvad-redis-")
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", ""]
    # Every write reaches the append-only file before Redis answers, so even SIGKILL loses nothing.
    cmd += ["--appendonly", "yes", "--appendfsync", "always"]
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
        wait_for_port(port, "redis", 10)

    def stop(sig: int = signal.SIGTERM) -> None:
        procs[-1].send_signal(sig)
        procs[-1].wait(10)

    start()
    yield port, start, stop
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)

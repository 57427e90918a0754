"""Console logins, sessions and the CSRF guard against the attacks a probe ran (issue 14, items 4, 7 and 9)."""

from __future__ import annotations

import asyncio
import json
import threading

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot import keys
from bot.app import create_app
from bot.console import accounts as accounts_module
from bot.console.accounts import Accounts, Role
from bot.console.auth import MAX_FAILURES, SESSION_TTL_S
from tests.conftest import make_settings

PASSWORD = "correct horse battery"
ORIGIN = "http://127.0.0.1:8080"  # PUBLIC_URL in tests
EMBEDDER = "https://campaign.example"


@pytest.fixture
async def server(redis):  # type: ignore[no-untyped-def]
    await Accounts(redis).add("asha", PASSWORD, role=Role.AGENT, languages=["hi"])
    app = create_app(make_settings(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, webchat_origins=[EMBEDDER]))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def _client(server: TestServer, local: str = "127.0.0.1") -> aiohttp.ClientSession:
    """A browser at address `local` on the console's page (its requests carry the page's Origin)."""
    return aiohttp.ClientSession(
        base_url=str(server.make_url("")),
        connector=aiohttp.TCPConnector(local_addr=(local, 0)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"Origin": ORIGIN},
    )


async def _login(client: aiohttp.ClientSession, password: str = PASSWORD, name: str = "asha") -> int:
    return (await client.post("/console/api/login", json={"name": name, "password": password})).status


# --- login ------------------------------------------------------------------------------------------------


async def test_parallel_guesses_cannot_pass_the_failure_limit(server: TestServer) -> None:
    """The counter was read, then incremented later: 40 parallel guesses all got their try."""
    async with _client(server) as client:
        statuses = await asyncio.gather(*(_login(client, f"guess-{n}") for n in range(40)))
    assert statuses.count(401) <= MAX_FAILURES
    assert statuses.count(429) >= 40 - MAX_FAILURES


async def test_an_outsider_locking_an_account_out_does_not_stop_the_real_agent(server: TestServer) -> None:
    async with _client(server, "127.0.0.2") as outsider:
        statuses = [await _login(outsider, f"guess-{n}") for n in range(MAX_FAILURES + 2)]
        assert statuses[-1] == 429
        assert await _login(outsider) == 429  # even the right password, from the guessing address
    async with _client(server, "127.0.0.1") as agent:
        assert await _login(agent) == 200


async def test_one_address_cannot_try_many_names(server: TestServer) -> None:
    async with _client(server, "127.0.0.3") as outsider:
        statuses = [await _login(outsider, "x", name=f"name-{n}") for n in range(25)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}


async def test_argon2_runs_off_the_event_loop_and_unknown_names_are_hashed_too(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the loop, 40 logins stalled every voter for 8 s; a known name took 216 ms against 1.7 ms unknown."""
    calls: list[bool] = []
    hasher = accounts_module._hasher

    class Spy:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(threading.current_thread() is threading.main_thread())
            return hasher.verify(stored, password)

        def hash(self, password: str) -> str:
            return hasher.hash(password)

    monkeypatch.setattr(accounts_module, "_hasher", Spy())
    async with _client(server) as client:
        assert await _login(client, name="nobody-by-this-name") == 401
        assert await _login(client, "wrong") == 401
        assert await _login(client) == 200
    assert calls == [False, False, False]  # three hashes, none on the loop's thread


async def test_a_session_is_written_with_its_ttl(server: TestServer, redis) -> None:  # type: ignore[no-untyped-def]
    async with _client(server) as client:
        assert await _login(client) == 200
    [key] = [k async for k in redis.scan_iter(match=keys.console_session("*"))]
    assert 0 < await redis.ttl(key) <= SESSION_TTL_S


# --- CSRF -------------------------------------------------------------------------------------------------


async def test_a_page_elsewhere_cannot_make_the_agent_act(server: TestServer) -> None:
    """A page on another port sent a text/plain body, which the API took as JSON."""
    async with _client(server) as agent:
        assert await _login(agent) == 200
        take = "/console/api/take"
        forged = await agent.post(take, data='{"x":1}', headers={"Content-Type": "text/plain", "Origin": ORIGIN})
        assert forged.status == 415
        for origin in ("http://127.0.0.1:9999", "null", ""):
            resp = await agent.post(take, json={}, headers={"Origin": origin})
            assert resp.status == 403, origin
        # DNS rebinding: the attacker's name resolves to the gateway, so Host and Origin agree; still refused.
        host = f"evil.example:{server.port}"
        resp = await agent.post(take, json={}, headers={"Origin": f"http://{host}", "Host": host})
        assert resp.status == 403
        assert (await agent.post(take, json={})).status == 200


async def test_the_console_websocket_trusts_configured_origins_only(server: TestServer) -> None:
    async with _client(server) as agent:
        assert await _login(agent) == 200
        host = f"evil.example:{server.port}"
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await agent.ws_connect("/console/ws", headers={"Origin": f"http://{host}", "Host": host})


# --- headers ----------------------------------------------------------------------------------------------


async def test_the_console_cannot_be_framed_and_sends_no_referrer(server: TestServer) -> None:
    async with _client(server) as client:
        for path in ("/console", "/console/api/me"):
            resp = await client.get(path)
            csp = resp.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
            assert resp.headers["X-Frame-Options"] == "DENY"
            assert resp.headers["Referrer-Policy"] == "no-referrer"


async def test_the_web_chat_can_be_framed_by_the_allowed_sites_only(server: TestServer) -> None:
    async with _client(server) as client:
        resp = await client.get("/chat")
    csp = resp.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {EMBEDDER}" in csp and "script-src 'self'" in csp
    assert "X-Frame-Options" not in resp.headers  # it cannot name the allowed sites; frame-ancestors does
    assert resp.headers["Referrer-Policy"] == "no-referrer"


# --- bad inputs -------------------------------------------------------------------------------------------


async def test_deep_json_and_garbage_ids_get_a_4xx(server: TestServer) -> None:
    """100,000-deep JSON and POST /console/api/callbacks/<garbage> gave 500."""
    async with _client(server) as client:
        deep = "[" * 100_000 + "]" * 100_000
        resp = await client.post("/console/api/login", data=deep, headers={"Content-Type": "application/json"})
        assert resp.status == 400
        assert await _login(client) == 200
        for garbage in ("garbage", "1-2-3", "-", "99999999999999999999999-1"):
            resp = await client.post(f"/console/api/callbacks/{garbage}", json={"status": "done"})
            assert resp.status == 404, garbage
        assert (await client.get("/healthz")).status == 200


# --- one pub/sub per process (issue 14, item 3) ---------------------------------------------------------


async def test_console_sockets_share_one_pub_sub_connection(server: TestServer, redis) -> None:  # type: ignore[no-untyped-def]
    """Each console websocket held a pub/sub connection of its own, out of the same pool as the voters'."""
    async with _client(server) as agent:
        assert await _login(agent) == 200
        sockets = [await agent.ws_connect("/console/ws") for _ in range(5)]
        for ws in sockets:
            assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "queues"
        for _ in range(50):
            if (await redis.pubsub_numsub(keys.CONSOLE_EVENTS))[0][1] == 1:
                break
            await asyncio.sleep(0.05)
        assert (await redis.pubsub_numsub(keys.CONSOLE_EVENTS))[0][1] == 1
        await redis.publish(keys.CONSOLE_EVENTS, json.dumps({"type": "queues"}))
        for ws in sockets:
            assert (await asyncio.wait_for(ws.receive_json(), 10))["type"] == "queues"
        for ws in sockets:
            await ws.close()

"""The action server listens on loopback only and refuses every call without the shared secret (issue 14, item 1)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.actions.server import TOKEN_HEADER
from bot.devstack import Stack, free_port
from bot.settings import ROOT
from tests.conftest import redis_url

# What Rasa posts to run an action (the schedule action needs no data from the tracker to answer).
ACTION_CALL = {
    "next_action": "action_election_schedule",
    "sender_id": "web:victim-conversation",
    "tracker": {
        "sender_id": "web:victim-conversation",
        "slots": {"language": "en"},
        "latest_message": {},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    },
    "domain": {},
    "version": "3.6.21",
}


@pytest.fixture(scope="module")
def actions() -> Iterator[tuple[str, str, int]]:
    stack = Stack(log_dir=ROOT / ".run" / "tests")
    port = free_port()
    try:
        url = stack.start_actions(port, redis_url())
        yield url, stack.action_token, port
    finally:
        stack.stop_all()


def _post(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{url}/webhook", data=json.dumps(ACTION_CALL).encode(), headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_call_without_the_secret_is_refused(actions: tuple[str, str, int]) -> None:
    url, token, _ = actions
    assert _post(url, {}) == 401
    assert _post(url, {TOKEN_HEADER: "wrong"}) == 401
    assert _post(url, {TOKEN_HEADER: token[:-1]}) == 401
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{url}/actions", timeout=10)
    assert refused.value.code == 401


def test_rasa_with_the_secret_is_served(actions: tuple[str, str, int]) -> None:
    url, token, _ = actions
    assert _post(url, {TOKEN_HEADER: token}) == 200
    with urllib.request.urlopen(f"{url}/health", timeout=10) as resp:  # probes need no secret
        assert resp.status == 200


def test_it_listens_on_loopback_only(actions: tuple[str, str, int]) -> None:
    """rasa_sdk's own CLI binds 0.0.0.0; 127.0.0.2 is another local address that 0.0.0.0 would accept."""
    _, _, port = actions
    with socket.socket() as sock:
        sock.settimeout(2)
        assert sock.connect_ex(("127.0.0.2", port)) != 0


def test_endpoints_yml_sends_the_secret_header() -> None:
    text = (ROOT / "endpoints.yml").read_text(encoding="utf-8")
    assert f"{TOKEN_HEADER}: ${{ACTION_SERVER_TOKEN}}" in text


def test_it_will_not_start_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.actions import server

    monkeypatch.delenv("SAMVAD_ACTION_SERVER_TOKEN", raising=False)
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    with pytest.raises(SystemExit, match="SAMVAD_ACTION_SERVER_TOKEN"):
        server.main(["--port", str(free_port())])

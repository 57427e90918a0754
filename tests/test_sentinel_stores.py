"""rasa_ext.sentinel: Rasa's tracker and lock stores follow a Sentinel failover, with no restart.

A real master, replica and Sentinel (redis-server on free ports); the stores run in Rasa's own Python
(.venv-rasa), as inside Rasa: a tracker saved before the failover is read back after it from the new
master and saved there again, and a lock taken after it works there.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bot.devstack import free_port, wait_for_port
from bot.settings import ROOT

pytestmark = pytest.mark.rasa
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
SERVICE = "samvad-test"

SCRIPT = """
import asyncio, sys
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_ext.sentinel import SentinelLockStore, SentinelTrackerStore

sentinels, step = sys.argv[1], sys.argv[2]
domain = Domain.load("domain.yml")
store = SentinelTrackerStore(domain, sentinels=sentinels, service_name="samvad-test", db=3, key_prefix="samvad")
locks = SentinelLockStore(endpoint_config=EndpointConfig(
    sentinels=sentinels, service_name="samvad-test", db=3, key_prefix="samvad"))

async def main():
    if step == "save":
        tracker = DialogueStateTracker.from_events("tg:1", [UserUttered("namaste"), SlotSet("language", "hi")])
        await store.save(tracker)
    else:
        tracker = await store.retrieve("tg:1")
        print("language", tracker.get_slot("language"), "events", len(tracker.events))
        tracker.update(UserUttered("dhanyavaad"))
        await store.save(tracker)  # a replica would answer READONLY
        print("saved", store.red.connection_pool.get_master_address()[1])
    async with locks.lock("tg:1"):
        print("locked", locks.red.connection_pool.get_master_address()[1])

asyncio.run(main())
"""


def _server(tmp: Path, name: str, *args: str) -> subprocess.Popen[bytes]:
    (tmp / name).mkdir()
    cmd = [shutil.which("redis-server") or "redis-server", *args, "--dir", str(tmp / name)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL)


@pytest.fixture
def sentinel_pair(tmp_path: Path) -> Iterator[tuple[int, int, int]]:
    if not RASA_PYTHON.exists():
        pytest.fail("Rasa is not installed in .venv-rasa: run `make setup`")
    master, replica, sentinel = free_port(), free_port(), free_port()
    procs = [
        _server(tmp_path, "master", "--port", str(master), "--save", ""),
        _server(tmp_path, "replica", "--port", str(replica), "--save", "", "--replicaof", "127.0.0.1", str(master)),
    ]
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel}\nbind 127.0.0.1\nsentinel monitor {SERVICE} 127.0.0.1 {master} 1\n"
        f"sentinel down-after-milliseconds {SERVICE} 1000\nsentinel failover-timeout {SERVICE} 5000\n"
    )
    (tmp_path / "sentinel").mkdir()
    procs.append(subprocess.Popen([shutil.which("redis-server") or "redis-server", str(conf), "--sentinel"],
                                  stdout=subprocess.DEVNULL, cwd=tmp_path / "sentinel"))  # fmt: skip
    try:
        for port in (master, replica, sentinel):
            wait_for_port(port, "redis", 20)
        yield master, replica, sentinel
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def _run(sentinel: int, step: str) -> str:
    result = subprocess.run(
        [str(RASA_PYTHON), "-c", SCRIPT, f"127.0.0.1:{sentinel}", step],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _until(condition, what: str, timeout_s: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_tracker_and_lock_follow_a_failover(sentinel_pair: tuple[int, int, int]) -> None:
    master, replica, sentinel = sentinel_pair
    watcher = redis.Redis(port=sentinel, decode_responses=True)

    def replica_known() -> bool:
        return any(r.get("master-link-status") == "ok" for r in watcher.sentinel_slaves(SERVICE))

    _until(replica_known, "the Sentinel to find the replica")
    assert f"locked {master}" in _run(sentinel, "save")

    def caught_up() -> bool:
        offset = redis.Redis(port=master).info("replication")["master_repl_offset"]
        return int(redis.Redis(port=replica).info("replication")["master_repl_offset"]) >= int(offset)

    _until(caught_up, "the replica to catch up")

    watcher.execute_command("SENTINEL", "FAILOVER", SERVICE)
    _until(lambda: int(watcher.sentinel_get_master_addr_by_name(SERVICE)[1]) == replica, "the failover")

    out = _run(sentinel, "retrieve")
    assert "language hi" in out and f"saved {replica}" in out and f"locked {replica}" in out

"""The scale demo's own parts: how it counts lost and out-of-order replies, and its HAProxy configuration.

The demo itself (`make scale-demo`, about 5 minutes with two Rasa servers) is not part of `make test`;
the Redis Cluster behaviour it shows is tested by the cluster runs of the Redis-facing tests.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks.scale_load import Tally, score
from benchmarks.scale_stack import haproxy_config


def tally(chat: int, asked: list[str]) -> Tally:
    t = Tally()
    t.questions[chat] = [(question, float(n)) for n, question in enumerate(asked)]
    return t


def test_answers_in_the_order_asked_count_nothing_lost_or_out_of_order() -> None:
    replies = {1: [("welcome", 0.1), ("A", 1.0), ("extra line of A", 1.1), ("B", 2.0), ("A", 3.0)]}
    scored = score(tally(1, ["A", "B", "A"]), replies)
    assert scored["lost"] == 0 and scored["out_of_order"] == 0
    assert len(scored["latencies_ms"]) == 3


def test_a_missing_answer_is_lost_and_a_swapped_one_out_of_order() -> None:
    assert score(tally(1, ["A", "B", "C"]), {1: [("A", 1.0), ("C", 2.0)]})["lost"] == 1
    swapped = score(tally(1, ["A", "B", "C"]), {1: [("A", 1.0), ("C", 2.0), ("B", 3.0)]})
    assert swapped["out_of_order"] == 1 and swapped["lost"] == 0


def test_an_unanswered_hand_off_is_lost() -> None:
    t = tally(1, ["A"])
    t.handoffs_asked, t.handoffs_answered = 3, 2
    assert score(t, {1: [("A", 1.0)]})["lost"] == 1


def test_the_load_balancer_configuration_is_valid_haproxy(tmp_path: Path) -> None:
    haproxy = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if haproxy is None:
        pytest.fail("haproxy is not installed: `make tools` installs it")
    config = tmp_path / "haproxy.cfg"
    fronts = {"gateway": 18080, "rasa": 15005, "actions": 15055}
    config.write_text(haproxy_config(fronts, {"gateway": [1, 2], "rasa": [3, 4], "actions": [5]}), encoding="utf-8")
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "server gateway2 127.0.0.1:2 check" in config.read_text()

"""The committed Prometheus alert rules and Grafana dashboard: valid, tested, and naming only real metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from bot import metrics
from bot.settings import ROOT

PROMETHEUS = ROOT / "ops" / "prometheus"
DASHBOARD = ROOT / "ops" / "grafana" / "samvad.json"
# Series that Prometheus itself (up) and prometheus_client's process collector give every target.
STANDARD = {"up", "process_cpu_seconds_total", "process_resident_memory_bytes"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def tool(name: str, package: str) -> str:
    """A Debian tool's path; skipped when missing, except in CI (CI=true), where `make tools` must have run."""
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if Path(p).exists()), None)
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is missing: `make tools` installs Debian's {package} package")
    pytest.skip(f"{name} is missing (make tools installs Debian's {package})")


def promtool() -> str:
    return tool("promtool", "prometheus")


def exposed_series() -> set[str]:
    """Every series name bot/metrics.py can expose."""
    names = set()
    for collector in vars(metrics).values():
        if isinstance(collector, MetricWrapperBase):
            for family in collector.describe():
                names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def series_in(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}", "", expr)
    return set(re.findall(r"\b(samvad_[a-z_]+|process_[a-z_]+|up)\b", without_labels))


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs and all(p["targets"] for p in dashboard["panels"])
    return exprs


def alert_exprs() -> list[str]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def test_alert_rules_pass_promtool_check() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", "alerts.yml"], cwd=PROMETHEUS, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_synthetic_series() -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", "alerts.test.yml"], cwd=PROMETHEUS, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", (PROMETHEUS / "alerts.test.yml").read_text()))
    defined = set(re.findall(r"- alert: (\w+)", (PROMETHEUS / "alerts.yml").read_text()))
    assert defined and tested == defined  # no alert without a unit test


def test_dashboard_and_alerts_name_only_metrics_that_exist() -> None:
    known = exposed_series() | STANDARD
    assert "samvad_handoff_oldest_wait_seconds" in known and "samvad_rasa_roundtrip_seconds_bucket" in known
    for expr in dashboard_exprs() + alert_exprs():
        used = series_in(expr)
        assert used, expr
        assert used <= known, f"{sorted(used - known)} in {expr!r} is not a metric of bot/metrics.py"


def test_the_dashboard_covers_the_operators_questions() -> None:
    used = set().union(*(series_in(e) for e in dashboard_exprs()))
    for name in (
        "samvad_messages_in_total",
        "samvad_rasa_roundtrip_seconds_bucket",
        "samvad_gateway_own_seconds_bucket",
        "samvad_handoff_queue_depth",
        "samvad_handoff_oldest_wait_seconds",
        "samvad_errors_total",
        "samvad_throttled_total",
    ):
        assert name in used


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel's query, as a recording rule, with Grafana's variables filled in."""
    rules = [
        {"record": f"samvad:panel_{i}", "expr": e.replace("$__rate_interval", "5m").replace("$job", "samvad-gateway")}
        for i, e in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "panels.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "panels", "rules": rules}]}))
    result = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_haproxy_example_is_a_valid_configuration(tmp_path: Path) -> None:
    """ops/haproxy/haproxy.cfg as `haproxy -c` reads it, with a throwaway certificate in place of the real one."""
    haproxy = tool("haproxy", "haproxy")
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is missing: cannot make the test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    bundle = tmp_path / "samvad.pem"
    bundle.write_text(cert.read_text() + key.read_text())
    config = (ROOT / "ops" / "haproxy" / "haproxy.cfg").read_text()
    assert "/etc/haproxy/certs/samvad.pem" in config
    checked = tmp_path / "haproxy.cfg"
    checked.write_text(config.replace("/etc/haproxy/certs/samvad.pem", str(bundle)))
    result = subprocess.run([haproxy, "-c", "-f", str(checked)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for backend in ("backend gateways", "backend rasa_servers", "backend action_servers"):
        assert backend in config

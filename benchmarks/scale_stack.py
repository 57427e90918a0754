"""The scale-out layout on one machine: a Redis Cluster, gateways and Rasa servers behind HAProxy.

    Redis Cluster: 3 masters + 1 replica each (AOF, fsync every second)      <- gateways, action server
    standalone Redis: Rasa's tracker and lock store (Rasa 3.6 speaks no Cluster; docs/scaling.md)
    HAProxy :gateways -> gateway-1, gateway-2      (round robin, health-checked on /healthz)
            :rasa     -> rasa-1, rasa-2            (round robin; the lock store keeps one turn at a time)
            :actions  -> actions                   (one here; add servers the same way)

Everything is an ordinary process of this machine, started from the same commands a deployment uses.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.stacks import RASA_TOKEN, WEBHOOK_SECRET, _rasa, start_gateway, start_redis
from bot.devcluster import LocalCluster
from bot.devstack import TRACKER_TTL_S, Stack, free_port, wait_for_http, wait_for_port
from bot.settings import ROOT

HAPROXY_CFG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # A request that could not reach a server (it was killed) goes to another one; nothing was sent yet.
    retries 3
    option redispatch
    retry-on conn-failure empty-response
    default-server inter 500ms fall 2 rise 2
frontend gateways
    bind 127.0.0.1:{gateway_port}
    default_backend gateways
backend gateways
    balance roundrobin
    option httpchk GET /healthz
{gateway_servers}
frontend rasa
    bind 127.0.0.1:{rasa_port}
    default_backend rasa
backend rasa
    balance roundrobin
    option httpchk GET /
{rasa_servers}
frontend actions
    bind 127.0.0.1:{actions_port}
    default_backend actions
backend actions
    balance roundrobin
    option httpchk GET /health
{actions_servers}
"""


def haproxy_config(fronts: dict[str, int], backends: dict[str, list[int]]) -> str:
    servers = {
        f"{name}_servers": "\n".join(f"    server {name}{n} 127.0.0.1:{port} check" for n, port in enumerate(ports, 1))
        for name, ports in backends.items()
    }
    return HAPROXY_CFG.format(**{f"{name}_port": port for name, port in fronts.items()}, **servers)


@dataclass
class ScaleStack:
    stack: Stack
    cluster: LocalCluster
    gateways: list[str] = field(default_factory=list)  # process names
    rasas: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.stack.procs.items()}

    def stop(self) -> None:
        self.stack.stop_all()
        self.cluster.stop()


def start(telegram_api_url: str, telegram_token: str, *, gateways: int = 2, rasas: int = 2) -> ScaleStack:
    """Start it all; raises SystemExit with the reason if a part is missing (haproxy, a model)."""
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise SystemExit("make scale-demo needs HAProxy: apt-get install haproxy (make tools does it)")
    model = ROOT / "models" / "samvad.tar.gz"
    if not model.exists():
        raise SystemExit("no trained model: run `make train`")
    stack = Stack(log_dir=ROOT / ".run" / "scale-demo")
    cluster = LocalCluster(stack, masters=3, replicas=1, appendonly=True)
    scale = ScaleStack(stack, cluster)
    try:
        cluster.start()
        fronts = {"gateway": free_port(), "rasa": free_port(), "actions": free_port()}
        lb = {name: f"http://127.0.0.1:{port}" for name, port in fronts.items()}
        tracker_redis = start_redis(stack)  # Rasa's trackers and locks, shared by every Rasa server
        actions_port = free_port()
        stack.start_actions(actions_port, cluster.url, cluster=True)
        gateway_ports = [free_port() for _ in range(gateways)]
        rasa_ports: list[int] = []
        host, _, port = tracker_redis.removeprefix("redis://").partition(":")
        rasa_env = {
            "ACTION_SERVER_URL": f"{lb['actions']}/webhook",
            "ACTION_SERVER_TOKEN": stack.action_token,
            "RASA_REDIS_HOST": host,
            "RASA_REDIS_PORT": port,
            "RASA_REDIS_DB": "1",
            "RASA_TRACKER_TTL_S": str(TRACKER_TTL_S),
            "SANIC_WORKERS": "1",
        }
        for n in range(1, rasas + 1):
            url = _rasa(stack, f"rasa-{n}", model, ROOT / "endpoints.yml", rasa_env, RASA_TOKEN, schema_cache=True)
            rasa_ports.append(int(url.rsplit(":", 1)[1]))
            scale.rasas.append(f"rasa-{n}")
        config = Path(stack.log_dir) / "haproxy.cfg"
        backends = {"gateway": gateway_ports, "rasa": rasa_ports, "actions": [actions_port]}
        config.write_text(haproxy_config(fronts, backends), encoding="utf-8")
        stack.spawn("haproxy", [haproxy, "-f", str(config), "-db"])
        for front in fronts.values():
            wait_for_port(front, "haproxy", 10)
        wait_for_http(f"{lb['rasa']}/", "rasa behind haproxy", 30)
        env = {
            "SAMVAD_REDIS_URL": cluster.url,
            "SAMVAD_REDIS_CLUSTER": "1",
            "SAMVAD_PUBLIC_URL": lb["gateway"],  # the console's origin: agents come through the balancer
            "SAMVAD_WEBHOOK_URL": lb["gateway"],
            "SAMVAD_RASA_TRACKER_REDIS_URL": f"{tracker_redis}/1",
            "SAMVAD_RASA_RETRY_INTERVAL_S": "2",  # maintenance (inboxes a killed gateway left) every 2 s
        }
        for n, gateway_port in enumerate(gateway_ports, 1):
            name = f"gateway-{n}"
            start_gateway(
                stack, name, lb["rasa"], cluster.url, telegram_api_url, telegram_token, env=env, port=gateway_port
            )
            scale.gateways.append(name)
        wait_for_http(f"{lb['gateway']}/healthz", "gateways behind haproxy", 30)
        scale.urls = {**{f"lb_{name}": url for name, url in lb.items()}, "redis": cluster.url, "tracker": tracker_redis}
    except BaseException:
        scale.stop()
        raise
    return scale


__all__ = ["RASA_TOKEN", "WEBHOOK_SECRET", "ScaleStack", "haproxy_config", "start"]

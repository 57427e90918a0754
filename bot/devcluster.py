"""A real Redis Cluster on this machine, from the `redis-server` binary: for the tests and `make scale-demo`.

Each node is a `redis-server --cluster-enabled yes` on a free loopback port with its own directory; the
slots are spread with `redis-cli --cluster create`. Production clusters are made the same way (or by a
managed service); docs/scaling.md has the settings that matter there.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.devstack import Stack, free_port, wait_for_port

NODE_TIMEOUT_MS = 2000  # how long a master may be unreachable before its replica takes over


@dataclass
class LocalCluster:
    """`masters` masters with `replicas` replicas each, started as children of `stack`."""

    stack: Stack
    masters: int = 3
    replicas: int = 0
    # Every write in the append-only file, fsynced each second: what a failed-over master can lose (docs/scaling.md).
    appendonly: bool = False
    ports: list[int] = field(default_factory=list)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="samvad-cluster-")))

    @property
    def url(self) -> str:
        """REDIS_URL for SAMVAD_REDIS_CLUSTER=1: any node will do, the client learns the rest."""
        return f"redis://127.0.0.1:{self.ports[0]}"

    def start(self) -> LocalCluster:
        binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
        if binary is None or cli is None:
            raise SystemExit("A Redis Cluster needs redis-server and redis-cli (apt-get install redis-server)")
        self.ports = [free_port() for _ in range(self.masters * (1 + self.replicas))]
        for port in self.ports:
            node_dir = self.workdir / str(port)
            node_dir.mkdir(parents=True, exist_ok=True)
            cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir), "--save", ""]
            # The bus port is the client port + 10000 unless told: a free port of its own (ports above 55535 exist).
            cmd += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
            cmd += ["--cluster-port", str(free_port())]
            cmd += ["--enable-debug-command", "local"]  # DEBUG SLEEP: how the scale demo stalls a master
            cmd += ["--cluster-node-timeout", str(NODE_TIMEOUT_MS), "--appendonly", "yes" if self.appendonly else "no"]
            self.stack.spawn(self.node_name(port), cmd)
        for port in self.ports:
            wait_for_port(port, "redis cluster node", 20)
        addresses = [f"127.0.0.1:{port}" for port in self.ports]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )
        self.wait_ready()
        return self

    def node_name(self, port: int) -> str:
        return f"redis-{port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every reachable node says the cluster is ok and every master has its replicas."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.info(port).get("cluster_state") == "ok" for port in self.live_ports()) and self._replicated():
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Redis Cluster on {self.ports} did not become ready in {timeout} s")

    def live_ports(self) -> list[int]:
        return [port for port in self.ports if self.node_name(port) in self.stack.procs]

    def info(self, port: int) -> dict[str, str]:
        out = self._cli(port, "cluster", "info")
        return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)

    def info_section(self, port: int, section: str) -> dict[str, str]:
        """INFO `section` of the Redis on `port` (any Redis of this machine, not only the cluster's)."""
        out = self._cli(port, "info", section)
        return dict(line.split(":", 1) for line in out.splitlines() if ":" in line)

    def roles(self) -> dict[int, str]:
        """Each live node's role now: 'master' or 'slave'."""
        return {port: self._cli(port, "role").splitlines()[0] for port in self.live_ports()}

    def _replicated(self) -> bool:
        if not self.replicas:
            return True
        lines = self._cli(self.live_ports()[0], "cluster", "nodes").splitlines()
        connected = [line for line in lines if "slave" in line.split()[2] and "connected" in line]
        return len(connected) >= self.masters * self.replicas - (len(self.ports) - len(self.live_ports()))

    def _cli(self, port: int, *args: str) -> str:
        cli = shutil.which("redis-cli") or "redis-cli"
        done = subprocess.run([cli, "-p", str(port), *args], capture_output=True, text=True, timeout=10)
        return done.stdout.strip()

    def stop(self) -> None:
        for port in self.ports:
            self.stack.stop(self.node_name(port))
        shutil.rmtree(self.workdir, ignore_errors=True)

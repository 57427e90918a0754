"""CPU seconds and peak resident memory of named processes and their children, read from /proc.

A sampler thread reads every tree a few times a second: CPU is the difference between the
first and last reading (children that exited between samples are lost, which is fine for
long-lived servers), peak RSS is the largest sum of the tree's resident sets seen.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process (/proc/PID/task/*/children is not always available)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return parents


def tree(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """`pid` and all its descendants."""
    parents = _parents() if parents is None else parents
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children.get(current, [])
    return pids


def _cpu_and_rss(pid: int) -> tuple[float, int]:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0, 0
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime, stime are fields 14 and 15 of stat; rss (pages) is 24. `fields` starts at field 3.
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    return cpu, int(fields[21]) * _PAGE


@dataclass
class _Tracked:
    pid: int
    children: bool = True
    cpu_start: float | None = None
    cpu_last: float = 0.0
    rss_peak: int = 0
    per_pid_cpu: dict[int, float] = field(default_factory=dict)


class ProcStats:
    """Samples named process trees in a thread until stopped."""

    def __init__(self, interval_s: float = 0.25) -> None:
        self._tracked: dict[str, _Tracked] = {}
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def track(self, name: str, pid: int, *, children: bool = True) -> None:
        """Follow `pid` (and, with `children`, every process it started) under `name`."""
        with self._lock:
            self._tracked[name] = _Tracked(pid, children)

    def sample(self) -> None:
        parents = _parents()
        with self._lock:
            for tracked in self._tracked.values():
                rss_total = 0
                for pid in tree(tracked.pid, parents) if tracked.children else [tracked.pid]:
                    cpu, rss = _cpu_and_rss(pid)
                    tracked.per_pid_cpu[pid] = max(cpu, tracked.per_pid_cpu.get(pid, 0.0))
                    rss_total += rss
                total = sum(tracked.per_pid_cpu.values())
                if tracked.cpu_start is None:
                    tracked.cpu_start = total
                tracked.cpu_last = total
                tracked.rss_peak = max(tracked.rss_peak, rss_total)

    def start(self) -> None:
        """Reset the CPU baseline and peaks, then sample in the background."""
        with self._lock:
            for name, tracked in self._tracked.items():
                self._tracked[name] = _Tracked(tracked.pid, tracked.children)
        self._stop.clear()
        self.sample()
        self._thread = threading.Thread(target=self._run, name="procstats", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def stop(self) -> dict[str, dict[str, float]]:
        """Stop sampling; return {name: {cpu_s, peak_rss_mb}} since `start`."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()
        with self._lock:
            return {
                name: {
                    "cpu_s": round(t.cpu_last - (t.cpu_start or 0.0), 2),
                    "peak_rss_mb": round(t.rss_peak / 2**20, 1),
                }
                for name, t in self._tracked.items()
            }

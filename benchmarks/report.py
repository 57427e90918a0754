"""Markdown tables from a benchmark run, for docs/performance.md.

.venv/bin/python -m benchmarks.report [results/bench.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from benchmarks.e2e import RESULTS, summary_line


def _ms(value: float | None) -> str:
    return f"{value:.0f} ms" if value is not None and value >= 100 else f"{value:.1f} ms" if value is not None else "–"


def side_rows(result: dict[str, Any]) -> list[str]:
    rows = ["| | A (stock) | B (Samvad) |", "|---|---|---|"]
    a, b = result.get("A", {}), result.get("B", {})

    def both(label: str, get: Any) -> None:
        rows.append(f"| {label} | {get(a) if a else '–'} | {get(b) if b else '–'} |")

    for index, n in enumerate(result["config"]["voters"]):
        both(
            f"closed loop N={n}: msgs/s (p50 / p99)",
            lambda s, i=index: f"{s['saturation'][i]['msgs_per_s']:.1f} "
            f"({_ms(s['saturation'][i].get('p50_ms'))} / {_ms(s['saturation'][i].get('p99_ms'))})",
        )
    both("**msgs/s at saturation**", lambda s: f"**{s['msgs_per_s']:.1f}**")
    rate, seconds = result["config"]["rate"], result["config"]["duration_s"]
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        both(f"{key[:3]} at {rate:.0f} msgs/s for {seconds:.0f} s", lambda s, k=key: _ms(s["fixed_load"].get(k)))
    both("errors (saturation, fixed load)", lambda s: f"{sum(r['errors'] for r in s['saturation'])}, "
         f"{s['fixed_load']['errors']}")  # fmt: skip
    names = sorted({name for side in (a, b) if side for name in side["fixed_load"]["processes"]})

    def cpu_rss(side: dict[str, Any], name: str) -> str:
        figures = side["fixed_load"]["processes"].get(name)
        return f"{figures['cpu_s']:.1f} s / {figures['peak_rss_mb']:.0f} MB" if figures else "–"

    for name in names:
        both(f"{name}: CPU s / peak RSS (fixed load)", lambda s, n=name: cpu_rss(s, n))
    both("intent F1 (macro, " + str((b.get("f1") or a.get("f1") or {}).get("method", "?")) + ")",
         lambda s: f"{s['f1']['overall']:.3f}" if (s.get("f1") or {}).get("overall") else "–")  # fmt: skip
    return rows


def extras(result: dict[str, Any]) -> list[str]:
    lines = []
    agent = (result.get("B") or {}).get("agent_mode")
    if agent:
        fixed = agent["fixed_load"]
        lines.append(
            f"- gateway ceiling, agent mode (no Rasa), 32 voters: **{agent['ceiling']['msgs_per_s']:.0f} msgs/s**; "
            f"at {fixed['offered_rate']:.0f} msgs/s webhook → console event p50 {_ms(fixed.get('p50_ms'))}, "
            f"p99 {_ms(fixed.get('p99_ms'))}"
        )
    b = result.get("B") or {}
    if "gateway_overhead_mean_ms" in b:
        lines.append(
            f"- B at the fixed load: mean end to end {_ms(b['fixed_load'].get('mean_ms'))}, of which the gateway's "
            f"Rasa round trip {_ms(b['rasa_roundtrip_mean_ms'])}: gateway + Telegram send "
            f"{_ms(b['gateway_overhead_mean_ms'])} (mean)"
        )
    if b.get("fixed_load", {}).get("gateway_own_p50_ms") is not None:
        fixed = b["fixed_load"]
        lines.append(
            f"- gateway's own time per message at the fixed load (webhook to last reply sent, without the waits "
            f"for Rasa and the Bot API): **p50 {_ms(fixed['gateway_own_p50_ms'])}**, "
            f"p99 {_ms(fixed['gateway_own_p99_ms'])}"
        )
    overhead = (b.get("gateway_overhead") or {}).get("median", {}).get("gateway")
    if overhead:
        lines.append(
            f"- gateway against the same Rasa straight, at the same time (half the load each): p50 "
            f"{_ms(overhead['overhead_p50_ms'])} more, mean {_ms(overhead['overhead_mean_ms'])} more; gateway CPU "
            f"{overhead['cpu_ms_per_msg']:.1f} ms per message"
        )
    pairs = (b.get("gateway_overhead") or {}).get("one_at_a_time", {}).get("gateway")
    if pairs:
        lines.append(
            f"- gateway, one message at a time, each paired with the same message straight to Rasa: "
            f"**{_ms(pairs['overhead_p50_ms'])} more** (median of {pairs['pairs']} pairs); own time p50 "
            f"{_ms(pairs['own_p50_ms'])}, p99 {_ms(pairs['own_p99_ms'])}"
        )
    if result.get("handoff"):
        h = result["handoff"]
        lines.append(
            f"- hand-off latency: p50 {h['p50_ms']:.2f} ms, p99 {h['p99_ms']:.2f} ms ({h['messages']} messages)"
        )
    pacing = result.get("pacing")
    if pacing:
        lines.append(
            f"- broadcast pacing: {pacing['achieved_per_s']:.2f} msgs/s achieved / {pacing['configured_per_s']:.0f} "
            f"configured = **{pacing['ratio']:.3f}** ({pacing['messages']} messages)"
        )
    elif "pacing" in result:
        lines.append("- broadcast pacing: not measured (sender not available)")
    return lines


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    result = json.loads(path.read_text(encoding="utf-8"))
    print(f"Run {result['started_at']} – {result['finished_at']}, machine {result['machine']}\n")
    print("\n".join(side_rows(result)))
    print()
    print("\n".join(extras(result)))
    if "A" in result and "B" in result:
        print(f"\n`{summary_line(result)}`")


if __name__ == "__main__":
    main()

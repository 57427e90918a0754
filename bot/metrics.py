"""Prometheus metrics, exposed at GET /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter("samvad_messages_in_total", "Voter messages received", ["channel", "language"])
MESSAGES_OUT = Counter("samvad_messages_out_total", "Messages sent to voters", ["channel", "language"])
RASA_LATENCY = Histogram(
    "samvad_rasa_roundtrip_seconds",
    "Round trip of one voter message through Rasa",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HANDOFF_DEPTH = Gauge("samvad_handoff_queue_depth", "Conversations waiting for a person", ["language"])
ERRORS = Counter("samvad_errors_total", "Errors by kind", ["kind"])

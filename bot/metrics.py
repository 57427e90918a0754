"""Prometheus metrics, exposed at GET /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_IN = Counter("samvad_messages_in_total", "Voter messages received", ["channel", "language"])
MESSAGES_OUT = Counter("samvad_messages_out_total", "Messages sent to voters", ["channel", "language"])
RASA_LATENCY = Histogram(
    "samvad_rasa_roundtrip_seconds",
    "Round trip of one voter message through Rasa",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HANDOFF_DEPTH = Gauge("samvad_handoff_queue_depth", "Conversations waiting for a person", ["language"])
HANDOFF_OLDEST_WAIT = Gauge(
    "samvad_handoff_oldest_wait_seconds",
    "How long the longest-waiting conversation has waited for a person",
    ["language"],
)
DEAD_LETTERS = Counter(
    "samvad_dead_letters_total", "Entries put on a dead-letter stream (inbound, outbound, handoff)", ["kind"]
)
THROTTLED = Counter("samvad_throttled_total", "Flood-limit answers (429) from a channel's API", ["channel"])
RASA_UP = Gauge("samvad_rasa_up", "1 when Rasa answered /status with a model loaded at the last scrape")
ERRORS = Counter("samvad_errors_total", "Errors by kind", ["kind"])
SEND_FAILURES = Counter(
    "samvad_send_failures_total", "Replies the channel could not deliver after its retries", ["channel", "reason"]
)
GATEWAY_OWN = Histogram(
    "samvad_gateway_own_seconds",
    "Time the gateway itself spends on a voter message: from the webhook to its last reply sent, "
    "minus the waits for Rasa's and the Bot API's answers",
    buckets=(0.0005, 0.001, 0.0015, 0.002, 0.003, 0.004, 0.006, 0.008, 0.012, 0.025, 0.05, 0.1, 0.5),
)

# Seconds spent waiting for another service while the current message is handled (see `own_time`).
_WAITED: ContextVar[list[float] | None] = ContextVar("samvad_waited", default=None)


@contextmanager
def waiting_for_others() -> Iterator[None]:
    """Time spent in here is Rasa's or the Bot API's, not the gateway's own."""
    started = time.perf_counter()
    try:
        yield
    finally:
        waited = _WAITED.get()
        if waited is not None:
            waited[0] += time.perf_counter() - started


@contextmanager
def own_time(received_at: float) -> Iterator[None]:
    """Observe GATEWAY_OWN for the message received at `received_at` (time.time()) and handled in here."""
    waited = [0.0]
    token = _WAITED.set(waited)
    try:
        yield
    finally:
        _WAITED.reset(token)
        GATEWAY_OWN.observe(max(0.0, time.time() - received_at - waited[0]))

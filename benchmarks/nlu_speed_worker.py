"""Parses per second of trained Rasa models in one process: the worker of benchmarks/nlu_speed.py.

Runs in Rasa's own interpreter (.venv-rasa); imports nothing of the gateway:

    .venv-rasa/bin/python benchmarks/nlu_speed_worker.py MESSAGES.json --rounds 3 NAME=MODEL.tar.gz ...

Loads every model into the same process, then in each round parses every message once with each model
in turn (``Agent.parse_message``: the whole NLU graph, as Rasa's /model/parse runs it minus HTTP), so a
noisy machine slows all models alike.  Prints one JSON object: per model the parses/s of each round, the
model file's size and the process's RSS after loading it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import time
from pathlib import Path
from typing import Any


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def run(messages: list[str], models: list[tuple[str, Path]], rounds: int) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    configure_logging_and_warnings(logging.WARNING, None, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.WARNING)
    agents: dict[str, Any] = {}
    out: dict[str, Any] = {"messages": len(messages), "rounds": rounds, "models": {}}
    for name, path in models:
        agents[name] = Agent.load(str(path))
        for text in messages[:20]:  # warm-up: first calls build caches
            await agents[name].parse_message(text)
        out["models"][name] = {"file_mb": round(path.stat().st_size / 1e6, 2), "rss_after_load_mb": round(_rss_mb())}
        out["models"][name]["parses_per_s"] = []
    for _ in range(rounds):
        for name, agent in agents.items():
            started = time.perf_counter()
            for text in messages:
                await agent.parse_message(text)
            out["models"][name]["parses_per_s"].append(round(len(messages) / (time.perf_counter() - started), 1))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("messages", type=Path, help="a JSON list of message texts")
    parser.add_argument("models", nargs="+", help="NAME=PATH of a trained model")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    models = [(spec.split("=", 1)[0], Path(spec.split("=", 1)[1])) for spec in args.models]
    messages = json.loads(args.messages.read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(run(messages, models, args.rounds))))


if __name__ == "__main__":
    main()

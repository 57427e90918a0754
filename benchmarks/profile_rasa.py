"""Where Rasa spends a message: cProfile around Agent.handle_message, with the benchmark's message mix.

Runs in Rasa's own interpreter (.venv-rasa), with a real action server and, if given, the Redis
tracker and lock store of endpoints.yml:

    .venv-rasa/bin/python benchmarks/profile_rasa.py MODEL.tar.gz --actions http://127.0.0.1:5055/webhook \\
        [--redis redis://127.0.0.1:6392/11] [--conversations 60]

Prints the mean wall time per message and the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # messages.py, without the bot package

from messages import SCRIPTS  # noqa: E402


async def run(model: str, actions: str, redis: str | None, conversations: int, top: int) -> None:
    import tempfile

    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    # As `rasa run` does, at its default level: debug events are then dropped early, as in the server.
    configure_logging_and_warnings(logging.INFO, None, warn_only_once=True, filter_repeated_logs=True)
    configure_structlog(logging.INFO)

    endpoints = f"action_endpoint:\n  url: {actions}\n"
    if redis:
        host, port_db = redis.removeprefix("redis://").split(":")
        port, db = port_db.split("/")
        for store in ("tracker_store", "lock_store"):
            endpoints += f"{store}:\n  type: redis\n  url: {host}\n  port: {port}\n  db: {db}\n  key_prefix: prof\n"
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as file:
        file.write(endpoints)
    agent = await load_agent(model_path=model, endpoints=AvailableEndpoints.read_endpoints(file.name))
    Path(file.name).unlink()

    async def one_conversation(n: int) -> int:
        script = SCRIPTS[n % len(SCRIPTS)]
        for text in script.messages:
            await agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender_id=f"prof-{n}"))
        return len(script.messages)

    await one_conversation(10_000)  # warm-up: graph, action server connection
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    messages = sum([await one_conversation(n) for n in range(conversations)])
    profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{messages} messages, {elapsed / messages * 1000:.1f} ms each (sequential, profiled)")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--actions", required=True, help="the action server's webhook URL")
    parser.add_argument("--redis", help="redis://host:port/db for the tracker and lock store (default: in memory)")
    parser.add_argument("--conversations", type=int, default=60)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--schema-cache", action="store_true", help="with rasa_ext/schema_cache.py's validator cache")
    args = parser.parse_args()
    if args.schema_cache:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rasa_ext"))
        import schema_cache

        schema_cache.install()
    asyncio.run(run(args.model, args.actions, args.redis, args.conversations, args.top))


if __name__ == "__main__":
    main()

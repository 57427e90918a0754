"""``python -m bot review export --since 7d [--out FILE]``: the fallback review file for the content team."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from bot import redis_client
from bot.content.review import export, parse_since
from bot.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    review = sub.add_parser("review", help="voter messages the assistant did not handle, for the content team")
    actions = review.add_subparsers(dest="action", required=True)
    out = actions.add_parser("export", help="write them as Rasa NLU YAML, grouped by the intent the model guessed")
    out.add_argument("--since", default="7d", help="how far back: 30m, 24h, 7d, 2w (default 7d)")
    out.add_argument("--out", type=Path, help="file to write (default: standard output)")


def run(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    text = asyncio.run(_export(Settings().redis_url, since))
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


async def _export(redis_url: str, since: timedelta) -> str:
    redis = redis_client.connect(redis_url)
    try:
        return await export(redis, since)
    finally:
        await redis.aclose()

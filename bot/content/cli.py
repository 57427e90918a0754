"""``python -m bot content check|report|reload|review``: the content team's commands.

``review export --since 7d [--out FILE]`` writes the fallback review file; ``python -m bot review export`` is
the same command under its older name.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta
from pathlib import Path

from bot import redis_client
from bot.content import lint, reload, report
from bot.content.review import export, parse_since
from bot.settings import load as load_settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    content = sub.add_parser("content", help="check, report, reload and review the assistant's content")
    actions = content.add_subparsers(dest="content_command", required=True)
    check = actions.add_parser("check", help="the bilingual content lint (with --rasa: rasa data validate too)")
    lint.add_arguments(check)
    check.set_defaults(content_run=lint.run)
    nlu = actions.add_parser("report", help="the NLU cross-validation report (after make test-content)")
    report.add_arguments(nlu)
    nlu.set_defaults(content_run=report.run)
    load = actions.add_parser("reload", help="load the newest model into the running Rasa, no restart")
    reload.add_arguments(load)
    load.set_defaults(content_run=reload.run)
    _add_review(actions.add_parser("review", help="voter messages the assistant did not handle"))
    _add_review(sub.add_parser("review", help="the same as `content review`"))


def _add_review(review: argparse.ArgumentParser) -> None:
    actions = review.add_subparsers(dest="action", required=True)
    out = actions.add_parser("export", help="write them as Rasa NLU YAML, grouped by the intent the model guessed")
    out.add_argument("--since", default="7d", help="how far back: 30m, 24h, 7d, 2w (default 7d)")
    out.add_argument("--out", type=Path, help="file to write (default: standard output)")
    out.set_defaults(content_run=run_review)


def run(args: argparse.Namespace) -> int:
    result: int = args.content_run(args)
    return result


def run_review(args: argparse.Namespace) -> int:
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = load_settings()
    text = asyncio.run(_export(settings.redis_url, settings.redis_cluster, since))
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


async def _export(redis_url: str, cluster: bool, since: timedelta) -> str:
    redis = redis_client.connect(redis_url, cluster=cluster)
    try:
        return await export(redis, since)
    finally:
        await redis.aclose()

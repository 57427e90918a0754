"""`python -m bot campaign check | send | status`: the outreach commands for content teams."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import cast

from redis.exceptions import RedisError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from bot import keys, redis_client
from bot.errors import CampaignBusy, CampaignFileError, DeliveryFailed
from bot.models import Button
from bot.outreach.campaign import Campaign, load_campaign
from bot.outreach.progress import Counts
from bot.outreach.progress import Progress as CampaignProgress
from bot.outreach.rules import QuietHours, Status
from bot.outreach.sender import Broadcast, Plan, Transport
from bot.schedule import Schedule
from bot.settings import Settings
from bot.settings import load as load_settings

HELD_LABELS = {
    Status.HELD_QUIET.value: "held: quiet hours",
    Status.HELD_SILENCE.value: "held: election silence period",
    Status.OPTED_OUT.value: "held: opted out",
    Status.UNREACHABLE.value: "unreachable (blocked the bot)",
    Status.NO_CHANNEL.value: "not sent: channel cannot be written to first",
    Status.HELD_TIER.value: "held: WhatsApp messaging tier full for this 24 h (re-run, or --wait)",
}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    campaign = sub.add_parser("campaign", help="outreach campaigns").add_subparsers(dest="action", required=True)
    check = campaign.add_parser("check", help="validate campaign files")
    check.add_argument("files", nargs="+", type=Path)
    send = campaign.add_parser("send", help="send a campaign to the voters who consented")
    send.add_argument("file", type=Path)
    send.add_argument("--dry-run", action="store_true", help="count and show samples; send nothing")
    send.add_argument("--rate", type=float, help="messages per second (default: SAMVAD_OUTREACH_RATE_PER_S)")
    send.add_argument("--wait", action="store_true", help="inside quiet hours, wait for the morning instead of holding")
    send.add_argument("--retry-failed", action="store_true", help="send again to those whose send failed")
    send.add_argument(
        "--resend-uncertain", action="store_true", help="after a crash, also send to those whose send was in flight"
    )
    status = campaign.add_parser("status", help="the delivery report of a campaign")
    status.add_argument("name")
    status.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    console = Console(soft_wrap=True)
    try:
        settings = load_settings()
        schedule = Schedule.load(settings.data_dir / "schedule.yml")
        if args.action == "check":
            return check(args.files, schedule, console)
        if args.action == "status":
            return asyncio.run(status(settings, args.name, args.json, console))
        campaign = load_campaign(args.file, schedule)
        return asyncio.run(send(settings, schedule, campaign, args, console))
    except CampaignFileError as exc:
        print(f"error: {exc}\nnothing was sent.", file=sys.stderr)
        return 2
    except RedisError as exc:
        print(f"error: lost Redis ({exc}); progress so far is saved. Run the same command again to resume: "
              "nobody gets the message twice.", file=sys.stderr)  # fmt: skip
        return 4
    except CampaignBusy as exc:
        print(f"error: {exc}; wait for it to finish (or for its lock to expire in 30 s)", file=sys.stderr)
        return 3


def check(files: list[Path], schedule: Schedule, console: Console) -> int:
    failed = 0
    for path in files:
        try:
            campaign = load_campaign(path, schedule)
        except CampaignFileError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        material = "yes" if campaign.election_material else "no"
        console.print(f"{path}: ok ({campaign.name}, election material: {material})")
    return 1 if failed else 0


async def send(
    settings: Settings, schedule: Schedule, campaign: Campaign, args: argparse.Namespace, console: Console
) -> int:
    from bot.channels.telegram import TelegramBroadcast
    from bot.outreach.whatsapp import Tier, WhatsAppBroadcast
    from bot.store import VoterStore

    if not args.dry_run and not (settings.telegram_enabled or settings.whatsapp_enabled):
        print("error: neither TELEGRAM_BOT_TOKEN nor the WHATSAPP_* settings are set; nothing can be sent",
              file=sys.stderr)  # fmt: skip
        return 2
    redis = redis_client.connect(settings.redis_url, cluster=settings.redis_cluster)
    store = VoterStore(
        redis,
        transcript_ttl_s=settings.transcript_ttl_s,
        transcript_max_turns=settings.transcript_max_turns,
        dedup_ttl_s=settings.dedup_ttl_s,
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            # A dry run opens no connection to any platform and needs no token.
            live = not args.dry_run
            transport: Transport = (
                await stack.enter_async_context(TelegramBroadcast(settings))
                if live and settings.telegram_enabled
                else _NoTelegram()
            )
            whatsapp = (
                await stack.enter_async_context(WhatsAppBroadcast(settings, redis, campaign.name))
                if live and settings.whatsapp_enabled and campaign.whatsapp
                else None
            )
            broadcast = Broadcast(
                campaign,
                redis=redis,
                transport=transport,
                whatsapp=whatsapp,
                tier=Tier(redis, settings.whatsapp_tier),
                voters=store,
                schedule=schedule,
                quiet=QuietHours(settings.quiet_hours),
                rate_per_s=args.rate or settings.outreach_rate_per_s,
                concurrency=settings.outreach_concurrency,
                values={"org_name": settings.org_name, "org_url": settings.org_url},
                retry_failed=args.retry_failed,
                resend_uncertain=args.resend_uncertain,
            )
            problem = broadcast.window_problem()
            if args.dry_run:
                show_plan(await broadcast.plan(), campaign, problem, console)
                return 0
            if problem:
                print(f"error: {problem}; nothing was sent.", file=sys.stderr)
                return 1
            counts = await _send_with_progress(broadcast, args.wait, console)
            paused = (await broadcast.progress.facts()).get("paused")
    finally:
        await redis.aclose()
    show_counts(campaign.name, counts, console)
    if paused:
        console.print(f"[red]paused by WhatsApp: {paused}. Check the number's quality in WhatsApp Manager; "
                      "run the same command later to resume.")  # fmt: skip
        return 5
    return 0


class _NoTelegram:
    async def send(self, chat_id: str, text: str, buttons: list[Button]) -> None:
        raise DeliveryFailed("Telegram is not configured (TELEGRAM_BOT_TOKEN)")


async def _send_with_progress(broadcast: Broadcast, wait_quiet: bool, console: Console) -> Counts:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)  # finish the sends in flight, record them, then exit
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("sent {task.fields[sent]} · failed {task.fields[failed]} · held {task.fields[held]}"),
        TextColumn("{task.fields[rate]:.1f} msg/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = loop.time()
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(broadcast.campaign.name, total=None, sent=0, failed=0, held=0, rate=0.0)
        first: list[int] = []

        def update(counts: Counts) -> None:
            done = sum(counts.by_status.values()) - counts.uncertain
            if not first:
                first.append(counts.sent)
            elapsed = max(loop.time() - started, 1e-6)
            bar.update(task, total=counts.audience, completed=done, sent=counts.sent, failed=counts.failed,
                       held=counts.held, rate=(counts.sent - first[0]) / elapsed)  # fmt: skip

        counts = await broadcast.run(stop=stop, wait_quiet=wait_quiet, on_progress=update)
    if stop.is_set():
        console.print("[yellow]stopped; sends in flight were finished and recorded. Run the same command to resume.")
    return counts


def show_plan(plan: Plan, campaign: Campaign, problem: str | None, console: Console) -> None:
    console.print(f"[bold]{campaign.name}[/bold] (dry run: nothing sent)")
    if problem:
        console.print(f"[red]{problem}: a real send would stop here.")
    console.print(f"audience: {plan.audience}  would send now: {len(plan.to_send)}  already done: {plan.done}")
    reasons: dict[str, int] = {}
    silenced: dict[str, int] = {}
    for why in plan.held.values():
        reasons[why.status.value] = reasons.get(why.status.value, 0) + 1
        if why.constituency:
            silenced[why.constituency] = silenced.get(why.constituency, 0) + 1
    for status_value, count in sorted(reasons.items()):
        console.print(f"  {HELD_LABELS.get(status_value, status_value)}: {count}")
    for constituency, count in sorted(silenced.items()):
        console.print(f"    silence period in {constituency}: {count}")
    for language, text in plan.samples.items():
        console.rule(f"sample ({language})")
        console.print(text, markup=False, highlight=False)
        for button in campaign.buttons:
            console.print(f"[ {button.title.get(language)} ] → {button.payload}", markup=False)


def show_counts(name: str, counts: Counts, console: Console) -> None:
    table = Table(title=f"campaign {name}", show_header=False)
    table.add_row("audience", str(counts.audience))
    table.add_row("sent", str(counts.sent))
    table.add_row("failed", str(counts.failed))
    for status_value, label in HELD_LABELS.items():
        table.add_row(label, str(counts.by_status[status_value]))
    for constituency, count in sorted(counts.silenced.items()):
        table.add_row(f"  silence period in {constituency}", str(count))
    if counts.uncertain:
        table.add_row("uncertain (in flight at a crash; not resent)", str(counts.uncertain))
    table.add_row("not yet reached", str(max(0, counts.audience - sum(counts.by_status.values()))))
    console.print(table)


async def status(settings: Settings, name: str, as_json: bool, console: Console) -> int:
    redis = redis_client.connect(settings.redis_url, cluster=settings.redis_cluster)
    try:
        progress = CampaignProgress(redis, name)
        facts = await progress.facts()
        if not facts:
            print(f"error: no campaign called {name!r} has been sent", file=sys.stderr)
            return 1
        counts = await progress.counts()
        funnel = cast(dict[str, str], await redis.hgetall(keys.campaign_funnel(name)))
    finally:
        await redis.aclose()
    if as_json:
        print(json.dumps({"name": name, **facts, "counts": counts.as_dict(), "whatsapp": funnel}, ensure_ascii=False))
    else:
        show_counts(name, counts, console)
        if facts.get("paused"):
            console.print(f"[red]paused: {facts['paused']} (at {facts.get('paused_at', '?')})")
        for line in funnel_lines(funnel):
            console.print(line)
        console.print(f"started {facts.get('started_at', '?')}, last finished {facts.get('finished_at', 'not yet')}")
    return 0


def funnel_lines(funnel: dict[str, str]) -> list[str]:
    """The WhatsApp delivery funnel per language, from the status webhooks ('hi:delivered' -> count)."""
    lines = []
    for language in sorted({step.partition(":")[0] for step in funnel}):
        steps = {k.partition(":")[2]: int(v) for k, v in funnel.items() if k.startswith(f"{language}:")}
        failed = {k.partition(":")[2]: v for k, v in sorted(steps.items()) if k.startswith("failed")}
        by_code = ", ".join(f"{code}: {count}" for code, count in failed.items())
        line = f"WhatsApp {language}: sent {steps.get('sent', 0)}, delivered {steps.get('delivered', 0)}, "
        line += f"read {steps.get('read', 0)}, failed {sum(failed.values())}"
        lines.append(line + (f" (by error code: {by_code})" if by_code else ""))
    return lines

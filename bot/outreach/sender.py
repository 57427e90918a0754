"""Send one campaign: paced, resumable, and never to anyone who may not get it.

For each recipient in the audience, in order:

1. the rules (``bot/outreach/rules.py``) may hold the message back: quiet hours, the
   constituency's silence period, a blocked bot, a channel that cannot be written to first;
2. consent is read again just before sending, so an opt-out takes effect before the next send;
3. the recipient is claimed in Redis ("sending") and only then sent to; the outcome replaces
   the claim. A re-run skips everyone in a final state, so nobody gets the message twice.
   After a hard crash, claims still "sending" are *uncertain* (the platform may or may not
   have delivered); they are reported and, unless ``resend_uncertain``, not sent again.

Sending is paced by a global rate (a steady schedule of send slots) and at most
``concurrency`` sends in flight; a platform's flood wait pauses every send.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot import keys
from bot.consent import may_contact
from bot.errors import DeliveryFailed, FloodWait, RecipientBlocked, SendingRestricted
from bot.models import Button
from bot.outreach.campaign import Campaign
from bot.outreach.progress import Counts, Progress, load_subscribers, split_stored
from bot.outreach.rules import Hold, QuietHours, Recipient, Status, hold, in_audience
from bot.outreach.whatsapp import Tier, WhatsAppBroadcast, parameters
from bot.pacing import ChatPacer
from bot.schedule import IST, Schedule

log = structlog.get_logger(__name__)

FLOOD_RETRIES = 5


class Transport(Protocol):
    """A channel's way of writing to a voter first (``bot/channels/telegram.py``)."""

    async def send(self, chat_id: str, text: str, buttons: list[Button]) -> None:
        """Raises RecipientBlocked, FloodWait or DeliveryFailed."""


class Unreachable(Protocol):
    async def mark_unreachable(self, conversation_id: str) -> None: ...


def now_ist() -> datetime:
    return datetime.now(IST)


@dataclass
class Plan:
    """What a send would do now: the audience, who would get it, who is held back and why."""

    audience: int = 0
    to_send: list[Recipient] = field(default_factory=list)
    held: dict[str, Hold] = field(default_factory=dict)  # recipient key -> why
    done: int = 0  # already in a final state from an earlier run
    samples: dict[str, str] = field(default_factory=dict)  # language -> rendered message


class RateGate:
    """Send slots at a steady rate, paused entirely while the platform asks us to wait."""

    def __init__(self, rate_per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate_per_s
        self._clock = clock
        self._next = clock()
        self._paused_until = 0.0

    async def slot(self) -> None:
        now = self._clock()
        # Never bank more than one slot of idle time: a stall must not turn into a burst.
        at = max(self._next, now - self.interval, self._paused_until)
        self._next = at + self.interval
        if at > now:
            await asyncio.sleep(at - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self._clock() + seconds)


class Broadcast:
    def __init__(
        self,
        campaign: Campaign,
        *,
        redis: Redis,
        transport: Transport,
        voters: Unreachable,
        schedule: Schedule,
        quiet: QuietHours,
        rate_per_s: float,
        concurrency: int,
        values: dict[str, str],
        clock: Callable[[], datetime] = now_ist,
        retry_failed: bool = False,
        resend_uncertain: bool = False,
        whatsapp: WhatsAppBroadcast | None = None,
        tier: Tier | None = None,
    ) -> None:
        self.campaign = campaign
        self.redis = redis
        self.transport = transport
        self.voters = voters
        self.schedule = schedule
        self.quiet = quiet
        self.progress = Progress(redis, campaign.name)
        self.rate_per_s = rate_per_s
        self._gate = RateGate(rate_per_s)
        self._pacer = ChatPacer(burst=1, interval_s=1.0)  # one message a second per chat at most
        self._inflight = asyncio.Semaphore(concurrency)
        self._values = values
        self._clock = clock
        final = {s.value for s in Status if s.final}
        if retry_failed:
            final.discard(Status.FAILED.value)
        if resend_uncertain:
            final.discard(Status.SENDING.value)
        self._final = tuple(sorted(final))
        self._lost_redis: RedisError | None = None
        self.whatsapp, self.tier = whatsapp, tier
        self._halt = asyncio.Event()  # WhatsApp paused the number's sending (131048, 131049)
        self._stop = asyncio.Event()
        self._wait = False
        self._paused_checked = 0.0

    async def plan(self) -> Plan:
        """Decide for every subscriber, without sending anything."""
        now = self._clock()
        statuses = await self.progress.statuses()
        plan = Plan(samples={lang: self.campaign.render(lang, self._values) for lang in ("hi", "en")})
        for recipient in await load_subscribers(self.redis, self.schedule):
            if not in_audience(recipient, self.campaign.audience):
                continue
            plan.audience += 1
            if split_stored(statuses.get(recipient.key, ""))[0] in self._final:
                plan.done += 1
                continue
            reason = hold(recipient, self.campaign, self.schedule, self.quiet, now)
            if reason is None:
                plan.to_send.append(recipient)
            else:
                plan.held[recipient.key] = reason
        return plan

    def window_problem(self) -> str | None:
        now = self._clock()
        window = self.campaign.window
        if now < window.start:
            return f"the send window opens at {window.start.astimezone(IST):%Y-%m-%d %H:%M} IST"
        if now >= window.end:
            return f"the send window closed at {window.end.astimezone(IST):%Y-%m-%d %H:%M} IST"
        return None

    async def run(
        self,
        *,
        stop: asyncio.Event | None = None,
        wait_quiet: bool = False,
        on_progress: Callable[[Counts], None] | None = None,
    ) -> Counts:
        """Send to everyone the rules allow now; returns the campaign's counts after this run."""
        stop = stop or asyncio.Event()
        self._stop, self._wait = stop, wait_quiet
        await self.progress.acquire()
        await self.redis.hdel(keys.campaign(self.campaign.name), "paused", "paused_at")  # re-run: resume
        lock_stop = asyncio.Event()
        lock_task = asyncio.create_task(self.progress.keep_lock(lock_stop))
        try:
            plan = await self.plan()
            await self.progress.note(
                audience=plan.audience,
                election_material=int(self.campaign.election_material),
                rate_per_s=self.rate_per_s,
                started_at=self._clock().isoformat(timespec="seconds"),
            )
            await self.progress.mark_many({key: reason.stored for key, reason in plan.held.items()})
            # Held back by an earlier run but due now: "not yet reached" until their send is recorded.
            await self.progress.forget([r.key for r in plan.to_send])
            counts = await self.progress.counts()
            if on_progress:
                on_progress(counts)
            await self._send_all(plan.to_send, stop, wait_quiet, counts, on_progress)
            if self._lost_redis is not None:
                # Claims are written before each send, so a re-run sends to nobody twice.
                raise self._lost_redis
            await self.progress.note(finished_at=self._clock().isoformat(timespec="seconds"))
            return await self.progress.counts()
        finally:
            lock_stop.set()
            await lock_task
            with contextlib.suppress(RedisError):  # without Redis the lock expires by itself
                await self.progress.release()

    async def _send_all(
        self,
        recipients: list[Recipient],
        stop: asyncio.Event,
        wait_quiet: bool,
        counts: Counts,
        on_progress: Callable[[Counts], None] | None,
    ) -> None:
        tasks: set[asyncio.Task[None]] = set()
        for index, recipient in enumerate(recipients):
            if stop.is_set() or self._lost_redis is not None or await self._paused():
                break
            if not await self._may_go_on(recipients[index:], wait_quiet, stop, counts):
                break
            await self._inflight.acquire()
            await self._gate.slot()
            if stop.is_set() or self._lost_redis is not None:
                self._inflight.release()
                break
            task = asyncio.create_task(self._send_one(recipient, counts, on_progress))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        # Ctrl-C or not, sends already started finish and are recorded: none is left uncertain.
        await asyncio.gather(*tasks)

    async def _may_go_on(self, rest: list[Recipient], wait_quiet: bool, stop: asyncio.Event, counts: Counts) -> bool:
        """Quiet hours may begin during a send: hold the rest, or wait for the morning."""
        now = self._clock()
        if not self.quiet.quiet_at(now):
            return True
        if wait_quiet:
            seconds = (self.quiet.ends_after(now) - now).total_seconds()
            log.info("quiet hours: waiting", seconds=round(seconds))
            try:
                await asyncio.wait_for(stop.wait(), seconds)
                return False
            except TimeoutError:
                return True
        held = {r.key: Status.HELD_QUIET.value for r in rest}
        await self.progress.mark_many(held)
        counts.by_status[Status.HELD_QUIET.value] += len(held)
        return False

    async def _send_one(
        self, recipient: Recipient, counts: Counts, on_progress: Callable[[Counts], None] | None
    ) -> None:
        try:
            outcome = await self._deliver(recipient)
        except RedisError as exc:
            # Progress cannot be recorded: stop sending; the run ends with this error.
            self._lost_redis = self._lost_redis or exc
            return
        except Exception as exc:  # recorded and counted; one bad recipient must not stop the campaign
            log.exception("campaign send failed", campaign=self.campaign.name, error=repr(exc))
            outcome = Status.FAILED
            await self.progress.mark(recipient.key, outcome.value)
        finally:
            self._inflight.release()
        if outcome is not None:
            counts.by_status[outcome.value] += 1
            if on_progress:
                on_progress(counts)

    async def _paused(self) -> bool:
        """Paused here, or by a status webhook (failed with 131048/131049), looked up at most once a second."""
        if not self._halt.is_set() and time.monotonic() - self._paused_checked > 1.0:
            self._paused_checked = time.monotonic()
            if await self.redis.hget(keys.campaign(self.campaign.name), "paused"):
                self._halt.set()
        return self._halt.is_set()

    async def pause(self, reason: str) -> None:
        log.error("WhatsApp paused the campaign", campaign=self.campaign.name, reason=reason)
        await self.progress.note(paused=reason, paused_at=self._clock().isoformat(timespec="seconds"))
        self._halt.set()

    async def _deliver(self, recipient: Recipient) -> Status | None:
        if not await may_contact(self.redis, recipient.conversation_id):
            await self.progress.mark(recipient.key, Status.OPTED_OUT.value)
            return Status.OPTED_OUT
        if recipient.channel == "whatsapp":
            return await self._deliver_whatsapp(recipient)
        if not await self.progress.claim(recipient.key, self._final):
            return None  # another run got there first
        text = self.campaign.render(recipient.language, self._values)
        buttons = [Button(title=b.title.get(recipient.language), payload=b.payload) for b in self.campaign.buttons]
        outcome = Status.FAILED
        for _ in range(FLOOD_RETRIES):
            await self._pacer.wait(recipient.chat_id)
            try:
                await self.transport.send(recipient.chat_id, text, buttons)
                outcome = Status.SENT
                break
            except FloodWait as exc:
                log.warning("flood limit: pausing the campaign", retry_after=exc.seconds)
                self._gate.pause(exc.seconds)
                await asyncio.sleep(exc.seconds)
            except RecipientBlocked:
                await self.voters.mark_unreachable(recipient.conversation_id)
                outcome = Status.UNREACHABLE
                break
            except DeliveryFailed as exc:
                log.warning("campaign message refused", campaign=self.campaign.name, error=str(exc))
                break
        await self.progress.mark(recipient.key, outcome.value)
        return outcome

    async def _deliver_whatsapp(self, recipient: Recipient) -> Status | None:
        """An approved template, within the messaging tier; 131048/131049 pause the whole campaign."""
        chosen = self.campaign.whatsapp.get(recipient.language) if self.campaign.whatsapp else None
        if chosen is None or self.whatsapp is None:
            await self.progress.mark(recipient.key, Status.NO_CHANNEL.value)
            return Status.NO_CHANNEL
        try:
            values = parameters(chosen.parameters, recipient, self.schedule, self._values)
        except ValueError as exc:
            log.warning("template parameters missing", campaign=self.campaign.name, error=str(exc))
            await self.progress.mark(recipient.key, Status.FAILED.value)
            return Status.FAILED
        while self.tier is not None and (wait := await self.tier.reserve(recipient.key)) > 0:
            if not self._wait or self._stop.is_set() or self._halt.is_set():
                await self.progress.mark(recipient.key, Status.HELD_TIER.value)
                return Status.HELD_TIER
            log.info("messaging tier full: waiting for the 24 h window to move", seconds=round(wait))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), min(wait, self.tier.poll_s))
        if self._halt.is_set() or not await self.progress.claim(recipient.key, self._final):
            return None
        outcome = Status.FAILED
        for _ in range(FLOOD_RETRIES):
            try:
                await self.whatsapp.send_template(recipient.chat_id, recipient.language, chosen, values)
                outcome = Status.SENT
                break
            except FloodWait as exc:
                self._gate.pause(exc.seconds)
                await asyncio.sleep(exc.seconds)
            except RecipientBlocked:
                await self.voters.mark_unreachable(recipient.conversation_id)
                outcome = Status.UNREACHABLE
                break
            except SendingRestricted as exc:
                await self.pause(f"WhatsApp error {exc.code}: {exc.reason}")
                await self.progress.forget([recipient.key])  # not delivered: sent on the resumed run
                return None
            except DeliveryFailed as exc:
                log.warning("campaign template refused", campaign=self.campaign.name, error=str(exc))
                break
        await self.progress.mark(recipient.key, outcome.value)
        return outcome

"""Replies leave here: through the voter's own channel, into the transcript, and into the dead letters on failure.

A send that fails after the channel's own retries never reaches the inbound worker: it is counted
(``samvad_send_failures_total``), kept in the outbound dead-letter stream with the reason, and the turn is
still written to the transcript, so a web-chat voter who comes back reads it in the history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from bot import metrics
from bot.deadletters import DeadKind, DeadLetters
from bot.errors import RecipientBlocked, WindowClosed
from bot.language import Language
from bot.models import Button, Channel, OutboundMessage
from bot.store import VoterProfile, VoterStore, turn_json

log = structlog.get_logger(__name__)


class Sender(Protocol):
    """A channel's sending side."""

    async def send(self, message: OutboundMessage) -> None: ...


@dataclass
class TurnBatch:
    """Transcript turns of the message being handled, written together after its last reply."""

    conversation_id: str
    turns: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        taken, self.turns = self.turns, []
        return taken


class Outbox:
    def __init__(self, store: VoterStore, dead: DeadLetters) -> None:
        self.store = store
        self.dead = dead
        self.senders: dict[Channel, Sender] = {}

    def add_sender(self, channel: Channel, sender: Sender) -> None:
        self.senders[channel] = sender

    async def send(
        self,
        profile: VoterProfile,
        language: Language,
        text: str,
        buttons: list[Button] | None = None,
        *,
        who: str = "bot",
        batch: TurnBatch | None = None,
        **extra: str,
    ) -> bool:
        """Send one message to the voter; True if the channel took it.

        With `batch`, the transcript turn joins the batch (written by its owner); else it is written now.
        """
        outbound = OutboundMessage(
            channel=profile.channel, chat_id=profile.chat_id, text=text, buttons=buttons or [], author=who
        )
        delivered = await self._deliver(profile, outbound)
        turn = turn_json(who, text, **extra) if delivered else turn_json(who, text, undelivered=True, **extra)
        if batch is not None and batch.conversation_id == profile.conversation_id:
            batch.turns.append(turn)
        else:
            await self.store.add_turns(profile.conversation_id, [turn])
        if delivered:
            metrics.MESSAGES_OUT.labels(profile.channel.value, language.value).inc()
        return delivered

    async def _deliver(self, profile: VoterProfile, outbound: OutboundMessage) -> bool:
        sender = self.senders.get(profile.channel)
        if sender is None:
            reason = "channel not configured"
        else:
            try:
                await sender.send(outbound)
                return True
            except RecipientBlocked:
                await self.store.mark_unreachable(profile.conversation_id)
                reason = "blocked"
            except WindowClosed:
                if outbound.author == "agent":
                    raise  # the console tells the agent before anything is recorded: a template is needed
                reason = "WindowClosed: the voter's 24-hour WhatsApp window is closed"
            except Exception as exc:  # the edge: whatever the channel raised after its retries, the voter's turn
                # is still handled; the failure is kept for a supervisor to replay
                log.exception("reply not delivered", conversation_id=profile.conversation_id)
                reason = f"{type(exc).__name__}: {exc}"[:300]
        metrics.SEND_FAILURES.labels(profile.channel.value, reason.split(":")[0]).inc()
        await self.dead.record(
            DeadKind.OUTBOUND,
            profile.conversation_id,
            channel=profile.channel.value,
            text=outbound.text,
            buttons=json.dumps([b.model_dump() for b in outbound.buttons], ensure_ascii=False),
            author=outbound.author,
            reason=reason,
        )
        return False

    async def resend(self, profile: VoterProfile, fields: dict[str, str]) -> bool:
        """Send a dead-lettered reply again (a supervisor's replay); True if the channel took it this time."""
        buttons = [Button.model_validate(b) for b in json.loads(fields.get("buttons") or "[]")]
        outbound = OutboundMessage(
            channel=profile.channel,
            chat_id=profile.chat_id,
            text=fields.get("text", ""),
            buttons=buttons,
            author=fields.get("author", "bot"),
        )
        sender = self.senders.get(profile.channel)
        if sender is None:
            return False
        await sender.send(outbound)
        return True

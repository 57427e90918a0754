"""Routes each voter message once: to the assistant, or to the people handling it.

Every message is first stored in the voter's inbox in Redis (nothing is lost
if the process dies), then one worker per conversation takes the inbox in
order, one message at a time. Different conversations run in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import structlog
from redis.asyncio import Redis

from bot import keys, metrics
from bot.consent import withdraw
from bot.errors import RasaUnavailable
from bot.handoff import ERASE_KEY, HANDOFF_KEY, SET_LANGUAGE_KEY, HandoffReason, HandoffSignal
from bot.handoff.hours import AgentHours
from bot.handoff.queue import HandoffQueue
from bot.lanes import Lanes
from bot.language import Language, detect
from bot.models import Button, Channel, InboundMessage, Kind, Mode, OutboundMessage
from bot.rasa_client import RasaClient
from bot.store import ARRIVAL_LUA, VoterProfile, VoterStore, profile_from_fields, turn_json
from bot.texts import Texts

log = structlog.get_logger(__name__)

# Channel commands and what the assistant hears for them. /help is answered by the gateway.
COMMAND_PAYLOADS = {
    "start": "/greet",
    "language": "/change_language",
    "human": "/ask_human",
    "subscribe": "/subscribe_updates",
    "delete": "/delete_data",
}

# A message that is only one of these withdraws outreach consent in any state of the conversation
# (mid-form, waiting for a person, talking to one): withdrawing must be as easy as consenting.
STOP_WORDS = frozenset(
    {"stop", "unsubscribe", "stop karo", "band", "band karo", "bandh karo", "band kro", "band kar do",
     "रुकें", "रुको", "रोको", "बंद", "बंद करो", "बंद करें", "बंद कर दो", "स्टॉप"}
)  # fmt: skip

# Buttons the gateway offers while a voter waits for a person.
CALLBACK_PAYLOAD = "/request_callback"
BACK_TO_BOT_PAYLOAD = "/continue_with_bot"

# A short courtesy in Latin letters ("thanks", "ok ji") does not switch an ongoing conversation's
# language; anything in Devanagari does.
SWITCH_MIN_WORDS = 3

# The voter hears a notice ("we are having trouble", "a person will reply") at most once in this many seconds.
NOTICE_EVERY_S = 600


class Sender(Protocol):
    async def send(self, message: OutboundMessage) -> None: ...


class Router:
    def __init__(
        self,
        *,
        redis: Redis,
        store: VoterStore,
        rasa: RasaClient,
        texts: Texts,
        handoff: HandoffQueue,
        max_message_chars: int,
        hours: AgentHours | None = None,
        max_wait_s: float = 900.0,
        rasa_down_handoff_after_s: float = 60.0,
    ) -> None:
        self.redis = redis
        self.store = store
        self.rasa = rasa
        self.texts = texts
        self.handoff = handoff
        self.senders: dict[Channel, Sender] = {}
        self._max_chars = max_message_chars
        self.hours = hours or AgentHours("00:00-00:00")
        self._max_wait_s = max_wait_s
        self._rasa_down_handoff_after_s = rasa_down_handoff_after_s
        self.lanes = Lanes(redis, self._process, once_ttl_s=store.dedup_ttl_s, on_store=ARRIVAL_LUA)

    def add_sender(self, channel: Channel, sender: Sender) -> None:
        self.senders[channel] = sender

    async def accept(self, message: InboundMessage, *, once_key: str | None = None) -> bool:
        """Store the message durably, then make sure its conversation is being worked.

        With `once_key`, a message whose key was already seen is dropped (a redelivery);
        returns False then. The voter's turn reaches the transcript (and a new voter gets a
        profile) in the same step, in the order the messages came in.
        """
        hook_keys, hook_args = self.store.arrival(message, self._voter_turn(message))
        raw = message.model_dump_json()
        return await self.lanes.submit(
            message.conversation_id, raw, once_key=once_key, hook_keys=hook_keys, hook_args=hook_args
        )

    def _text(self, message: InboundMessage) -> str:
        """The voter's text as the gateway handles it: trimmed, cut at the longest message allowed."""
        return message.text.strip()[: self._max_chars]

    def _voter_turn(self, message: InboundMessage) -> str:
        """The voter's message as the transcript keeps it."""
        return self._text(message) or f"<{message.kind.value}>"

    async def _process(self, conversation_id: str, raw: str, arrived: list[str] | None) -> None:
        """One message from the lane; `arrived`: the profile's fields, read as the message was stored."""
        message = InboundMessage.model_validate_json(raw)
        structlog.contextvars.bind_contextvars(conversation_id=conversation_id, channel=message.channel.value)
        # Replies sent while the message is handled reach the transcript together, after the last one
        # is out: one round trip, and none between two replies.
        turns = _PendingTurns(conversation_id)
        token = _PENDING_TURNS.set(turns)
        try:
            with metrics.own_time(message.received_at):
                profile = profile_from_fields(conversation_id, arrived) if arrived else None
                await self.handle(message, profile)
        finally:
            _PENDING_TURNS.reset(token)
            structlog.contextvars.unbind_contextvars("conversation_id", "channel")
            await self.store.add_turns(conversation_id, turns.take())

    async def handle(self, message: InboundMessage, profile: VoterProfile | None = None) -> None:
        """Answer one voter message, already in the transcript (see `accept`).

        `profile`: the voter's, if it was read as the message was stored.
        """
        text = self._text(message)
        if profile is None:
            # Read now; a profile erased ("delete my data") since the message came in starts afresh.
            profile = await self.store.get(message.conversation_id) or await self.store.arrive(
                message, self._voter_turn(message)
            )
        language = await self._language(profile, message.text if message.kind is Kind.TEXT else "")
        metrics.MESSAGES_IN.labels(message.channel.value, language.value).inc()

        if is_stop_word(text) or (message.kind is Kind.COMMAND and text == "stop"):
            await self.stop_outreach(profile, language)
            if profile.mode is not Mode.BOT:
                await self._to_people(profile, language, text)  # the agent sees it too
        elif message.kind is Kind.UNSUPPORTED:
            await self.say(profile, language, "unsupported_media")
        elif message.kind is Kind.COMMAND and text not in COMMAND_PAYLOADS:
            await self.say(profile, language, "help")
        elif not text:
            await self.say(profile, language, "message_empty")
        elif profile.mode is Mode.QUEUED and text in (CALLBACK_PAYLOAD, BACK_TO_BOT_PAYLOAD):
            await self._leave_queue(profile, language, text)
        elif profile.mode is not Mode.BOT:
            await self._to_people(profile, language, text)
        elif text == BACK_TO_BOT_PAYLOAD:
            await self.say(profile, language, "welcome_back")
        else:
            text = COMMAND_PAYLOADS.get(text, text) if message.kind is Kind.COMMAND else text
            await self._ask_assistant(profile, language, text, message)

    async def _language(self, profile: VoterProfile, text: str) -> Language:
        """The language to answer in: detected on first contact and on a switch, unless the voter chose one."""
        # Button payloads ("/find_polling_station") and commands say nothing about the voter's language.
        detected = None if text.startswith("/") else detect(text)
        if profile.language is None:
            language = detected or Language.HI
        elif (
            not profile.language_locked
            and detected
            and detected is not profile.language
            and (len(text.split()) >= SWITCH_MIN_WORDS or _has_devanagari(text))
        ):
            language = detected
        else:
            return profile.language
        await self.store.set_language(profile.conversation_id, language, locked=False)
        return language

    async def _ask_assistant(
        self, profile: VoterProfile, language: Language, text: str, message: InboundMessage | None
    ) -> None:
        metadata = {"channel": profile.channel.value, "language": language.value}
        try:
            if profile.resume_pending:
                await self.rasa.resume(profile.conversation_id)
                await self.store.set_resume_pending(profile.conversation_id, False)
            replies = await self.rasa.send(profile.conversation_id, text, metadata)
        except RasaUnavailable as exc:
            metrics.ERRORS.labels("rasa_unavailable").inc()
            log.warning("rasa unavailable; holding the message for retry", error=str(exc))
            if message is not None:
                await self.hold_for_retry(message)
            if await self._once(keys.apologized(profile.conversation_id)):
                await self.say(profile, language, "rasa_unavailable")
            return
        await self._deliver_replies(profile, language, replies)

    async def _deliver_replies(self, profile: VoterProfile, language: Language, replies: list[dict[str, Any]]) -> None:
        erase = False
        for reply in replies:
            custom = reply.get("custom") or {}
            if isinstance(custom, dict) and SET_LANGUAGE_KEY in custom:
                language = Language(custom[SET_LANGUAGE_KEY])
                await self.store.set_language(profile.conversation_id, language, locked=True)
            if reply.get("text"):
                buttons = [Button(title=b["title"], payload=b["payload"]) for b in reply.get("buttons") or []]
                await self.send(profile, language, reply["text"], buttons)
            if isinstance(custom, dict) and HANDOFF_KEY in custom:
                signal = HandoffSignal.model_validate(custom[HANDOFF_KEY])
                await self.start_handoff(profile, signal)
            erase = erase or (isinstance(custom, dict) and custom.get(ERASE_KEY) is True)
        if erase:
            await self.erase(profile.conversation_id)

    async def erase(self, conversation_id: str) -> None:
        """ "Delete my data": the gateway's keys and the assistant's record of the conversation."""
        if pending := _pending_turns(conversation_id):
            pending.take()  # the replies so far must not bring the transcript back
        await self.store.erase(conversation_id)
        try:
            await self.rasa.forget(conversation_id)
        except RasaUnavailable as exc:
            metrics.ERRORS.labels("rasa_forget").inc()
            log.error("could not erase the assistant's record of the conversation", error=str(exc))
        log.info("voter data erased")

    async def stop_outreach(self, profile: VoterProfile, language: Language) -> None:
        """A bare STOP: no more outreach, effective before any campaign's next send.

        Only a voter who has a consent record gets an opt-out on the ledger: nothing is stored about
        one who never subscribed; they hear the same confirmation.
        """
        if await self.redis.exists(keys.consent(profile.conversation_id)):
            await withdraw(self.redis, profile.conversation_id, channel=profile.channel.value, language=language.value)
        await self.say(profile, language, "unsubscribed")

    async def _once(self, key: str) -> bool:
        """True at most once per NOTICE_EVERY_S for `key`, so notices do not repeat on every message."""
        return bool(await self.redis.set(key, "1", nx=True, ex=NOTICE_EVERY_S))

    async def start_handoff(self, profile: VoterProfile, signal: HandoffSignal) -> None:
        language = Language(signal.language)
        if not self.hours.open_now():
            # Nobody to answer now: the assistant carries on, and the voter may ask for a call back.
            await self._resume_assistant(profile.conversation_id)
            await self.store.set_mode(profile.conversation_id, Mode.BOT)
            closed = self.texts.get("handoff_closed", language.value).format(hours=self.hours.window)
            await self.send(profile, language, closed, self._offer(language))
            return
        await self.store.set_mode(profile.conversation_id, Mode.QUEUED)
        await self._write_pending_turns(profile.conversation_id)  # the agent who takes it reads them
        await self.handoff.enqueue(profile.conversation_id, signal)
        log.info("handed off", reason=signal.reason.value, topic=signal.topic)
        wait_s = await self.tell_position(profile, language)
        if wait_s is not None and wait_s > self._max_wait_s:
            await self.send(
                profile, language, self.texts.get("handoff_long_wait", language.value), self._offer(language)
            )

    async def _write_pending_turns(self, conversation_id: str) -> None:
        if pending := _pending_turns(conversation_id):
            await self.store.add_turns(conversation_id, pending.take())

    def _offer(self, language: Language) -> list[Button]:
        return [
            Button(title=self.texts.get("button_callback", language.value), payload=CALLBACK_PAYLOAD),
            Button(title=self.texts.get("button_bot", language.value), payload=BACK_TO_BOT_PAYLOAD),
        ]

    async def tell_position(
        self, profile: VoterProfile, language: Language, position: int | None = None
    ) -> float | None:
        """Tell a waiting voter their place in the queue and the estimated wait; returns the wait."""
        if position is None:
            position = await self.handoff.position(profile.conversation_id)
        if position is None:
            return None
        wait_s = await self.handoff.estimated_wait_s(position, language.value)
        minutes = max(1, round(wait_s / 60))
        text = self.texts.get("handoff_position", language.value).format(position=position, minutes=minutes)
        await self.send(profile, language, text)
        await self.redis.hset(keys.voter(profile.conversation_id), "told_position", str(position))
        return wait_s

    async def update_positions(self) -> None:
        """Tell waiting voters their new place when it changed meaningfully (halved, or next in line)."""
        for language in self.handoff.languages:
            # One read of the queue gives every place; asking each voter's position would rescan it per voter.
            waiting = await self.handoff.waiting(language)
            for position, conversation_id in enumerate(waiting, start=1):
                told = int(await self.redis.hget(keys.voter(conversation_id), "told_position") or 0)
                if not told or not (position * 2 <= told or position == 1 < told):
                    continue
                profile = await self.store.get(conversation_id)
                if profile is not None:
                    await self.tell_position(profile, Language(language), position)

    async def _leave_queue(self, profile: VoterProfile, language: Language, payload: str) -> None:
        """The waiting voter chose a call back or the assistant instead of waiting."""
        if not await self.handoff.leave(profile.conversation_id):
            return  # an agent took the conversation meanwhile: the agent sees the choice as text
        await self._resume_assistant(profile.conversation_id)
        if payload == CALLBACK_PAYLOAD:
            await self._ask_assistant(profile, language, payload, None)
        else:
            await self.say(profile, language, "welcome_back")

    async def _resume_assistant(self, conversation_id: str) -> None:
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable as exc:
            # Still paused in Rasa: the next voter message resumes it first (see _ask_assistant).
            metrics.ERRORS.labels("rasa_resume").inc()
            log.warning("could not resume the conversation in Rasa", error=str(exc))
            await self.store.set_resume_pending(conversation_id, True)

    async def _to_people(self, profile: VoterProfile, language: Language, text: str) -> None:
        """A voter waiting for or talking to a person: the agent's console gets the message live."""
        event = {"type": "voter_message", "conversation_id": profile.conversation_id, "text": text, "at": time.time()}
        await self.redis.publish(keys.CONSOLE_EVENTS, json.dumps(event, ensure_ascii=False))
        if profile.mode is Mode.QUEUED and await self._once(keys.waiting_notice(profile.conversation_id)):
            await self.say(profile, language, "handoff_waiting")

    async def agent_says(self, conversation_id: str, agent: str, text: str) -> None:
        """An agent's message, sent through the voter's own channel."""
        profile = await self.store.get(conversation_id)
        if profile is None:
            raise LookupError(conversation_id)
        await self.send(profile, profile.language or Language.HI, text, who="agent", agent=agent)

    async def back_to_bot(self, conversation_id: str, *, ask_callback: bool = False) -> None:
        """After a person closed the conversation: un-pause the assistant and greet the voter back.

        With `ask_callback` (the agent closed as "callback needed"), the assistant asks the voter
        for a phone number and consent instead.
        """
        profile = await self.store.get(conversation_id)
        if profile is None:
            return
        await self._resume_assistant(conversation_id)
        await self.redis.delete(keys.waiting_notice(conversation_id))
        language = profile.language or Language.HI
        await self.say(profile, language, "welcome_back")
        if ask_callback:
            await self._ask_assistant(profile, language, CALLBACK_PAYLOAD, None)

    async def say(self, profile: VoterProfile, language: Language, text_name: str) -> None:
        await self.send(profile, language, self.texts.get(text_name, language.value))

    async def send(
        self,
        profile: VoterProfile,
        language: Language,
        text: str,
        buttons: list[Button] | None = None,
        *,
        who: str = "bot",
        **extra: str,
    ) -> None:
        outbound = OutboundMessage(
            channel=profile.channel, chat_id=profile.chat_id, text=text, buttons=buttons or [], author=who
        )
        await self.senders[profile.channel].send(outbound)
        turn = turn_json(who, text, **extra)
        if pending := _pending_turns(profile.conversation_id):
            pending.turns.append(turn)
        else:
            await self.store.add_turns(profile.conversation_id, [turn])
        metrics.MESSAGES_OUT.labels(profile.channel.value, language.value).inc()

    async def hold_for_retry(self, message: InboundMessage) -> None:
        await self.redis.rpush(keys.RETRY, message.model_dump_json())

    async def replay_held(self) -> int:
        """Move messages held while Rasa was down back into their inboxes, once Rasa is back."""
        moved = 0
        while await self.redis.llen(keys.RETRY) and await self.rasa.ready():
            raw = cast(str | None, await self.redis.lpop(keys.RETRY))  # the client decodes responses
            if raw is None:
                break
            conversation_id = InboundMessage.model_validate_json(raw).conversation_id
            profile = await self.store.get(conversation_id)
            if profile is not None and profile.mode is not Mode.BOT:
                continue  # people took the conversation during the outage; the transcript has the message
            await self.lanes.submit(conversation_id, raw)
            moved += 1
        if moved:
            log.info("replayed held messages", count=moved)
        return moved

    async def escalate_outage(self) -> int:
        """Rasa has been down too long: hand conversations with held messages to people."""
        held = [InboundMessage.model_validate_json(raw) for raw in await self.redis.lrange(keys.RETRY, 0, -1)]
        due = {m.conversation_id: m for m in held if time.time() - m.received_at > self._rasa_down_handoff_after_s}
        if not due or await self.rasa.ready():
            return 0
        escalated = 0
        for conversation_id in due:
            profile = await self.store.get(conversation_id)
            if profile is None or profile.mode is not Mode.BOT:
                continue
            language = profile.language or Language.HI
            signal = HandoffSignal(reason=HandoffReason.RASA_UNAVAILABLE, language=language.value)
            await self.start_handoff(profile, signal)
            escalated += 1
        return escalated

    async def run_maintenance(self, interval_s: float, stop: asyncio.Event) -> None:
        """Background task: replay held messages once Rasa is back; pick up stranded inboxes."""
        while not stop.is_set():
            try:
                await self.replay_held()
                await self.escalate_outage()
                await self.update_positions()
                await self.lanes.resume_all()
            except Exception:  # keep the loop alive; the next round retries
                metrics.ERRORS.labels("maintenance").inc()
                log.exception("maintenance round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)


@dataclass
class _PendingTurns:
    """Transcript turns of the message being handled, not yet written."""

    conversation_id: str
    turns: list[str] = field(default_factory=list)

    def take(self) -> list[str]:
        taken, self.turns = self.turns, []
        return taken


_PENDING_TURNS: ContextVar[_PendingTurns | None] = ContextVar("samvad_pending_turns", default=None)


def _pending_turns(conversation_id: str) -> _PendingTurns | None:
    """The unwritten turns of `conversation_id`, if one of its messages is being handled here."""
    pending = _PENDING_TURNS.get()
    return pending if pending is not None and pending.conversation_id == conversation_id else None


def is_stop_word(text: str) -> bool:
    words = text.strip(" \t\n.!?।,'\"").casefold().split()
    return " ".join(words) in STOP_WORDS


def _has_devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)

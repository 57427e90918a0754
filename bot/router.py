"""Routes each voter message once: to the assistant, to the people handling it, or to a gateway command.

Every message is first stored in the voter's inbox in Redis (nothing is lost if the process dies), then
one worker per conversation takes the inbox in order, one message at a time (`bot.lanes`). The router
only decides; who answers is owned by `bot.conversation`, replies leave through `bot.outbox`, held
messages live in `bot.outage`, and queue places in `bot.handoff.positions`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from redis.asyncio import Redis

from bot import keys, metrics, pubsub
from bot.clock import time_range
from bot.consent import withdraw
from bot.conversation import Conversations
from bot.csat import Survey
from bot.csat import is_payload as is_csat_button
from bot.deadletters import DeadKind, DeadLetters
from bot.errors import InvalidTransition, RasaUnavailable
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.hours import AgentHours
from bot.handoff.positions import Positions
from bot.lanes import Lanes
from bot.language import Language, detect
from bot.models import AssistantReply, Button, InboundMessage, Kind, Mode
from bot.outage import Outage
from bot.outbox import Outbox, TurnBatch
from bot.rasa_client import RasaClient
from bot.store import ARRIVAL_LUA, VoterProfile, VoterStore, profile_from_fields
from bot.texts import Texts
from bot.words import cancels_a_form, is_stop_word

log = structlog.get_logger(__name__)

# Channel commands and what the assistant hears for them. /help is answered by the gateway.
COMMAND_PAYLOADS = {
    "start": "/greet",
    "language": "/change_language",
    "human": "/ask_human",
    "subscribe": "/subscribe_updates",
    "delete": "/delete_data",
}

# Buttons the gateway offers while a voter waits for a person.
CALLBACK_PAYLOAD = "/request_callback"
BACK_TO_BOT_PAYLOAD = "/continue_with_bot"

# A short courtesy in Latin letters ("thanks", "ok ji") does not switch an ongoing conversation's
# language; anything in Devanagari does.
SWITCH_MIN_WORDS = 3

# The voter hears a notice ("we are having trouble", "a person will reply") at most once in this many seconds.
NOTICE_EVERY_S = 600


class Intake(Protocol):
    """What a channel hands its messages to."""

    async def accept(self, message: InboundMessage, *, once: str | None = None) -> bool: ...


class Router:
    def __init__(
        self,
        *,
        redis: Redis,
        store: VoterStore,
        rasa: RasaClient,
        texts: Texts,
        conversations: Conversations,
        outbox: Outbox,
        dead: DeadLetters,
        max_message_chars: int,
        hours: AgentHours | None = None,
        max_wait_s: float = 900.0,
        rasa_down_handoff_after_s: float = 60.0,
        retry_max_age_s: float = 48 * 3600,
    ) -> None:
        self.redis = redis
        self.store = store
        self.rasa = rasa
        self.texts = texts
        self.conversations = conversations
        self.outbox = outbox
        self.dead = dead
        self._max_chars = max_message_chars
        self.hours = hours or AgentHours("00:00-00:00")
        self._max_wait_s = max_wait_s
        self.lanes = Lanes(
            redis, self._process, on_failure=self._dead_letter, once_ttl_s=store.dedup_ttl_s, on_store=ARRIVAL_LUA
        )
        self.outage = Outage(
            redis,
            rasa=rasa,
            lanes=self.lanes,
            store=store,
            dead=dead,
            escalate_after_s=rasa_down_handoff_after_s,
            max_age_s=retry_max_age_s,
        )
        self.positions = Positions(redis, conversations.queue, store, outbox, texts)
        self.survey = Survey(redis, store, outbox, texts)
        self.on_erase: list[Callable[[str], Awaitable[None]]] = []  # e.g. the console's search index

    async def accept(self, message: InboundMessage, *, once: str | None = None) -> bool:
        """Store the message durably, then make sure its conversation is being worked.

        With `once`, its delivery id (bot/deliveries.py), a message already taken is dropped (a redelivery);
        returns False then. The voter's turn reaches the transcript (and a new voter gets a
        profile) in the same step, in the order the messages came in.
        """
        hook_keys, hook_args = self.store.arrival(message, self._voter_turn(message))
        raw = message.model_dump_json()
        return await self.lanes.submit(
            message.conversation_id, raw, once=once, hook_keys=hook_keys, hook_args=hook_args
        )

    def _text(self, message: InboundMessage) -> str:
        """The voter's text as the gateway handles it: cut at the longest message allowed, then trimmed."""
        return message.text[: self._max_chars * 2].strip()[: self._max_chars]

    def _voter_turn(self, message: InboundMessage) -> str:
        """The voter's message as the transcript keeps it."""
        return self._text(message) or f"<{message.kind.value}>"

    async def _dead_letter(self, conversation_id: str, raw: str, error: str) -> None:
        try:
            text = InboundMessage.model_validate_json(raw).text
        except ValueError:
            text = raw[:200]
        await self.dead.record(DeadKind.INBOUND, conversation_id, raw=raw, text=text, reason=error)

    async def _process(self, conversation_id: str, raw: str, arrived: list[str] | None) -> None:
        """One message from the lane; `arrived`: the profile's fields, read as the message was stored."""
        message = InboundMessage.model_validate_json(raw)
        structlog.contextvars.bind_contextvars(conversation_id=conversation_id, channel=message.channel.value)
        # Replies sent while the message is handled reach the transcript together, after the last one
        # is out: one round trip, and none between two replies.
        batch = TurnBatch(conversation_id)
        try:
            with metrics.own_time(message.received_at):
                profile = profile_from_fields(conversation_id, arrived) if arrived else None
                await self.handle(message, profile, batch)
        finally:
            structlog.contextvars.unbind_contextvars("conversation_id", "channel")
            await self.store.add_turns(conversation_id, batch.take())

    async def handle(
        self, message: InboundMessage, profile: VoterProfile | None = None, batch: TurnBatch | None = None
    ) -> None:
        """Answer one voter message, already in the transcript (see `accept`).

        `profile`: the voter's, if it was read as the message was stored.
        """
        text = self._text(message)
        batch = batch or TurnBatch(message.conversation_id)
        if profile is None:
            # Read now; a profile erased ("delete my data") since the message came in starts afresh.
            profile = await self.store.get(message.conversation_id) or await self.store.arrive(
                message, self._voter_turn(message)
            )
        language = await self._language(profile, text if message.kind is Kind.TEXT else "")
        metrics.MESSAGES_IN.labels(message.channel.value, language.value).inc()
        say = Say(self, profile, language, batch)

        if (is_stop_word(text) and not (cancels_a_form(text) and await self._in_form(profile))) or (
            message.kind is Kind.COMMAND and text == "stop"
        ):
            await self.stop_outreach(say)
            if profile.mode is not Mode.BOT:
                await self._to_people(say, text)  # the agent sees it too
        elif message.kind is Kind.UNSUPPORTED and profile.mode is not Mode.BOT and message.attachment is not None:
            await self._to_people(say, f"<{message.attachment.type}>", media=message.attachment.model_dump())
        elif message.kind is Kind.UNSUPPORTED:
            await say.text_named("unsupported_media")
        elif message.kind is Kind.COMMAND and text not in COMMAND_PAYLOADS:
            await say.text_named("help")
        elif not text:
            await say.text_named("message_empty")
        elif profile.mode is Mode.QUEUED and text in (CALLBACK_PAYLOAD, BACK_TO_BOT_PAYLOAD):
            await self._leave_queue(say, text)
        elif profile.mode is not Mode.BOT:
            await self._to_people(say, text)
        elif text == BACK_TO_BOT_PAYLOAD:
            await say.text_named("welcome_back")
        elif (profile.csat_pending or is_csat_button(text)) and await self.survey.answer(
            profile, language, text, batch
        ):
            pass  # the answer to the satisfaction question, recorded and thanked; not the assistant's
        else:
            text = COMMAND_PAYLOADS.get(text, text) if message.kind is Kind.COMMAND else text
            await self._ask_assistant(say, text, message)

    async def _in_form(self, profile: VoterProfile) -> bool:
        """Whether the assistant is in the middle of a form, where a stop word cancels the form instead."""
        if profile.mode is not Mode.BOT:
            return False
        try:
            return await self.rasa.active_form(profile.conversation_id) is not None
        except RasaUnavailable:
            return False  # withdrawing is the safe reading of a bare "stop"

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
        profile.language = language
        return language

    async def _ask_assistant(self, say: Say, text: str, message: InboundMessage | None) -> None:
        profile = say.profile
        metadata = {"channel": profile.channel.value, "language": say.language.value}
        if message is not None and profile.held and not message.replayed:
            await self.outage.hold(message)  # earlier messages wait for Rasa: this one waits behind them
            return
        try:
            if profile.resume_pending:
                await self.rasa.resume(profile.conversation_id)
                await self.store.set_resume_pending(profile.conversation_id, False)
            reply = await self.rasa.send(profile.conversation_id, text, metadata)
        except RasaUnavailable as exc:
            metrics.ERRORS.labels("rasa_unavailable").inc()
            log.warning("rasa unavailable; holding the message for retry", error=str(exc))
            if message is not None:
                await self.outage.hold(message)
            if await self._once(keys.apologized(profile.conversation_id)):
                await say.text_named("rasa_unavailable")
            return
        await self._deliver(say, reply)

    async def _deliver(self, say: Say, reply: AssistantReply) -> None:
        if reply.set_language:
            say.language = Language(reply.set_language)
            await self.store.set_language(say.profile.conversation_id, say.language, locked=True)
        closed = reply.handoff is not None and not self.hours.open_now()
        for index, text in enumerate(reply.texts):
            if closed and index == reply.handoff_notice:
                continue  # nobody on duty: "connecting you" would contradict the call-back offer that follows
            await say.text(text.text, text.buttons)
        if reply.handoff is not None:
            await self.start_handoff(say.profile, reply.handoff, batch=say.batch)
        if reply.erase:
            await self.erase(say.profile.conversation_id, say.batch)

    async def _closed(self, say: Say) -> None:
        hours = time_range(self.hours.start, self.hours.end, say.language.value)
        closed = self.texts.get("handoff_closed", say.language.value).format(hours=hours)
        await say.text(closed, self._offer(say.language))

    async def erase(self, conversation_id: str, batch: TurnBatch | None = None) -> None:
        """ "Delete my data": the gateway's keys, held and dead messages, and the assistant's record."""
        if batch is not None:
            batch.take()  # the replies so far must not bring the transcript back
        await self.conversations.forget(conversation_id)
        await self.store.erase(conversation_id)
        await self.outage.forget(conversation_id)
        await self.dead.forget(conversation_id)
        for forget in self.on_erase:
            await forget(conversation_id)
        try:
            await self.rasa.forget(conversation_id)
        except RasaUnavailable as exc:
            metrics.ERRORS.labels("rasa_forget").inc()
            log.error("could not erase the assistant's record of the conversation", error=str(exc))
        log.info("voter data erased")

    async def stop_outreach(self, say: Say) -> None:
        """A bare STOP: no more outreach, effective before any campaign's next send.

        Only a voter who has a consent record gets an opt-out on the ledger: nothing is stored about
        one who never subscribed; they hear the same confirmation.
        """
        profile = say.profile
        if await self.redis.exists(keys.consent(profile.conversation_id)):
            await withdraw(
                self.redis, profile.conversation_id, channel=profile.channel.value, language=say.language.value
            )
        await say.text_named("unsubscribed")

    async def _once(self, key: str) -> bool:
        """True at most once per NOTICE_EVERY_S for `key`, so notices do not repeat on every message."""
        return bool(await self.redis.set(key, "1", nx=True, ex=NOTICE_EVERY_S))

    async def start_handoff(
        self, profile: VoterProfile, signal: HandoffSignal, *, batch: TurnBatch | None = None
    ) -> None:
        """Queue the conversation for a person, or offer a call back when nobody is on duty."""
        language = Language(signal.language)
        say = Say(self, profile, language, batch or TurnBatch(profile.conversation_id))
        if not self.hours.open_now():
            await self._resume_assistant(profile.conversation_id)
            await self._closed(say)
            await self._flush(say, batch)
            return
        if batch is not None:  # the agent who takes it reads them
            await self.store.add_turns(profile.conversation_id, batch.take())
        try:
            await self.conversations.hand_off(profile.conversation_id, signal)
        except InvalidTransition as exc:
            log.warning("hand-off refused", error=str(exc))
            return
        profile.mode = Mode.QUEUED
        wait_s = await self.positions.tell(profile, language, batch=say.batch)
        if wait_s is not None and wait_s > self._max_wait_s:
            await say.text(self.texts.get("handoff_long_wait", language.value), self._offer(language))
        await self._flush(say, batch)

    async def _flush(self, say: Say, batch: TurnBatch | None) -> None:
        """Turns of a hand-off started outside a message's handling (no batch of its own) are written now."""
        if batch is None:
            await self.store.add_turns(say.profile.conversation_id, say.batch.take())

    def _offer(self, language: Language) -> list[Button]:
        return [
            Button(title=self.texts.get("button_callback", language.value), payload=CALLBACK_PAYLOAD),
            Button(title=self.texts.get("button_bot", language.value), payload=BACK_TO_BOT_PAYLOAD),
        ]

    async def _leave_queue(self, say: Say, payload: str) -> None:
        """The waiting voter chose a call back or the assistant instead of waiting."""
        if not await self.conversations.leave(say.profile.conversation_id):
            return  # an agent took the conversation meanwhile: the agent sees the choice as text
        say.profile.mode = Mode.BOT
        await self._resume_assistant(say.profile.conversation_id)
        if payload == CALLBACK_PAYLOAD:
            await self._ask_assistant(say, payload, None)
        else:
            await say.text_named("welcome_back")

    async def _resume_assistant(self, conversation_id: str) -> None:
        try:
            await self.rasa.resume(conversation_id)
        except RasaUnavailable as exc:
            # Still paused in Rasa: the next voter message resumes it first (see _ask_assistant).
            metrics.ERRORS.labels("rasa_resume").inc()
            log.warning("could not resume the conversation in Rasa", error=str(exc))
            await self.store.set_resume_pending(conversation_id, True)

    async def _to_people(self, say: Say, text: str, media: dict[str, object] | None = None) -> None:
        """A voter waiting for or talking to a person: the agent's console gets the message live (and media)."""
        conversation_id = say.profile.conversation_id
        if say.profile.stranded:  # left queued without an entry by an older gateway's crash: queue it for real
            log.warning("stranded queued voter: handing off again")
            signal = HandoffSignal(reason=HandoffReason.ASK_HUMAN, language=say.language.value)
            with contextlib.suppress(InvalidTransition):
                await self.conversations.hand_off(conversation_id, signal)
        event: dict[str, object] = {
            "type": "voter_message",
            "conversation_id": conversation_id,
            "text": text,
            "at": time.time(),
        }
        if media:
            event["media"] = media
        await pubsub.publish(self.redis, keys.CONSOLE_EVENTS, json.dumps(event, ensure_ascii=False))
        if say.profile.mode is Mode.QUEUED and await self._once(keys.waiting_notice(conversation_id)):
            await say.text_named("handoff_waiting")

    # --- what the console asks for ------------------------------------------------------------

    async def agent_says(self, conversation_id: str, agent: str, text: str) -> bool:
        """An agent's message, sent through the voter's own channel; False if the channel refused it."""
        profile = await self.store.get(conversation_id)
        if profile is None:
            raise LookupError(conversation_id)
        return await self.outbox.send(profile, profile.language or Language.HI, text, who="agent", agent=agent)

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
        say = Say(self, profile, profile.language or Language.HI, TurnBatch(conversation_id))
        await say.text_named("welcome_back")
        if ask_callback:
            await self._ask_assistant(say, CALLBACK_PAYLOAD, None)
        await self.store.add_turns(conversation_id, say.batch.take())

    async def replay_dead(self, kind: DeadKind, entry_id: str) -> bool:
        """A supervisor's replay: a dead inbound message back into its inbox, or a dead reply to its channel."""
        fields = await self.dead.get(kind, entry_id)
        conversation_id = (fields or {}).get("conversation_id", "")
        if fields is None or not conversation_id:
            return False
        if kind is DeadKind.INBOUND:
            raw = fields.get("raw", "")
            return bool(raw) and await self.lanes.submit(conversation_id, raw)
        profile = await self.store.get(conversation_id)
        if profile is None:
            return False
        try:
            return await self.outbox.resend(profile, fields)
        except Exception:  # the entry stays for another try; the supervisor sees the 409
            log.exception("replayed reply not delivered", conversation_id=conversation_id)
            return False

    async def escalate(self, profile: VoterProfile, signal: HandoffSignal) -> None:
        """Rasa has been down too long for this voter: a person takes over."""
        await self.start_handoff(profile, signal)


class Say:
    """Replies to one voter while one of their messages is handled: language chosen, turns batched."""

    def __init__(self, router: Router, profile: VoterProfile, language: Language, batch: TurnBatch) -> None:
        self._router = router
        self.profile = profile
        self.language = language
        self.batch = batch

    async def text(self, text: str, buttons: list[Button] | None = None) -> None:
        await self._router.outbox.send(self.profile, self.language, text, buttons, batch=self.batch)

    async def text_named(self, name: str) -> None:
        await self.text(self._router.texts.get(name, self.language.value))


def _has_devanagari(text: str) -> bool:
    return any("\u0900" <= ch <= "\u097f" for ch in text)

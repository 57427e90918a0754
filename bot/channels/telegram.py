"""Telegram through python-telegram-bot: webhook route, long polling, and rate-limited sending.

Updates are turned into `InboundMessage`s here and nowhere else. The webhook
route stores each message in Redis before it answers Telegram, so an update
that we acknowledged is never lost; if storing fails, Telegram gets a 503 and
delivers the update again.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, cast

import structlog
from aiohttp import web
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest, HTTPXRequest

from bot import keys, metrics
from bot.channels.telegram_http import AiohttpRequest
from bot.deadletters import DeadKind, DeadLetters
from bot.deliveries import Deliveries
from bot.errors import DeliveryFailed, FloodWait, InboxFull, RecipientBlocked
from bot.flood import FloodControl, Verdict, slow_down_text
from bot.language import Language, detect
from bot.models import Button, Channel, InboundMessage, Kind, OutboundMessage, conversation_id
from bot.pacing import ChatPacer

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.router import Intake
    from bot.settings import Settings
    from bot.store import VoterStore
    from bot.texts import Texts

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COMMANDS = ("start", "help", "language", "human", "stop", "subscribe", "delete")
CALLBACK_DATA_MAX = 64  # bytes, Telegram's limit
SEND_ATTEMPTS = 5


def build_application(settings: Settings, *, polling: bool) -> Application:  # type: ignore[type-arg]
    assert settings.telegram_bot_token is not None
    api = settings.telegram_api_url.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.telegram_max_rate,
                group_max_rate=settings.telegram_group_rate_per_min,
                max_retries=3,
            )
        )
        .concurrent_updates(True)
    )
    if settings.telegram_http_client == "aiohttp":
        # getUpdates gets a request of its own: a long poll must not hold a connection that replies need.
        builder = builder.request(AiohttpRequest()).get_updates_request(AiohttpRequest(connection_pool_size=1))
    if not polling:
        builder = builder.updater(None)
    return builder.build()


class TelegramChannel:
    """Receives updates (webhook or polling) and sends replies for one bot."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        intake: Intake,
        store: VoterStore,
        texts: Texts,
        settings: Settings,
    ) -> None:
        self.application = application
        self.intake = intake
        self.store = store
        self.texts = texts
        self.redis: Redis = store.redis
        self._secret = settings.webhook_secret.get_secret_value().encode() if settings.webhook_secret else b""
        self._pacer = ChatPacer(settings.chat_burst, settings.chat_interval_s)
        self._background: set[asyncio.Task[None]] = set()
        self.flood: FloodControl | None = None  # set by the app once Redis is up
        self._dead = DeadLetters(self.redis, ttl_s=settings.dead_letter_ttl_s)
        self._deliveries = Deliveries(self.redis, ttl_s=settings.dedup_ttl_s)
        application.add_handler(TypeHandler(Update, self._on_polled_update))
        application.add_error_handler(self._on_error)

    # --- receiving -------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /telegram/webhook: check the secret, de-duplicate, store, acknowledge."""
        received_at = time.time()
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not self._secret or not hmac.compare_digest(given, self._secret):
            metrics.ERRORS.labels("webhook_forbidden").inc()
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        try:
            data = json.loads(await request.read())
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update object")
            update = Update.de_json(data, self.application.bot)
        # OverflowError and OSError: a date far outside what the platform's clock can hold (seen by the fuzzer).
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError) as exc:
            metrics.ERRORS.labels("webhook_bad_request").inc()
            log.warning("malformed webhook body", error=f"{exc.__class__.__name__}: {exc}")
            return web.json_response({"ok": False, "error": "malformed update"}, status=400)
        try:
            first = await self.receive(update, received_at=received_at)
        except (RedisConnectionError, RedisTimeoutError):  # also a pool with no free connection in time
            # Not stored, and it may be next time: let Telegram deliver it again.
            metrics.ERRORS.labels("webhook_store").inc()
            log.exception("could not store update; asking Telegram to retry", update_id=update.update_id)
            return web.json_response({"ok": False, "error": "try again"}, status=503)
        except Exception:
            # It will fail the same way every time: a 503 would make Telegram resend it forever. Keep the raw
            # update for a person to look at, and take it off Telegram's hands.
            metrics.ERRORS.labels("webhook_poison").inc()
            log.exception("update cannot be stored; kept in the dead letters", update_id=update.update_id)
            # No conversation id: a supervisor can read it in the dead letters, but not replay it into an inbox.
            raw = json.dumps({"telegram_update": data}, ensure_ascii=True)
            await self._dead.record(DeadKind.INBOUND, "", raw=raw, text=raw[:200], reason="update cannot be stored")
            return web.json_response({"ok": False, "error": "update kept for review"}, status=200)
        return web.json_response({"ok": True} if first else {"ok": True, "duplicate": True})

    async def _on_polled_update(self, update: object, _: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            await self.receive(update)

    async def receive(self, update: Update, *, received_at: float | None = None) -> bool:
        """Turn one update into a voter message for the router, or answer it here.

        Returns False for a redelivery of an update already taken. A voter message is
        marked as seen in the same atomic step that stores it, so a crash in between
        cannot make the redelivery look like a duplicate.
        """
        chat = update.effective_chat
        inbound = to_inbound(update) if chat is not None and chat.type == ChatType.PRIVATE else None
        once = f"tg:{update.update_id}"
        if inbound is None or update.edited_message:
            if not await self._first_delivery(update, inbound):
                return False
            if chat is not None and chat.type != ChatType.PRIVATE and update.message is not None:
                await self._group_notice(update)
            return True  # edits and channel posts are not questions to answer
        if received_at is not None:  # when the webhook request came in, before parsing
            inbound.received_at = received_at
        if inbound.text.startswith("#"):  # a long button payload kept in Redis
            inbound.text = cast(str | None, await self.redis.get(keys.button_payload(inbound.text))) or ""
        verdict = await self.flood.check(inbound.conversation_id) if self.flood else Verdict.ALLOW
        if verdict is not Verdict.ALLOW:
            if not await self._first_delivery(update, inbound):
                return False
            if verdict is Verdict.TELL:
                await self._slow_down(inbound.chat_id)
            return True
        try:
            first = await self.intake.accept(inbound, once=once)
        except InboxFull:
            await self._slow_down(inbound.chat_id)
            return True
        if first and update.callback_query is not None:
            self._spawn(self._answer_callback(update.callback_query.id))
        return first

    async def _first_delivery(self, update: Update, inbound: InboundMessage | None) -> bool:
        """For an update not stored in an inbox: marked in its conversation's deliveries, or alone (no chat)."""
        if inbound is not None:
            return await self._deliveries.first(inbound.conversation_id, f"tg:{update.update_id}")
        chat = update.effective_chat
        if chat is not None:
            conversation = conversation_id(Channel.TELEGRAM, str(chat.id))
            return await self._deliveries.first(conversation, f"tg:{update.update_id}")
        return await self._deliveries.first_unowned(keys.telegram_update(update.update_id))

    async def _slow_down(self, chat_id: str) -> None:
        """Tell a flooding voter, in both languages, that their last messages were not read."""
        notice = OutboundMessage(channel=Channel.TELEGRAM, chat_id=chat_id, text=slow_down_text(self.texts))
        self._spawn(self.send(notice))

    async def _group_notice(self, update: Update) -> None:
        message = update.effective_message
        text = (message.text or "") if message else ""
        bot_name = self.application.bot.username if self.application.bot._bot_user else ""
        addressed = text.startswith("/") or (bot_name and f"@{bot_name}" in text)
        if message and addressed and update.effective_chat:
            language = detect(text) or Language.HI
            notice = OutboundMessage(
                channel=Channel.TELEGRAM,
                chat_id=str(update.effective_chat.id),
                text=self.texts.get("group_chat", language.value),
            )
            await self.send(notice)

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.application.bot.answer_callback_query(query_id)
        except Exception as exc:  # the spinner stops by itself; nothing else depends on it
            log.info("answerCallbackQuery failed", error=str(exc))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        metrics.ERRORS.labels("telegram").inc()
        log.error("telegram handler failed", exc_info=context.error)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- sending ---------------------------------------------------------------------------

    async def send(self, message: OutboundMessage) -> None:
        """Send one message; waits out flood limits and network trouble rather than dropping it."""
        markup = await self._keyboard(message.buttons) if message.buttons else None
        chunks = split_text(message.text, MessageLimit.MAX_TEXT_LENGTH)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self._send_chunk(message.chat_id, chunk, markup if last else None)

    async def _send_chunk(self, chat_id: str, text: str, markup: InlineKeyboardMarkup | None) -> None:
        for attempt in range(1, SEND_ATTEMPTS + 1):
            await self._pacer.wait(chat_id)
            try:
                await self.application.bot.send_message(chat_id=int(chat_id), text=text, reply_markup=markup)
                return
            except RetryAfter as exc:
                delay = retry_seconds(exc)
                log.warning("flood limit: waiting", retry_after=delay)
                await asyncio.sleep(delay)
            except Forbidden:
                # The voter blocked the bot: nobody to deliver to.
                await self.store.mark_unreachable(f"{Channel.TELEGRAM.short}:{chat_id}")
                metrics.ERRORS.labels("telegram_blocked").inc()
                return
            except (TimedOut, NetworkError) as exc:
                if isinstance(exc, BadRequest) or attempt == SEND_ATTEMPTS:
                    raise
                await asyncio.sleep(min(2.0**attempt * 0.25, 8.0))
        raise TimedOut(f"sendMessage still flood-limited after {SEND_ATTEMPTS} attempts")

    async def _keyboard(self, buttons: list[Button]) -> InlineKeyboardMarkup:
        rows = [[InlineKeyboardButton(b.title, callback_data=await self._callback_data(b.payload))] for b in buttons]
        return InlineKeyboardMarkup(rows)

    async def _callback_data(self, payload: str) -> str:
        """Telegram keeps at most 64 bytes of callback data; longer payloads wait in Redis."""
        if len(payload.encode()) <= CALLBACK_DATA_MAX:
            return payload
        token = "#" + hashlib.sha256(payload.encode()).hexdigest()[:32]
        await self.redis.set(keys.button_payload(token), payload, ex=30 * 24 * 3600)
        return token

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)


def to_inbound(update: Update) -> InboundMessage | None:
    """The voter message an update from a private chat carries, or None if there is none."""
    chat = update.effective_chat
    if chat is None:
        return None
    base = {"channel": Channel.TELEGRAM, "chat_id": str(chat.id), "external_id": str(update.update_id)}
    if update.callback_query is not None:
        return InboundMessage(**base, text=update.callback_query.data or "")
    message = update.message
    if message is None:
        return None
    text = message.text
    if text is not None:
        command = _command(text)
        if command:
            return InboundMessage(**base, kind=Kind.COMMAND, text=command)
        return InboundMessage(**base, text=text)
    # Photos, voice notes, stickers, locations, documents, ... : answered politely.
    return InboundMessage(**base, kind=Kind.UNSUPPORTED, text=message.caption or "")


def _command(text: str) -> str | None:
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return name if name in COMMANDS else None


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asks us to wait (PTB gives seconds now, a timedelta in a future version)."""
    value = exc.retry_after
    return float(value if isinstance(value, int | float) else value.total_seconds())


def split_text(text: str, limit: int) -> list[str]:
    """Split at line or word breaks into pieces of at most `limit` characters."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text]


class TelegramBroadcast:
    """Writes to voters first (campaigns), translating Bot API errors into the sender's terms.

    No rate limiter here: the campaign sender paces every message itself.
    """

    def __init__(self, settings: Settings, *, connections: int | None = None) -> None:
        assert settings.telegram_bot_token is not None
        api = settings.telegram_api_url.rstrip("/")
        # PTB's Bot alone keeps one connection; the sender has several sends in flight.
        pool = connections or settings.outreach_concurrency
        request: BaseRequest = (
            AiohttpRequest(connection_pool_size=pool, pool_timeout=10.0)
            if settings.telegram_http_client == "aiohttp"
            else HTTPXRequest(connection_pool_size=pool, pool_timeout=10.0)
        )
        self.bot = Bot(settings.telegram_bot_token.get_secret_value(), base_url=f"{api}/bot", request=request)

    async def __aenter__(self) -> TelegramBroadcast:
        await self.bot.initialize()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.shutdown()

    async def send(self, chat_id: str, text: str, buttons: list[Button]) -> None:
        markup = (
            InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=b.payload)] for b in buttons])
            if buttons
            else None
        )
        for attempt in range(1, SEND_ATTEMPTS + 1):
            try:
                await self.bot.send_message(chat_id=int(chat_id), text=text, reply_markup=markup)
                return
            except RetryAfter as exc:
                raise FloodWait(retry_seconds(exc)) from exc
            except Forbidden as exc:
                raise RecipientBlocked() from exc
            except (BadRequest, TimedOut) as exc:
                # A timeout may have been delivered: not retried, so nobody gets it twice.
                raise DeliveryFailed(str(exc)) from exc
            except NetworkError as exc:
                if attempt == SEND_ATTEMPTS:
                    raise DeliveryFailed(str(exc)) from exc
                await asyncio.sleep(min(2.0**attempt * 0.25, 8.0))

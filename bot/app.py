"""The gateway's aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import weakref
from collections.abc import AsyncIterator

import aiohttp
import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis
from telegram.ext import Application

from bot import keys, metrics, redis_client
from bot.channels import webchat
from bot.channels.telegram import TelegramChannel, build_application
from bot.channels.webchat import SOCKETS, WEBCHAT, WebchatChannel
from bot.channels.whatsapp import WhatsAppChannel, build_client
from bot.console.api import Console
from bot.console.auth import csrf_middleware
from bot.console.services import ConsoleServices, FollowUp
from bot.conversation import Conversations
from bot.deadletters import DeadKind, DeadLetters
from bot.flood import FloodControl
from bot.handoff.hours import AgentHours
from bot.handoff.queue import HandoffQueue
from bot.headers import security_headers
from bot.language import Language
from bot.maintenance import Maintenance, Task
from bot.models import Channel
from bot.outbox import Outbox
from bot.rasa_client import RasaClient
from bot.router import Router
from bot.settings import Settings
from bot.store import VoterStore
from bot.texts import Texts

log = structlog.get_logger(__name__)

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
ROUTER = web.AppKey("router", Router)
RASA = web.AppKey("rasa", RasaClient)
TELEGRAM = web.AppKey("telegram", TelegramChannel)
WHATSAPP = web.AppKey("whatsapp", WhatsAppChannel)
SESSION = web.AppKey("session", aiohttp.ClientSession)
CONSOLE = web.AppKey("console", Console)
FLOOD = web.AppKey("flood", FloodControl)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
WHATSAPP_WEBHOOK_PATH = "/whatsapp/webhook"
WEBHOOK_CLAIM_TTL_S = 3600  # past it, a replica that starts registers the webhook again (harmless, once an hour)


def create_app(settings: Settings, *, telegram_polling: bool = False) -> web.Application:
    """The whole gateway: channels, router, health and metrics.

    Args:
        settings: built once by the caller.
        telegram_polling: serve Telegram by long polling instead of the webhook route.
    """
    console_origins = [settings.public_url, *settings.console_origins]
    app = web.Application(
        middlewares=[error_middleware, csrf_middleware(console_origins)], client_max_size=1024 * 1024
    )
    app.on_response_prepare.append(security_headers(settings))
    app[SETTINGS] = settings
    app[SOCKETS] = weakref.WeakSet()
    app.add_routes(webchat.routes())
    console = Console(
        public_url=settings.public_url,
        canned_file=settings.canned_file,
        secure_cookie=settings.public_url.startswith("https://"),
        extra_origins=settings.console_origins,
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    app[CONSOLE] = console
    app.add_routes(console.routes())
    app.cleanup_ctx.append(_resources)
    if settings.telegram_enabled:
        app.cleanup_ctx.append(_telegram(telegram_polling))
    if settings.whatsapp_enabled:
        app.cleanup_ctx.append(_whatsapp)
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_sockets)
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics_view),
            web.post(TELEGRAM_WEBHOOK_PATH, telegram_webhook),
            web.get(WHATSAPP_WEBHOOK_PATH, whatsapp_verify),
            web.post(WHATSAPP_WEBHOOK_PATH, whatsapp_webhook),
            web.get("/", to_chat),
        ]
    )
    return app


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    redis = redis_client.connect(
        settings.redis_url,
        cluster=settings.redis_cluster,
        health_check_interval=15,
        max_connections=settings.redis_max_connections,
        pool_timeout_s=settings.redis_pool_timeout_s,
    )
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30))
    store = VoterStore(
        redis,
        transcript_ttl_s=settings.transcript_ttl_s,
        transcript_max_turns=settings.transcript_max_turns,
        dedup_ttl_s=settings.dedup_ttl_s,
    )
    trackers = None
    if settings.rasa_tracker_redis_url:
        trackers = redis_client.connect(settings.rasa_tracker_redis_url, decode_responses=False)
    rasa = RasaClient(
        session,
        settings.rasa_url,
        settings.rasa_token.get_secret_value(),
        settings.rasa_timeout_s,
        tracker_store=trackers,
    )
    dead = DeadLetters(redis, ttl_s=settings.dead_letter_ttl_s)
    conversations = Conversations(redis, HandoffQueue(redis))
    outbox = Outbox(store, dead)
    router = Router(
        redis=redis,
        store=store,
        rasa=rasa,
        texts=Texts.load(settings.texts_file),
        conversations=conversations,
        outbox=outbox,
        dead=dead,
        max_message_chars=settings.max_message_chars,
        hours=AgentHours(settings.agent_hours, settings.agent_days),
        max_wait_s=settings.handoff_max_wait_s,
        rasa_down_handoff_after_s=settings.rasa_down_handoff_after_s,
        retry_max_age_s=settings.retry_max_age_s,
    )
    flood = FloodControl(
        redis,
        per_voter=settings.voter_messages_per_window,
        per_address=settings.address_messages_per_window,
        window_s=settings.flood_window_s,
    )
    app[FLOOD] = flood
    chat = WebchatChannel(
        intake=router,
        store=store,
        texts=router.texts,
        public_url=settings.public_url,
        extra_origins=settings.webchat_origins,
        flood=flood,
        legacy_ids=settings.webchat_legacy_ids,
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    outbox.add_sender(Channel.WEBCHAT, chat)
    app[WEBCHAT] = chat
    app[CONSOLE].bind(
        ConsoleServices(redis=redis, store=store, conversations=conversations, dead=dead, voice=router, rasa=rasa)
    )
    app[REDIS], app[RASA], app[ROUTER], app[SESSION] = redis, rasa, router, session
    yield
    await app[CONSOLE].events.close()
    await router.lanes.close()
    await session.close()
    await redis.aclose()
    if trackers is not None:
        await trackers.aclose()


def _telegram(polling: bool):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        settings, router = app[SETTINGS], app[ROUTER]
        application = build_application(settings, polling=polling)
        channel = TelegramChannel(application, router, router.store, router.texts, settings)
        channel.flood = app[FLOOD]
        router.outbox.add_sender(Channel.TELEGRAM, channel)
        app[TELEGRAM] = channel
        await application.initialize()
        await application.start()
        if polling:
            assert application.updater is not None
            await application.bot.delete_webhook()
            await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        elif settings.webhook_url:
            await _set_webhook_once(application, settings, app[REDIS])
        log.info("telegram ready", mode="polling" if polling else "webhook")
        yield
        if polling and application.updater is not None:
            await application.updater.stop()
        await channel.close()
        await application.stop()
        await application.shutdown()

    return ctx


async def _set_webhook_once(application: Application, settings: Settings, redis: Redis) -> None:  # type: ignore[type-arg]
    """Register the webhook from one replica only: Telegram answers 429 when every replica calls setWebhook.

    The first replica to start with this URL and secret claims it; the others see the claim and skip. A changed
    URL or secret is a new claim, so a deploy that changes them registers once more; a failed call gives the
    claim back, so the next replica to start tries again.
    """
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    url = settings.webhook_url.rstrip("/") + TELEGRAM_WEBHOOK_PATH if settings.webhook_url else ""
    claim = keys.telegram_webhook(hashlib.sha256(f"{url}\n{secret}".encode()).hexdigest()[:16])
    if not await redis.set(claim, str(os.getpid()), nx=True, ex=WEBHOOK_CLAIM_TTL_S):
        log.info("telegram webhook already registered by another replica")
        return
    try:
        await application.bot.set_webhook(
            url, secret_token=secret, allowed_updates=["message", "callback_query", "edited_message"]
        )
    except Exception:
        await redis.delete(claim)
        raise


async def _whatsapp(app: web.Application) -> AsyncIterator[None]:
    settings, router = app[SETTINGS], app[ROUTER]
    channel = WhatsAppChannel(build_client(settings, app[SESSION]), router, router.store, router.texts, settings)
    router.outbox.add_sender(Channel.WHATSAPP, channel)
    app[WHATSAPP] = channel
    app[CONSOLE].services.media[Channel.WHATSAPP.value] = channel  # voice notes and photos for agents
    if settings.whatsapp_followup_template:
        follow_up = FollowUp(channel, settings.whatsapp_followup_template, [settings.org_name])
        app[CONSOLE].services.follow_ups[Channel.WHATSAPP.value] = follow_up
    log.info("whatsapp ready", webhook=WHATSAPP_WEBHOOK_PATH)
    yield


async def _background(app: web.Application) -> AsyncIterator[None]:
    router, settings = app[ROUTER], app[SETTINGS]
    if upgraded := await router.store.upgrade_resume_pending():
        log.info("carried paused conversations over from the older gateway's set", count=upgraded)
    if upgraded := await router.outage.upgrade() + await router.dead.upgrade():
        log.info("carried held and dead messages over from the older gateway's lists", count=upgraded)
    resumed = await router.lanes.resume_all()
    if resumed:
        log.info("resumed unfinished conversations", count=resumed)
    stop = asyncio.Event()
    maintenance = _maintenance(router, settings)
    tasks = [asyncio.create_task(maintenance.run(stop), name="maintenance")]
    yield
    # Ask the loops to stop rather than cancel them mid-call: a cancelled Redis call can swallow the cancel.
    stop.set()
    for task in tasks:
        try:
            await asyncio.wait_for(task, 10)
        except TimeoutError:
            log.warning("background task did not stop in time", task=task.get_name())


def _maintenance(router: Router, settings: Settings) -> Maintenance:
    every = settings.rasa_retry_interval_s
    janitor_every = min(settings.agent_abandon_after_s / 4, 15.0)
    conversations = router.conversations

    async def trim() -> None:
        for kind in DeadKind:
            await router.dead.trim(kind)

    tasks = [
        Task("replay", every, router.outage.replay),
        Task("escalate", every, lambda: router.outage.escalate(router.escalate)),
        Task("positions", every, router.positions.update),
        Task("repair", every, conversations.repair),
        Task("inboxes", every, router.lanes.resume_all),
        Task("janitor", janitor_every, lambda: conversations.sweep(settings.agent_abandon_after_s)),
        Task("trim", 600.0, trim),
    ]
    return Maintenance(router.redis, tasks, tick_s=min(every, janitor_every))


async def _close_sockets(app: web.Application) -> None:
    sockets = app[SOCKETS]  # on its own line: inside list(...), mypy would infer the key's type from list's
    for ws in list(sockets):
        await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server shutdown")


@web.middleware
async def error_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    """Unexpected errors become a plain 500 without a traceback; the log keeps the traceback."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        metrics.ERRORS.labels("http").inc()
        log.exception("request failed", path=request.path)
        return web.json_response({"ok": False, "error": "internal error"}, status=500)


async def telegram_webhook(request: web.Request) -> web.StreamResponse:
    channel = request.app.get(TELEGRAM)
    if channel is None:
        raise web.HTTPNotFound(text="telegram is not configured")
    return await channel.webhook(request)


async def whatsapp_verify(request: web.Request) -> web.StreamResponse:
    channel = request.app.get(WHATSAPP)
    if channel is None:
        raise web.HTTPNotFound(text="whatsapp is not configured")
    return await channel.verify(request)


async def whatsapp_webhook(request: web.Request) -> web.StreamResponse:
    channel = request.app.get(WHATSAPP)
    if channel is None:
        raise web.HTTPNotFound(text="whatsapp is not configured")
    return await channel.webhook(request)


async def to_chat(_: web.Request) -> web.Response:
    raise web.HTTPFound("/chat")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    checks: dict[str, bool] = {}
    try:
        checks["redis"] = bool(await asyncio.wait_for(request.app[REDIS].ping(), 2))
    except Exception:
        checks["redis"] = False
    checks["rasa"] = await request.app[RASA].ready()
    ok = all(checks.values())
    return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)


async def metrics_view(request: web.Request) -> web.Response:
    queue = request.app[ROUTER].conversations.queue
    with contextlib.suppress(Exception):
        for language in Language:
            await queue.refresh_figures(language.value)
    try:
        metrics.RASA_UP.set(1 if await asyncio.wait_for(request.app[RASA].ready(), 2) else 0)
    except TimeoutError:
        metrics.RASA_UP.set(0)
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

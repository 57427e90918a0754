"""WhatsApp through Meta's Cloud API: the webhook (GET verify, POST messages and statuses) and sending.

Every POST is checked against `X-Hub-Signature-256` before anything else; each voter message
is stored in its conversation's inbox (de-duplicated by wamid) before Meta gets its 200, so an
acknowledged message is never lost. If storing fails, Meta gets a 503 and delivers again.
Delivery statuses are recorded for campaign reporting and never reach the assistant.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any, cast

import structlog
from aiohttp import web

from bot import keys, metrics
from bot.channels.whatsapp_send import RESTRICTED, GraphClient, Option, render, template
from bot.channels.whatsapp_webhook import SIGNATURE_HEADER, Incoming, NotWebhook, StatusEvent, parse, signature_ok
from bot.errors import RecipientBlocked, WindowClosed
from bot.language import Language, detect
from bot.models import Button, Channel, OutboundMessage, conversation_id

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from bot.router import Intake
    from bot.settings import Settings
    from bot.store import VoterStore
    from bot.texts import Texts

log = structlog.get_logger(__name__)

WINDOW_S = 24 * 3600  # the customer-service window after the voter's last message
RECEIPT_TTL_S = 30 * 24 * 3600
STATUSES_MAXLEN = 200_000
PAYLOAD_TTL_S = 30 * 24 * 3600


class WhatsAppChannel:
    """Receives one phone number's webhooks and sends its replies."""

    def __init__(
        self, client: GraphClient, intake: Intake, store: VoterStore, texts: Texts, settings: Settings
    ) -> None:
        assert settings.whatsapp_app_secret is not None and settings.whatsapp_verify_token is not None
        self.client = client
        self.intake = intake
        self.store = store
        self.texts = texts
        self.redis: Redis = store.redis
        self._app_secret = settings.whatsapp_app_secret.get_secret_value().encode()
        self._verify_token = settings.whatsapp_verify_token.get_secret_value().encode()

    # --- receiving -------------------------------------------------------------------------

    async def verify(self, request: web.Request) -> web.Response:
        """GET /whatsapp/webhook: Meta's subscription handshake; the challenge back as plain text."""
        query = request.query
        token = query.get("hub.verify_token", "").encode("utf-8", "surrogateescape")
        challenge = query.get("hub.challenge")
        if query.get("hub.mode") == "subscribe" and challenge and hmac.compare_digest(token, self._verify_token):
            return web.Response(text=challenge, content_type="text/plain")
        metrics.ERRORS.labels("whatsapp_verify_forbidden").inc()
        return web.Response(status=403, text="forbidden", content_type="text/plain")

    async def webhook(self, request: web.Request) -> web.Response:
        """POST /whatsapp/webhook: check the signature, parse all of it, store every message, acknowledge."""
        received_at = time.time()
        raw = await request.read()
        if not signature_ok(raw, request.headers.get(SIGNATURE_HEADER, ""), self._app_secret):
            metrics.ERRORS.labels("webhook_forbidden").inc()
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        try:
            parsed = parse(json.loads(raw))
        except (ValueError, RecursionError) as exc:  # NotWebhook, bad JSON, bad UTF-8, absurd nesting
            metrics.ERRORS.labels("webhook_bad_request").inc()
            reason = str(exc) if isinstance(exc, NotWebhook) else exc.__class__.__name__
            log.warning("malformed whatsapp webhook", error=reason[:200])
            return web.json_response({"ok": False, "error": "not a whatsapp webhook"}, status=400)
        duplicates = 0
        try:
            for incoming in parsed.messages:
                duplicates += not await self.receive(incoming, received_at=received_at)
            for status in parsed.statuses:
                await self.record_status(status)
        except Exception:
            # Not (all) stored: Meta delivers the webhook again; what was stored is de-duplicated then.
            metrics.ERRORS.labels("webhook_store").inc()
            log.exception("could not store whatsapp webhook; asking Meta to retry")
            return web.json_response({"ok": False, "error": "try again"}, status=503)
        return web.json_response({"ok": True, "duplicates": duplicates} if duplicates else {"ok": True})

    async def receive(self, incoming: Incoming, *, received_at: float | None = None) -> bool:
        """Store one voter message for the router; False for a redelivery of a wamid already taken."""
        message = incoming.message
        if received_at is not None:
            message.received_at = received_at
        if incoming.button and message.text.startswith("#"):  # a long button payload kept in Redis
            message.text = cast(str | None, await self.redis.get(keys.button_payload(message.text))) or ""
        conv = message.conversation_id
        # The window opens with the voter's message; recorded before the reply can be sent. Counted from its
        # arrival, not the phone's timestamp (clocks drift; webhooks come within seconds): should Meta see it
        # closed sooner, its 131047 closes it here too.
        await self.redis.set(keys.whatsapp_window(conv), str(time.time()), ex=WINDOW_S)
        return await self.intake.accept(message, once=f"wa:{incoming.wamid}")

    async def record_status(self, status: StatusEvent) -> None:
        """A delivery receipt: once per message and status, on the statuses stream and the campaign's funnel."""
        receipt = keys.whatsapp_receipt(status.wamid)
        if not await self.redis.hsetnx(receipt, status.status, str(status.at or time.time())):
            return  # Meta's redelivery
        await self.redis.expire(receipt, RECEIPT_TTL_S)
        errors = ",".join(map(str, status.errors))
        entry = {"wamid": status.wamid, "status": status.status, "errors": errors, "at": str(status.at or "")}
        await self.redis.xadd(keys.WHATSAPP_STATUSES, entry, maxlen=STATUSES_MAXLEN, approximate=True)  # type: ignore[arg-type]
        if 131047 in status.errors and status.recipient:
            await self.redis.delete(keys.whatsapp_window(conversation_id(Channel.WHATSAPP, status.recipient)))
        sent = cast(dict[str, str], await self.redis.hgetall(keys.whatsapp_sent(status.wamid)))
        if sent.get("campaign"):
            step = status.status if status.status != "failed" else f"failed:{status.errors[0] if status.errors else 0}"
            await self.redis.hincrby(keys.campaign_funnel(sent["campaign"]), f"{sent.get('language', '')}:{step}", 1)
            restricted = [code for code in status.errors if code in RESTRICTED]
            if restricted:  # Meta holds the number's messages back: the campaign's sender stops at its next send
                reason = f"WhatsApp error {restricted[0]} on a delivery status"
                await self.redis.hset(keys.campaign(sent["campaign"]), mapping={"paused": reason})

    # --- sending ---------------------------------------------------------------------------

    async def window_open(self, chat_id: str) -> bool:
        """Whether free-form messages may reach the voter now (they wrote within 24 h)."""
        return bool(await self.redis.exists(keys.whatsapp_window(conversation_id(Channel.WHATSAPP, chat_id))))

    async def send(self, message: OutboundMessage) -> None:
        """Send one reply, split and rendered for WhatsApp; waits out throttling rather than dropping it.

        Raises WindowClosed outside the 24-hour window (an agent must pick a template then),
        RecipientBlocked, FloodWait or DeliveryFailed (bot/errors.py).
        """
        conv = conversation_id(Channel.WHATSAPP, message.chat_id)
        if not await self.window_open(message.chat_id):
            metrics.ERRORS.labels("whatsapp_window_closed").inc()
            raise WindowClosed(conversation_id=conv)
        options = [Option(b.title, await self._button_id(b)) for b in message.buttons]
        language = (detect(message.text) or Language.HI).value
        bodies = render(
            message.chat_id,
            message.text,
            options,
            list_label=self.texts.get("whatsapp_list_button", language),
            more_label=self.texts.get("whatsapp_more_options", language),
        )
        for body in bodies:
            try:
                await self.client.send(body)
            except WindowClosed as exc:
                await self.redis.delete(keys.whatsapp_window(conv))
                exc.conversation_id = conv
                raise
            except RecipientBlocked as exc:
                await self.store.mark_unreachable(conv)
                metrics.ERRORS.labels("whatsapp_unreachable").inc()
                exc.conversation_id = conv
                raise

    async def _button_id(self, button: Button) -> str:
        """A reply button id holds 256 characters and a list row's 200; longer payloads wait in Redis."""
        if len(button.payload) <= 200 and not button.payload.startswith("#"):
            return button.payload
        token = "#" + hashlib.sha256(button.payload.encode()).hexdigest()[:32]
        await self.redis.set(keys.button_payload(token), button.payload, ex=PAYLOAD_TTL_S)
        return token

    async def send_template(self, chat_id: str, name: str, language: str, parameters: list[str]) -> None:
        """An approved template: the one kind of message allowed after the 24-hour window closed."""
        await self.client.send(template(chat_id, name, language, parameters))

    async def media(self, media_id: str) -> tuple[bytes, str]:
        """A voter's media through the Graph media endpoint (for the agent console)."""
        return await self.client.media(media_id)


def build_client(settings: Settings, session: Any) -> GraphClient:
    assert settings.whatsapp_access_token is not None and settings.whatsapp_phone_number_id is not None
    return GraphClient(
        session,
        api_url=settings.whatsapp_api_url,
        phone_number_id=settings.whatsapp_phone_number_id,
        token=settings.whatsapp_access_token.get_secret_value(),
        max_rate=settings.whatsapp_max_rate,
        backoff_s=settings.whatsapp_backoff_s,
    )

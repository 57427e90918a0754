"""WhatsApp Cloud API webhooks: the signature, and the payload turned into Samvad's types.

Pure functions, no I/O: `bot/channels/whatsapp.py` checks the signature, parses, then stores.
A payload is parsed whole before anything is stored, so a body that is not the webhook shape
gets a 400 with nothing half-stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

from bot.models import Attachment, Channel, InboundMessage, Kind

SIGNATURE_HEADER = "X-Hub-Signature-256"
OBJECT = "whatsapp_business_account"
# Typed commands, as on Telegram; everything else typed is the voter's text.
COMMANDS = ("start", "help", "language", "human", "stop", "subscribe", "delete")
MEDIA_TYPES = ("audio", "image", "video", "document", "sticker")
# A wa_id is the voter's number in digits; it becomes part of Redis keys and the conversation id.
WA_ID = re.compile(r"[0-9A-Za-z._-]{1,64}")
MAX_ID_CHARS = 512


class NotWebhook(ValueError):
    """A signed body that is not a WhatsApp Business Account webhook."""


@dataclass
class Incoming:
    """One voter message of a webhook: the normalized message and its WhatsApp message id (wamid)."""

    message: InboundMessage
    wamid: str
    sent_at: float | None  # the voter's phone's clock; the 24-hour window counts from arrival instead
    button: bool = False  # a reply button, list row or template quick reply: its id is our payload


@dataclass
class StatusEvent:
    """A delivery receipt of one of our messages: sent, delivered, read or failed (with error codes)."""

    wamid: str
    status: str
    recipient: str
    at: float | None
    errors: list[int] = field(default_factory=list)


@dataclass
class Parsed:
    messages: list[Incoming] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)


def signature_ok(raw: bytes, header: str, app_secret: bytes) -> bool:
    """`X-Hub-Signature-256: sha256=<hex>` is the HMAC-SHA256 of the raw body with the app secret."""
    scheme, _, given = header.partition("=")
    if scheme.strip().lower() != "sha256" or not app_secret:
        return False
    expected = hmac.new(app_secret, raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "surrogateescape"))


def sign(raw: bytes, app_secret: bytes) -> str:
    """The header value Meta sends with `raw` (used by the tests' Graph API stand-in too)."""
    return "sha256=" + hmac.new(app_secret, raw, hashlib.sha256).hexdigest()


def parse(data: Any) -> Parsed:
    """The messages and statuses of a webhook body (already JSON-decoded); NotWebhook if it is not one."""
    if not isinstance(data, dict) or data.get("object") != OBJECT:
        raise NotWebhook("object is not whatsapp_business_account")
    parsed = Parsed()
    for entry in _list(data, "entry", required=True):
        for change in _list(_dict(entry, "entry"), "changes", required=True):
            change = _dict(change, "change")
            kind = change.get("field", "messages")
            value = _dict(change.get("value"), "change value")
            if kind != "messages":
                continue  # account, template and quality updates: not for the gateway
            for raw in _list(value, "messages"):
                incoming = _message(_dict(raw, "message"))
                if incoming is not None:
                    parsed.messages.append(incoming)
            for raw in _list(value, "statuses"):
                parsed.statuses.append(_status(_dict(raw, "status")))
    return parsed


def _message(raw: dict[str, Any]) -> Incoming | None:
    wa_id, wamid, type_ = _id(raw, "from"), _id(raw, "id"), raw.get("type")
    if not WA_ID.fullmatch(wa_id):
        raise NotWebhook("message 'from' is not a WhatsApp id")
    if not isinstance(type_, str):
        raise NotWebhook("message without a type")
    base: dict[str, Any] = {"channel": Channel.WHATSAPP, "chat_id": wa_id, "external_id": wamid}
    sent_at = _timestamp(raw.get("timestamp"))
    text = _content(raw, type_)
    if text is None:
        if type_ in ("reaction", "system", "request_welcome", "ephemeral", "revoke"):
            return None  # not a question to answer
        attachment = _attachment(raw, type_)
        caption = attachment.details.pop("caption", "") if attachment else ""
        message = InboundMessage(**base, kind=Kind.UNSUPPORTED, text=caption, attachment=attachment)
        return Incoming(message, wamid, sent_at)
    command = _command(text) if type_ == "text" else None
    if command:
        return Incoming(InboundMessage(**base, kind=Kind.COMMAND, text=command), wamid, sent_at)
    return Incoming(InboundMessage(**base, text=text), wamid, sent_at, button=type_ != "text")


def _content(raw: dict[str, Any], type_: str) -> str | None:
    """The text a message carries for the router: typed text, or a button's or list row's id."""
    if type_ == "text":
        return _str(_dict(raw.get("text"), "text").get("body"))
    if type_ == "interactive":
        interactive = _dict(raw.get("interactive"), "interactive")
        reply_type = interactive.get("type")
        if reply_type in ("button_reply", "list_reply"):
            reply = _dict(interactive.get(reply_type), reply_type)
            return _str(reply.get("id")) or _str(reply.get("title"))
        return None  # flow answers (nfm_reply) and others: answered as unsupported
    if type_ == "button":  # a template's quick-reply button
        button = _dict(raw.get("button"), "button")
        return _str(button.get("payload")) or _str(button.get("text"))
    return None


def _attachment(raw: dict[str, Any], type_: str) -> Attachment | None:
    body = raw.get(type_)
    if not isinstance(body, dict):
        return Attachment(type=type_[:32])
    if type_ in MEDIA_TYPES:
        details = {k: _str(body.get(k))[:1024] for k in ("caption", "filename") if body.get(k)}
        if type_ == "audio" and body.get("voice") is True:
            details["voice"] = "1"
        media_id = _str(body.get("id"))[:MAX_ID_CHARS] or None
        return Attachment(
            type=type_, media_id=media_id, mime_type=_str(body.get("mime_type"))[:128] or None, details=details
        )
    if type_ == "location":
        fields = ("latitude", "longitude", "name", "address")
        return Attachment(type=type_, details={k: str(body[k])[:256] for k in fields if k in body})
    return Attachment(type=type_[:32])


def _status(raw: dict[str, Any]) -> StatusEvent:
    errors = []
    for error in _list(raw, "errors"):
        code = _dict(error, "status error").get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            errors.append(code)
    status = raw.get("status")
    if not isinstance(status, str) or not status or len(status) > 32:
        raise NotWebhook("status without a status")
    return StatusEvent(
        _id(raw, "id"), status, _str(raw.get("recipient_id"))[:64], _timestamp(raw.get("timestamp")), errors
    )


def _command(text: str) -> str | None:
    if not text.startswith("/") or len(text) < 2:
        return None
    name = text[1:].split(maxsplit=1)[0].lower() if text[1:].strip() else ""
    return name if name in COMMANDS else None


def _timestamp(value: Any) -> float | None:
    try:
        stamp = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return stamp if 0 < stamp < 1e11 else None


def _id(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        raise NotWebhook(f"missing or odd {name!r}")
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotWebhook(f"{what} is not an object")
    return value


def _list(parent: dict[str, Any], name: str, *, required: bool = False) -> list[Any]:
    value = parent.get(name)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise NotWebhook(f"{name!r} is not a list")
    return value

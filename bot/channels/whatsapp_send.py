"""WhatsApp Cloud API sending: replies rendered within WhatsApp's limits, and the Graph API client.

Rendering is pure (`render`): text split at paragraph, sentence or word breaks; up to 3 options
become reply buttons, more become a list. `GraphClient` posts to
`{api}/{phone_number_id}/messages` on the app's aiohttp session, paced by aiolimiter, backs off
on throttling (130429, 131056) without dropping anything, and translates the rest into
`bot/errors.py`.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from aiolimiter import AsyncLimiter

from bot import metrics
from bot.errors import DeliveryFailed, FloodWait, RecipientBlocked, SendingRestricted, WindowClosed

log = structlog.get_logger(__name__)

TEXT_LIMIT = 4096  # a text message's body
BODY_LIMIT = 1024  # an interactive message's body
REPLY_BUTTONS = 3
BUTTON_TITLE = 20
LIST_ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20  # the label of the button that opens the list
BUTTON_ID = 256  # a reply button's id; a list row's id may have 200
ROW_ID = 200

# Graph error codes (developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
THROTTLED = frozenset({4, 80007, 130429, 131056})  # API calls, account rate, throughput, pair rate
WINDOW_CLOSED = 131047  # re-engagement: more than 24 h since the voter's last message
RESTRICTED = frozenset({131048, 131049})  # spam rate limit; Meta chose not to deliver
UNREACHABLE = frozenset({131026, 131050})  # undeliverable (not on WhatsApp, old app); stopped marketing
TRANSIENT = frozenset({1, 2, 131000, 131016, 133004})  # unknown, service down, overloaded, server unavailable
BACKOFF_MAX_S = 60.0
ATTEMPTS = 8

_sleep = asyncio.sleep  # the back-off's wait (tests record it)
_SENTENCE_END = re.compile(r"(?<=[.!?।])\s+")


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a paragraph, line, sentence or word break if there is one."""
    pieces: list[str] = []
    text = text.strip()
    while len(text) > limit:
        window = text[: limit + 1]
        cut = -1
        for breaks in ("\n\n", "\n"):
            cut = window.rfind(breaks)
            if cut > limit // 2:
                break
        if cut <= limit // 2:
            ends = [m.start() for m in _SENTENCE_END.finditer(window)]
            cut = ends[-1] if ends and ends[-1] > limit // 2 else window.rfind(" ")
        if cut <= limit // 4:
            cut = limit  # one long word: cut it
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text or not pieces else pieces


def shorten(title: str, limit: int) -> str:
    """`title` in at most `limit` characters: whole words where possible, an ellipsis when cut."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title.rfind(" ", 0, limit)
    cut = cut if cut >= limit // 2 else limit - 1
    return title[:cut].rstrip(" ,;:-") + "…"


@dataclass
class Option:
    title: str
    id: str  # the button's payload, or a short token standing for it


def render(to: str, text: str, options: list[Option], *, list_label: str, more_label: str) -> list[dict[str, Any]]:
    """The Cloud API message bodies for one reply, in order: text pieces, then the options with the last piece."""
    pieces = split_text(text or "…")
    if not options:
        return [_text(to, piece) for piece in pieces]
    whole = pieces.pop()
    tail = split_text(whole, BODY_LIMIT)[-1]  # the interactive body holds 1,024: the rest goes before it as text
    head = whole[: whole.rfind(tail)].rstrip()
    pieces += split_text(head) if head else []
    bodies = [_text(to, piece) for piece in pieces]
    last = [tail]
    if len(options) <= REPLY_BUTTONS:
        buttons = [
            {"type": "reply", "reply": {"id": o.id[:BUTTON_ID], "title": shorten(o.title, BUTTON_TITLE)}}
            for o in options
        ]
        bodies.append(_interactive(to, {"type": "button", "body": {"text": last[-1]}, "action": {"buttons": buttons}}))
        return bodies
    for start in range(0, len(options), LIST_ROWS):
        rows = [_row(o) for o in options[start : start + LIST_ROWS]]
        body = last[-1] if start == 0 else more_label
        action = {"button": shorten(list_label, LIST_BUTTON), "sections": [{"rows": rows}]}
        bodies.append(_interactive(to, {"type": "list", "body": {"text": body}, "action": action}))
    return bodies


def _row(option: Option) -> dict[str, str]:
    row = {"id": option.id[:ROW_ID], "title": shorten(option.title, ROW_TITLE)}
    if row["title"] != " ".join(option.title.split()):  # cut: the whole title goes in the description
        row["description"] = shorten(option.title, ROW_DESCRIPTION)
    return row


def _text(to: str, body: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body, "preview_url": False},
    }


def _interactive(to: str, interactive: dict[str, Any]) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": interactive,
    }


def template(to: str, name: str, language: str, parameters: list[str]) -> dict[str, Any]:
    """An approved template message (the only kind a business may start a conversation with)."""
    body: dict[str, Any] = {"name": name, "language": {"code": language}}
    if parameters:
        body["components"] = [{"type": "body", "parameters": [{"type": "text", "text": p} for p in parameters]}]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "template",
        "template": body,
    }


class GraphError(Exception):
    def __init__(self, status: int, code: int | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}, error {code}: {message}")
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


class GraphClient:
    """The Cloud API calls the gateway makes, for one phone number."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        api_url: str,
        phone_number_id: str,
        token: str,
        max_rate: float,
        backoff_s: float = 1.0,
        attempts: int = ATTEMPTS,
        timeout_s: float = 15.0,
    ) -> None:
        self.session = session
        self.api_url = api_url.rstrip("/")
        self.messages_url = f"{self.api_url}/{phone_number_id}/messages"
        self._auth = {"Authorization": f"Bearer {token}"}
        self._limiter = AsyncLimiter(max_rate, 1.0)
        self._backoff_s = backoff_s
        self._attempts = attempts
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, body: dict[str, Any], *, retry_uncertain: bool = True) -> str:
        """POST one message; returns its wamid. Waits out throttling; raises the domain errors when it must stop.

        `retry_uncertain`: send again after a timeout, which may have been delivered (fine for a chat reply,
        not for a campaign, where a duplicate is worse than a miss).
        """
        backoff = self._backoff_s
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            delay = backoff
            try:
                return await self._post(body)
            except GraphError as exc:
                if exc.code in THROTTLED or exc.status == 429:
                    metrics.THROTTLED.labels("whatsapp").inc()
                    delay = max(delay, min(exc.retry_after or 0.0, BACKOFF_MAX_S))
                    if last:
                        raise FloodWait(delay) from exc
                    log.warning("whatsapp throttled: backing off", code=exc.code, wait_s=delay)
                elif exc.code == WINDOW_CLOSED:
                    raise WindowClosed() from exc
                elif exc.code in RESTRICTED:
                    raise SendingRestricted(exc.code, exc.message) from exc
                elif exc.code in UNREACHABLE:
                    raise RecipientBlocked(exc.message) from exc
                elif (exc.code in TRANSIENT or exc.status >= 500) and not last:
                    log.warning("whatsapp error: retrying", code=exc.code, status=exc.status)
                else:
                    raise DeliveryFailed(str(exc)) from exc
            except (TimeoutError, aiohttp.ClientError) as exc:
                if last or (isinstance(exc, TimeoutError) and not retry_uncertain):
                    raise DeliveryFailed(f"{exc.__class__.__name__}: {exc}") from exc
            await _sleep(delay)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
        raise AssertionError("unreachable")

    async def _post(self, body: dict[str, Any]) -> str:
        async with self._limiter:
            with metrics.waiting_for_others():
                async with self.session.post(
                    self.messages_url, json=body, headers=self._auth, timeout=self._timeout
                ) as response:
                    status, raw = response.status, await response.read()
                    retry_after = _seconds(response.headers.get("Retry-After"))
        data = _json(raw)
        if not 200 <= status < 300:
            error = _object(data.get("error"))
            code, details = error.get("code"), _object(error.get("error_data")).get("details")
            message = str(details or error.get("message", ""))
            raise GraphError(status, code if isinstance(code, int) else None, message, retry_after)
        try:
            return str(data["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            log.warning("whatsapp accepted a message without giving its id", status=status)
            return ""

    async def media(self, media_id: str) -> tuple[bytes, str]:
        """A voter's media (voice note, image, document): its bytes and MIME type, through the media endpoint."""
        with metrics.waiting_for_others():
            async with self.session.get(f"{self.api_url}/{media_id}", headers=self._auth, timeout=self._timeout) as r:
                info = _json(await r.read())
                if r.status != 200 or not isinstance(info.get("url"), str):
                    raise DeliveryFailed(f"media {media_id}: HTTP {r.status}")
            async with self.session.get(info["url"], headers=self._auth, timeout=self._timeout) as r:
                if r.status != 200:
                    raise DeliveryFailed(f"media {media_id} download: HTTP {r.status}")
                return await r.read(), str(info.get("mime_type") or r.content_type)


def _json(raw: bytes) -> dict[str, Any]:
    try:
        return _object(json.loads(raw))
    except ValueError:
        return {}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), and webhooks signed the way Meta signs them.

It answers `POST /{version}/{phone_number_id}/messages` (recorded in `sent`), the media endpoint
`GET /{version}/{media_id}` and the download URL it hands out, and can answer chosen Graph error
codes: the next sends (`fail_next`) or every send to one recipient (`fail_for`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.channels.whatsapp_webhook import sign

VERSION = "v26.0"
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAG-test-token"
APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "test-verify-token"

# What the Cloud API answers for the codes the gateway handles (HTTP status, title).
ERRORS = {
    130429: (400, "Rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    131047: (400, "Re-engagement message"),
    131048: (400, "Spam rate limit hit"),
    131049: (400, "This message was not delivered to maintain healthy ecosystem engagement."),
    131026: (400, "Message Undeliverable"),
    131000: (500, "Something went wrong"),
    100: (400, "Invalid parameter"),
}
_wamids = itertools.count(1)


def wamid() -> str:
    return f"wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgg{next(_wamids):012d}QUFBQkJC"


@dataclass
class Sent:
    body: dict[str, Any]
    at: float
    wamid: str

    @property
    def to(self) -> str:
        return str(self.body.get("to"))

    @property
    def text(self) -> str:
        """The text the voter reads: a text body, or an interactive message's body."""
        if self.body.get("type") == "text":
            return str(self.body["text"]["body"])
        if self.body.get("type") == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        return ""


@dataclass
class FakeGraph:
    token: str = TOKEN
    phone_number_id: str = PHONE_NUMBER_ID
    sent: list[Sent] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every POST, answered with an error or not
    fail_next: list[int] = field(default_factory=list)  # Graph error codes for the next sends, in order
    fail_for: dict[str, list[int]] = field(default_factory=dict)  # recipient -> codes for their next sends
    media_files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # media id -> (bytes, mime type)
    retry_after: str | None = None  # a Retry-After header on error answers
    base_url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"/{VERSION}/{{phone}}/messages", self._messages)
        app.router.add_get("/download/{media_id}", self._download)
        app.router.add_get(f"/{VERSION}/{{media_id}}", self._media_info)
        return app

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/{VERSION}"

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token")
        if request.match_info["phone"] != self.phone_number_id:
            return _error(400, 100, "Unsupported post request")
        body = await request.json()
        self.attempts.append(body)
        to = str(body.get("to"))
        if body.get("messaging_product") != "whatsapp" or body.get("type") not in ("text", "interactive", "template"):
            return _error(400, 100, "Invalid parameter")
        codes = self.fail_for.get(to) or self.fail_next
        if codes:
            code = codes.pop(0)
            status, title = ERRORS.get(code, (400, "error"))
            answer = _error(status, code, title)
            if self.retry_after is not None:
                answer.headers["Retry-After"] = self.retry_after
            return answer
        sent = Sent(body, time.time(), wamid())
        self.sent.append(sent)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": sent.wamid}],
            }
        )

    async def _media_info(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        if not self._authorized(request):
            return _error(401, 190, "Invalid OAuth access token")
        if media_id not in self.media_files:
            return _error(404, 100, "media not found")
        content, mime = self.media_files[media_id]
        url = f"{self.base_url}/download/{media_id}"
        return web.json_response({"url": url, "mime_type": mime, "file_size": len(content), "id": media_id})

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.Response(status=401)
        content, mime = self.media_files[request.match_info["media_id"]]
        return web.Response(body=content, content_type=mime)

    def to(self, wa_id: str) -> list[Sent]:
        return [s for s in self.sent if s.to == wa_id]

    def texts_to(self, wa_id: str) -> list[str]:
        return [s.text for s in self.to(wa_id)]

    async def wait_for(self, count: int, wa_id: str, timeout: float = 30.0) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while len(self.to(wa_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} messages to {wa_id}, got {self.texts_to(wa_id)}")
            await asyncio.sleep(0.02)
        return self.to(wa_id)


def _error(status: int, code: int, message: str) -> web.Response:
    error = {
        "message": f"({code}) {message}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam",
    }
    return web.json_response({"error": error}, status=status)


# --- webhooks, as Meta sends them -------------------------------------------------------------------


def signed(payload: Any, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return raw, {"X-Hub-Signature-256": sign(raw, secret.encode()), "Content-Type": "application/json"}


def webhook(*values: dict[str, Any], phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, Any]:
    """One webhook with one entry and one change per value (each made by `messages_value`/`statuses_value`)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]} for value in values],
    }


def _metadata(phone_number_id: str = PHONE_NUMBER_ID) -> dict[str, str]:
    return {"display_phone_number": "15550783881", "phone_number_id": phone_number_id}


def messages_value(wa_id: str, *messages: dict[str, Any], name: str = "Voter") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": _metadata(),
        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "timestamp": str(int(time.time())), **m} for m in messages],
    }


def statuses_value(*statuses: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "metadata": _metadata(), "statuses": list(statuses)}


def text(body: str, *, id: str | None = None) -> dict[str, Any]:
    return {"id": id or wamid(), "type": "text", "text": {"body": body}}


def button_reply(button_id: str, title: str, *, id: str | None = None) -> dict[str, Any]:
    reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    return {"id": id or wamid(), "type": "interactive", "interactive": reply}


def list_reply(row_id: str, title: str, *, id: str | None = None) -> dict[str, Any]:
    reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": title, "description": title}}
    return {"id": id or wamid(), "type": "interactive", "interactive": reply}


def quick_reply(payload: str, text: str, *, id: str | None = None) -> dict[str, Any]:
    """A template's quick-reply button press."""
    return {"id": id or wamid(), "type": "button", "button": {"payload": payload, "text": text}}


def voice(media_id: str, *, id: str | None = None) -> dict[str, Any]:
    audio = {"id": media_id, "mime_type": "audio/ogg; codecs=opus", "sha256": "x", "voice": True}
    return {"id": id or wamid(), "type": "audio", "audio": audio}


def image(media_id: str, caption: str = "", *, id: str | None = None) -> dict[str, Any]:
    body = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x", **({"caption": caption} if caption else {})}
    return {"id": id or wamid(), "type": "image", "image": body}


def location(lat: float, lon: float, *, id: str | None = None) -> dict[str, Any]:
    return {"id": id or wamid(), "type": "location", "location": {"latitude": lat, "longitude": lon}}


def status(message_id: str, state: str, recipient: str, *, error: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if error is not None:
        body["errors"] = [{"code": error, "title": ERRORS.get(error, (400, "error"))[1]}]
    return body

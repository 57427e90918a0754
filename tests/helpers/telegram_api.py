"""A local stand-in for Telegram's Bot API: speaks enough of it for PTB and records what it got.

PTB reaches it through `base_url`. It answers getMe, setWebhook, deleteWebhook,
getUpdates, sendMessage, answerCallbackQuery and a few others; it can be told to
answer 429 (flood), 403 (bot blocked by the user) or to enforce a send rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Samvad", "username": "samvad_test_bot"}


@dataclass
class SentMessage:
    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None
    at: float


@dataclass
class FakeTelegram:
    token: str = "4242:TEST-TOKEN"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    # method -> list of canned failures to answer before succeeding: ("retry_after", seconds), ("forbidden",),
    # ("bad_request", description) or ("server_error",)
    fail_next: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    # When set, sendMessage beyond this many per second answers 429, as Telegram does.
    max_per_second: float | None = None
    updates: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    webhook: dict[str, Any] = field(default_factory=dict)
    _message_id: int = 0
    _window: list[float] = field(default_factory=list)
    too_many: int = 0
    flood_at: list[float] = field(default_factory=list)  # time.time() of every 429 answered
    _new_message: asyncio.Condition | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app

    async def wait_for_messages(
        self, count: int, timeout: float = 30.0, chat_id: int | None = None
    ) -> list[SentMessage]:
        """Wait until at least `count` messages were sent (to `chat_id`, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            got = [m for m in self.sent if chat_id is None or m.chat_id == chat_id]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {count} messages, got {len(got)}: {[m.text[:60] for m in got]}")
            await asyncio.sleep(0.02)

    def texts_to(self, chat_id: int) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == chat_id]

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = value if isinstance(value, str) else str(value)
            try:
                params[key] = json.loads(text)
            except ValueError:
                params[key] = text
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append((method, params))
        canned = self.fail_next.get(method)
        if canned:
            failure = canned.pop(0)
            if failure[0] == "retry_after":
                self.too_many += 1
                self.flood_at.append(time.time())
                return _error(429, f"Too Many Requests: retry after {failure[1]}", retry_after=failure[1])
            if failure[0] == "forbidden":
                return _error(403, "Forbidden: bot was blocked by the user")
            if failure[0] == "bad_request":
                return _error(400, f"Bad Request: {failure[1]}")
            if failure[0] == "server_error":
                return _error(502, "Bad Gateway")
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            return _ok(True)
        return await handler(params)

    async def _m_getme(self, _: dict[str, Any]) -> web.Response:
        return _ok(BOT_USER)

    async def _m_setwebhook(self, params: dict[str, Any]) -> web.Response:
        self.webhook = params
        return _ok(True)

    async def _m_deletewebhook(self, _: dict[str, Any]) -> web.Response:
        self.webhook = {}
        return _ok(True)

    async def _m_getupdates(self, params: dict[str, Any]) -> web.Response:
        timeout = float(params.get("timeout") or 0)
        updates: list[dict[str, Any]] = []
        with contextlib.suppress(TimeoutError):
            updates.append(await asyncio.wait_for(self.updates.get(), timeout=max(timeout, 0.05)))
        while not self.updates.empty():
            updates.append(self.updates.get_nowait())
        return _ok(updates)

    async def _m_sendmessage(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            return _error(403, "Forbidden: bot was blocked by the user")
        now = time.monotonic()
        if self.max_per_second is not None:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.max_per_second:
                self.too_many += 1
                self.flood_at.append(time.time())
                return _error(429, "Too Many Requests: retry after 1", retry_after=1)
            self._window.append(now)
        self._message_id += 1
        markup = params.get("reply_markup")
        self.sent.append(SentMessage(chat_id, str(params.get("text", "")), markup, time.time()))
        return _ok(
            {
                "message_id": self._message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
        )


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, retry_after: float | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


def text_update(update_id: int, chat_id: int, text: str, *, message_id: int | None = None) -> dict[str, Any]:
    """A Telegram update with a private-chat text message."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id or update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Voter"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Voter"},
            "text": text,
        },
    }


def callback_update(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    """A Telegram update for an inline-keyboard button press."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "chat_instance": "1",
            "data": data,
            "from": {"id": chat_id, "is_bot": False, "first_name": "Voter"},
            "message": {
                "message_id": update_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "text": "…",
            },
        },
    }

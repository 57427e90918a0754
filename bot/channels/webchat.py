"""Web chat: a small page and a websocket, for the local demo and for campaign websites.

Protocol (JSON text frames):
- browser -> gateway, first: ``{"type": "hello", "secret": "<the secret kept in localStorage>" | null}``;
  the gateway answers ``{"type": "identity", "secret": "..."}`` when it issues a new one.
- then ``{"type": "message", "text": "...", "id": "<client message id>"}``
  or ``{"type": "button", "payload": "/intent", "title": "...", "id": "..."}``;
- gateway -> browser: ``{"type": "history", "turns": [{"who": "voter"|"bot"|"agent", "text": "..."}]}`` once on
  connect, ``{"type": "ack", "id": "..."}`` once a message is stored (the browser resends what was not
  acknowledged; a resend is recognised by its id), ``{"type": "message", "text": "...", "buttons": [...]}`` per
  reply, and ``{"type": "error", "error": "..."}`` for a frame it cannot read or store.

Identity: the gateway issues a random secret, which the browser keeps in localStorage (a reload continues
the same conversation). It is never stored or shown: the conversation id, seen by agents, in call-back
entries and logs, is a SHA-256 digest of it, which cannot be turned back into the secret. Browsers that
still hold an id of the older scheme (made by the browser, and shown to agents) get a new conversation,
unless ``SAMVAD_WEBCHAT_LEGACY_IDS`` keeps honouring them for a transition (docs/security.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from aiohttp import WSMsgType, web

from bot import metrics
from bot.errors import InboxFull
from bot.flood import FloodControl, Verdict, client_address, slow_down_text
from bot.models import Channel, InboundMessage, OutboundMessage, conversation_id

if TYPE_CHECKING:
    from bot.router import Intake
    from bot.store import VoterStore
    from bot.texts import Texts

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).with_name("webchat_static")
SECRET = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
LEGACY_VOTER_ID = re.compile(r"[A-Za-z0-9-]{8,64}")  # used with fullmatch: "$" let a trailing newline in
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_FRAME_BYTES = 64 * 1024
HISTORY_TURNS = 50
HELLO_TIMEOUT_S = 10.0


def voter_id(secret: str) -> str:
    """The web-chat voter's id, derived from their secret: shown anywhere, it does not give the secret away."""
    return hashlib.sha256(f"samvad-webchat:{secret}".encode()).hexdigest()[:32]


class Frame:
    """One voter frame: its text (or button payload) and the browser's id for it, if it gave one."""

    def __init__(self, text: str, client_id: str | None) -> None:
        self.text, self.client_id = text, client_id


def routes() -> list[web.AbstractRouteDef]:
    """The web chat's routes; the channel itself is made at start-up (`WEBCHAT` on the app)."""
    return [
        web.get("/chat", page),
        web.get("/webchat/ws", _websocket),
        web.static("/webchat/static", STATIC_DIR),
    ]


async def page(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html")


async def _websocket(request: web.Request) -> web.WebSocketResponse:
    channel = request.app.get(WEBCHAT)
    if channel is None:
        raise web.HTTPServiceUnavailable(text="starting up")
    return await channel.websocket(request)


class WebchatChannel:
    def __init__(
        self,
        *,
        intake: Intake,
        store: VoterStore,
        texts: Texts,
        public_url: str,
        extra_origins: list[str],
        flood: FloodControl | None = None,
        legacy_ids: bool = False,
        trust_forwarded_for: bool = False,
    ) -> None:
        self.intake = intake
        self.store = store
        self.texts = texts
        self.flood = flood
        self._origins = {_origin(public_url), *(_origin(o) for o in extra_origins)}
        self._sockets: dict[str, weakref.WeakSet[web.WebSocketResponse]] = {}
        self._legacy_ids = legacy_ids
        self._trust_forwarded_for = trust_forwarded_for

    def _origin_allowed(self, request: web.Request) -> bool:
        """Only the configured origins: the Host header is the attacker's to choose (DNS rebinding)."""
        return _origin(request.headers.get("Origin", "")) in self._origins

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """GET /webchat/ws: one browser tab of one voter, who says who they are in the first frame."""
        if not self._origin_allowed(request):
            raise web.HTTPForbidden(text="origin not allowed")
        legacy = request.query.get("voter")
        if legacy is not None and not (self._legacy_ids and LEGACY_VOTER_ID.fullmatch(legacy)):
            raise web.HTTPBadRequest(text="the voter id now comes from the gateway: reload the page")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        request.app[SOCKETS].add(ws)
        voter = legacy or await self._hello(ws)
        if voter is None:
            await ws.close(code=4000, message=b"send hello first")
            return ws
        conv = conversation_id(Channel.WEBCHAT, voter)
        self._sockets.setdefault(conv, weakref.WeakSet()).add(ws)
        address = client_address(request, trust_forwarded_for=self._trust_forwarded_for)
        try:
            turns = await self.store.transcript(conv, HISTORY_TURNS)
            await ws.send_json({"type": "history", "turns": [{"who": t["who"], "text": t["text"]} for t in turns]})
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._on_frame(ws, voter, address, frame.data)
                elif frame.type is WSMsgType.ERROR:
                    log.info("websocket closed with error", error=str(ws.exception()))
        finally:
            self._sockets.get(conv, weakref.WeakSet()).discard(ws)
        return ws

    async def _hello(self, ws: web.WebSocketResponse) -> str | None:
        """Read the hello frame: the voter's id from their secret, or a new secret issued to them."""
        try:
            frame = await ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            return None
        if frame.type is not WSMsgType.TEXT:
            return None
        try:
            hello: Any = json.loads(frame.data)
        except (ValueError, RecursionError):
            hello = None
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            await ws.send_json({"type": "error", "error": 'the first frame must be {"type": "hello", ...}'})
            return None
        secret = hello.get("secret")
        if not (isinstance(secret, str) and SECRET.fullmatch(secret)):
            secret = secrets.token_urlsafe(32)
            await ws.send_json({"type": "identity", "secret": secret})
        return voter_id(secret)

    async def _on_frame(self, ws: web.WebSocketResponse, voter: str, address: str, data: str) -> None:
        try:
            frame = _parse_frame(data)
        except ValueError as exc:
            metrics.ERRORS.labels("webchat_bad_frame").inc()
            await ws.send_json({"type": "error", "error": str(exc)})
            return
        conv = conversation_id(Channel.WEBCHAT, voter)
        try:
            verdict = await self.flood.check(conv, address) if self.flood else Verdict.ALLOW
            if verdict is Verdict.ALLOW:
                once = f"web:{frame.client_id}" if frame.client_id else None
                message = InboundMessage(channel=Channel.WEBCHAT, chat_id=voter, text=frame.text)
                await self.intake.accept(message, once=once)
        except InboxFull:
            verdict = Verdict.TELL
        except Exception as exc:
            # Not stored (Redis down, no free connection in time): no ack, so the browser sends it again.
            # A warning without the traceback: while Redis restarts this happens for every message in flight.
            metrics.ERRORS.labels("webchat_store").inc()
            log.warning("web-chat message not stored; the browser will resend it", conversation_id=conv,
                        error=f"{type(exc).__name__}: {exc}")  # fmt: skip
            await ws.send_json(
                {"type": "error", "error": "not stored yet; it will be sent again", "id": frame.client_id}
            )
            return
        if verdict is Verdict.TELL:
            await ws.send_json({"type": "message", "from": "bot", "text": slow_down_text(self.texts), "buttons": []})
        if frame.client_id:
            ack: dict[str, Any] = {"type": "ack", "id": frame.client_id}
            if verdict is not Verdict.ALLOW:
                ack["dropped"] = True  # read and refused (too fast): sending it again would not help
            await ws.send_json(ack)

    async def send(self, message: OutboundMessage) -> None:
        """Push to every open tab of the voter; the transcript keeps it for tabs opened later."""
        frame = {
            "type": "message",
            "from": message.author,
            "text": message.text,
            "buttons": [b.model_dump() for b in message.buttons],
        }
        for ws in list(self._sockets.get(conversation_id(Channel.WEBCHAT, message.chat_id), ())):
            if ws.closed:
                continue
            try:
                await ws.send_json(frame)
            except (ConnectionError, RuntimeError) as exc:
                # The tab closed mid-send: the reply is in the transcript, and the history shows it when the
                # voter comes back. Other tabs still get it.
                log.info("web chat tab closed mid-send", error=str(exc))


def _parse_frame(data: str) -> Frame:
    try:
        frame: Any = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nested too deep for the parser
        raise ValueError("frame is not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("frame must be a JSON object")
    client_id = frame.get("id")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id)):
        raise ValueError("id must be 1-64 letters, digits, dashes or underscores")
    if frame.get("type") == "message" and isinstance(frame.get("text"), str):
        return Frame(str(frame["text"]), client_id)
    if frame.get("type") == "button" and isinstance(frame.get("payload"), str):
        return Frame(str(frame["payload"]), client_id)
    raise ValueError('frame needs {"type": "message", "text": ...} or {"type": "button", "payload": ...}')


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
WEBCHAT: web.AppKey[WebchatChannel] = web.AppKey("webchat", WebchatChannel)

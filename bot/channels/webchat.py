"""Web chat: a small page and a websocket, for the local demo and for campaign websites.

Protocol (JSON text frames):
- browser -> gateway: ``{"type": "message", "text": "..."}``
  or ``{"type": "button", "payload": "/intent", "title": "..."}``
- gateway -> browser: ``{"type": "history", "turns": [{"who": "voter"|"bot"|"agent", "text": "..."}]}`` once on
  connect, then ``{"type": "message", "text": "...", "buttons": [{"title": ..., "payload": ...}]}`` per reply,
  and ``{"type": "error", "error": "..."}`` for a frame it cannot read.

The voter id is made by the browser and kept in localStorage, so a reload continues the
same conversation; replies sent while no tab was open are in the history.
"""

from __future__ import annotations

import json
import re
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from aiohttp import WSMsgType, web

from bot import metrics
from bot.models import Channel, InboundMessage, OutboundMessage, conversation_id

if TYPE_CHECKING:
    from bot.router import Intake
    from bot.store import VoterStore

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).with_name("webchat_static")
VOTER_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_FRAME_BYTES = 64 * 1024
HISTORY_TURNS = 50


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
    def __init__(self, *, intake: Intake, store: VoterStore, public_url: str, extra_origins: list[str]) -> None:
        self.intake = intake
        self.store = store
        self._origins = {_origin(public_url), *(_origin(o) for o in extra_origins)}
        self._sockets: dict[str, weakref.WeakSet[web.WebSocketResponse]] = {}

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if not origin:
            return False
        same_host = f"{request.scheme}://{request.host}"
        return _origin(origin) in self._origins or _origin(origin) == _origin(same_host)

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        """GET /webchat/ws?voter=<id>: one browser tab of one voter."""
        if not self._origin_allowed(request):
            raise web.HTTPForbidden(text="origin not allowed")
        voter = request.query.get("voter", "")
        if not VOTER_ID.match(voter):
            raise web.HTTPBadRequest(text="voter must be 8-64 letters, digits or dashes")
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=MAX_FRAME_BYTES)
        await ws.prepare(request)
        conv = conversation_id(Channel.WEBCHAT, voter)
        self._sockets.setdefault(conv, weakref.WeakSet()).add(ws)
        request.app[SOCKETS].add(ws)
        try:
            turns = await self.store.transcript(conv, HISTORY_TURNS)
            await ws.send_json({"type": "history", "turns": [{"who": t["who"], "text": t["text"]} for t in turns]})
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    await self._on_frame(ws, voter, frame.data)
                elif frame.type is WSMsgType.ERROR:
                    log.info("websocket closed with error", error=str(ws.exception()))
        finally:
            self._sockets.get(conv, weakref.WeakSet()).discard(ws)
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, voter: str, data: str) -> None:
        try:
            frame = _parse_frame(data)
        except ValueError as exc:
            metrics.ERRORS.labels("webchat_bad_frame").inc()
            await ws.send_json({"type": "error", "error": str(exc)})
            return
        await self.intake.accept(InboundMessage(channel=Channel.WEBCHAT, chat_id=voter, text=frame))

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


def _parse_frame(data: str) -> str:
    try:
        frame: Any = json.loads(data)
    except ValueError:
        raise ValueError("frame is not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("frame must be a JSON object")
    if frame.get("type") == "message" and isinstance(frame.get("text"), str):
        return str(frame["text"])
    if frame.get("type") == "button" and isinstance(frame.get("payload"), str):
        return str(frame["payload"])
    raise ValueError('frame needs {"type": "message", "text": ...} or {"type": "button", "payload": ...}')


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
WEBCHAT: web.AppKey[WebchatChannel] = web.AppKey("webchat", WebchatChannel)

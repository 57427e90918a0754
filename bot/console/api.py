"""The agent console's JSON API and live websocket, mounted on the gateway at /console.

Every API answers 401 without a session and 403 for the wrong role. The session cookie is
HttpOnly and SameSite=Strict; state-changing requests must be JSON from a configured origin, and the
websocket checks its Origin header against the same list (bot/console/auth.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
import yaml
from aiohttp import WSMsgType, web

from bot.console.accounts import Accounts, Agent, Role
from bot.console.auth import COOKIE, Auth, LoginThrottled, client_address, origin_of
from bot.console.autoassign import AssignViews, AutoAssigner
from bot.console.callbacks import CallbackViews
from bot.console.closing import Closings
from bot.console.dead_letters import DeadLetterViews
from bot.console.export import ExportViews
from bot.console.follow_up import FollowUpViews
from bot.console.http import error as _error
from bot.console.http import http_error as _http
from bot.console.http import json_body as _json
from bot.console.labels import Labels, LabelViews, load_labels
from bot.console.media import MediaViews
from bot.console.notes import Notes, NoteViews
from bot.console.reports import ReportViews
from bot.console.search_views import SearchViews
from bot.console.services import ConsoleServices
from bot.console.sla import SlaViews, Thresholds
from bot.console.ws import EventHub
from bot.errors import InvalidTransition, WindowClosed
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.queue import Disposition
from bot.keys import CONSOLE_EVENTS, agent_chats, agent_presence

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = structlog.get_logger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
PRESENCE_TTL_S = 30
HEARTBEAT_S = 10
MAX_AGENT_TEXT = 4000


class Console:
    services: ConsoleServices
    redis: Redis

    def __init__(
        self,
        *,
        public_url: str,
        canned_file: Path,
        labels_file: Path,
        secure_cookie: bool,
        extra_origins: list[str] | None = None,
        trust_forwarded_for: bool = False,
        sla: Thresholds | None = None,
        assignment_mode: str = "pull",
        offer_s: float = 45.0,
    ) -> None:
        self.assignment_mode, self._offer_s = assignment_mode, offer_s
        self.origins = frozenset({origin_of(public_url), *(origin_of(o) for o in extra_origins or [])})
        self._canned_file = canned_file
        self._labels = load_labels(labels_file)  # a bad file stops start-up, naming the label
        self.follow_up = FollowUpViews(self)
        self.callbacks = CallbackViews(self)
        self.sla = SlaViews(self, sla or Thresholds(120, 300, 90, 240))
        self._secure = secure_cookie
        self._trust_forwarded_for = trust_forwarded_for

    def bind(self, services: ConsoleServices) -> None:
        """Attach what the console works with, once it exists (routes are registered before start-up)."""
        self.services = services
        self.redis = services.redis
        self.accounts = Accounts(services.redis)
        self.conversations = services.conversations
        self.queue = services.conversations.queue
        self.auth = Auth(services.redis, self.accounts)
        self.events = EventHub(services.redis, CONSOLE_EVENTS)
        self.notes = Notes(services.redis, services.store.transcript_ttl_s)
        self.labels = Labels(services.redis, self._labels)
        self.closings = Closings(services.redis, services.store, services.survey)
        if services.search is not None:  # a finished chat goes to the search index
            self.closings.after.append(services.search.after_close)
        self.assigner = AutoAssigner(services.redis, services.conversations, self.accounts, self._offer_s)

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console", self.page),
            web.static("/console/static", STATIC_DIR),
            web.post("/console/api/login", self.login),
            web.post("/console/api/logout", self.logout),
            web.get("/console/api/me", self.me),
            web.post("/console/api/presence", self.presence),
            web.get("/console/api/queues", self.queues),
            web.post("/console/api/take", self.take),
            web.get("/console/api/chats/{conv}", self.chat),
            web.post("/console/api/chats/{conv}/messages", self.send),
            web.post("/console/api/chats/{conv}/close", self.close),
            web.post("/console/api/chats/{conv}/transfer", self.transfer),
            web.get("/console/api/canned", self.canned),
            web.get("/console/api/supervisor", self.supervisor),
            *self.callbacks.routes(),
            *DeadLetterViews(self).routes(),
            *NoteViews(self).routes(),
            *LabelViews(self).routes(),
            *self.sla.routes(),
            *AssignViews(self).routes(),
            *ReportViews(self).routes(),
            *ExportViews(self).routes(),
            *SearchViews(self).routes(),
            *MediaViews(self).routes(),
            *self.follow_up.routes(),
            web.get("/console/ws", self.websocket),
        ]

    async def page(self, _: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html")

    # --- sessions --------------------------------------------------------------------------

    async def login(self, request: web.Request) -> web.Response:
        body = await _json(request)
        name, password = str(body.get("name", "")), str(body.get("password", ""))
        address = client_address(request, trust_forwarded_for=self._trust_forwarded_for)
        try:
            agent = await self.auth.login(name[:200], password[:1000], address)
        except LoginThrottled:
            return _error(429, "too many failed logins; wait a few minutes")
        if agent is None:
            return _error(401, "wrong name or password")
        token = await self.auth.open_session(agent)
        resp = web.json_response(_agent_json(agent))
        resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict", secure=self._secure, path="/console")
        return resp

    async def logout(self, request: web.Request) -> web.Response:
        await self.auth.close_session(request.cookies.get(COOKIE, ""))
        resp = web.json_response({"ok": True})
        resp.del_cookie(COOKIE, path="/console")
        return resp

    async def _agent(self, request: web.Request, role: Role | None = None) -> Agent:
        agent = await self.auth.session_agent(request.cookies.get(COOKIE, ""))
        if agent is None:
            raise _http(web.HTTPUnauthorized, "log in first")
        if role is Role.SUPERVISOR and agent.role is not Role.SUPERVISOR:
            raise _http(web.HTTPForbidden, "supervisors only")
        return agent

    async def _held(self, request: web.Request, agent: Agent) -> Any:
        conversation_id = request.match_info["conv"]
        assignment = await self.conversations.assignment(conversation_id)
        if assignment is None or (assignment.agent != agent.name and agent.role is not Role.SUPERVISOR):
            raise _http(web.HTTPForbidden, "not your conversation")
        return assignment

    # --- agent view --------------------------------------------------------------------------

    async def me(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        chats = await self.conversations.holds(agent.name)
        presence = await self.redis.get(agent_presence(agent.name)) or "offline"
        return web.json_response(
            {**_agent_json(agent), "presence": presence, "chats": chats, "assignment": self.assignment_mode}
        )

    async def presence(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        value = (await _json(request)).get("presence")
        if value not in ("available", "away"):
            return _error(400, 'presence must be "available" or "away"')
        await self.redis.set(agent_presence(agent.name), value, ex=PRESENCE_TTL_S)
        return web.json_response({"presence": value})

    async def queues(self, request: web.Request) -> web.Response:
        await self._agent(request)
        return web.json_response({"queues": await self._queue_figures()})

    async def _queue_figures(self) -> dict[str, dict[str, float]]:
        return {
            language: {
                "depth": await self.queue.depth(language),
                "oldest_wait_s": round(await self.queue.oldest_wait_s(language), 1),
            }
            for language in self.queue.languages
        }

    async def take(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        held = len(await self.conversations.holds(agent.name))
        if held >= agent.capacity:
            return _error(409, f"you already have {held} chats (capacity {agent.capacity})")
        assignment = await self.conversations.take_next(agent.name, agent.languages)
        if assignment is None:
            return web.json_response({"chat": None})
        return web.json_response({"chat": await self._chat_json(assignment.conversation_id)})

    async def chat(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        assignment = await self._held(request, agent)
        return web.json_response(await self._chat_json(assignment.conversation_id))

    async def _chat_json(self, conversation_id: str) -> dict[str, Any]:
        profile = await self.services.store.get(conversation_id)
        assignment = await self.conversations.assignment(conversation_id)
        turns = await self.services.store.transcript(conversation_id, 200)
        intents: list[tuple[str, str]] = []
        with contextlib.suppress(Exception):  # the transcript is still useful without intents
            intents = await self.services.rasa.user_intents(conversation_id)
        _annotate_intents(turns, intents)
        return {
            "conversation_id": conversation_id,
            "channel": profile.channel.value if profile else None,
            "language": (profile.language.value if profile and profile.language else "hi"),
            "reason": assignment.reason if assignment else None,
            "topic": assignment.topic if assignment else None,
            "agent": assignment.agent if assignment else None,
            "labels": await self.labels.of(conversation_id),
            "notes": await self.notes.list(conversation_id),  # private: shown to staff, never sent to the voter
            "transcript": [
                {k: t.get(k) for k in ("who", "text", "at", "intent", "agent", "media", "undelivered") if k in t}
                for t in turns
            ],
        }

    async def send(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        assignment = await self._held(request, agent)
        text = str((await _json(request)).get("text", "")).strip()
        if not text or len(text) > MAX_AGENT_TEXT:
            return _error(400, f"text must be 1-{MAX_AGENT_TEXT} characters")
        try:
            await self.services.voice.agent_says(assignment.conversation_id, agent.name, text)
        except WindowClosed:  # WhatsApp: the voter last wrote more than 24 h ago
            profile = await self.services.store.get(assignment.conversation_id)
            available = profile is not None and self.follow_up.available(profile.channel.value)
            return web.json_response(
                {
                    "ok": False,
                    "error": "window_closed: the voter's 24-hour WhatsApp window is closed; "
                    "only a template can reach them",
                    "template_available": available,
                },
                status=409,
            )
        return web.json_response({"ok": True})

    async def close(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        assignment = await self._held(request, agent)
        try:
            disposition = Disposition((await _json(request)).get("disposition", ""))
            if disposition is Disposition.TRANSFERRED:
                raise ValueError(disposition)  # a transfer is recorded by the transfer itself
        except ValueError:
            return _error(400, "disposition must be one of " + ", ".join(d.value for d in Disposition))
        labels = await self.labels.of(assignment.conversation_id)
        try:
            handle_s = await self.conversations.close(assignment, disposition)
        except InvalidTransition:
            return _error(409, "this chat is no longer yours")
        close_id = await self.closings.record(assignment, disposition, handle_s, labels)
        try:
            await self.services.voice.back_to_bot(
                assignment.conversation_id, ask_callback=disposition is Disposition.CALLBACK_NEEDED
            )
        except WindowClosed:  # WhatsApp, voter silent for 24 h: the assistant is back; the voter hears it next time
            log.info("closed without telling the voter: the WhatsApp window is closed")
        asked = await self.closings.ask(assignment, disposition, close_id)
        return web.json_response({"ok": True, "handle_s": round(handle_s, 1), "labels": labels, "csat_asked": asked})

    async def transfer(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        assignment = await self._held(request, agent)
        body = await _json(request)
        if body.get("agent"):
            target = await self.accounts.get(str(body["agent"]))
            if target is None or target.disabled:
                return _error(400, "no such active agent")
            try:
                await self.conversations.transfer_to_agent(assignment, target.name)
            except InvalidTransition:
                return _error(409, "this chat is no longer yours")
            await self.assigner.announce(assignment.conversation_id, target.name)  # their console alerts them
        elif body.get("language") in self.queue.languages:
            signal = HandoffSignal(reason=HandoffReason.ASK_HUMAN, topic=assignment.topic, language=body["language"])
            try:
                await self.conversations.transfer_to_language(assignment, body["language"], signal)
            except InvalidTransition:
                return _error(409, "this chat is no longer yours")
        else:
            return _error(400, 'give "agent" or "language" (' + ", ".join(self.queue.languages) + ")")
        return web.json_response({"ok": True})

    async def canned(self, request: web.Request) -> web.Response:
        await self._agent(request)
        raw = yaml.safe_load(self._canned_file.read_text(encoding="utf-8")) or {}
        return web.json_response({"canned": raw.get("canned") or []})

    # --- supervisor view ------------------------------------------------------------------------

    async def supervisor(self, request: web.Request) -> web.Response:
        await self._agent(request, Role.SUPERVISOR)
        redis = self.redis
        agents = []
        for agent in await self.accounts.all():
            agents.append(
                {
                    **_agent_json(agent),
                    "presence": await redis.get(agent_presence(agent.name)) or "offline",
                    "load": len(await self.conversations.holds(agent.name)),
                    "disabled": agent.disabled,
                }
            )
        handled = await self.queue.handled_today()
        return web.json_response(
            {
                "queues": await self._queue_figures(),
                "agents": agents,
                "today": {
                    "handled": len(handled),
                    "median_handle_s": round(statistics.median(handled), 1) if handled else None,
                    "dispositions": await self.queue.dispositions_today(),
                },
                "dead_letters": await self.queue.dead_letters(),
                "callbacks_open": len(await self.callbacks.open()),
            }
        )

    # --- live updates -----------------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        if origin_of(request.headers.get("Origin", "")) not in self.origins:  # never the Host header
            raise web.HTTPForbidden(text="origin not allowed")
        agent = await self._agent(request)
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024)
        await ws.prepare(request)
        redis = self.redis
        await redis.set(agent_presence(agent.name), "available", ex=PRESENCE_TTL_S, nx=True)
        async with self.events.subscribe() as events:  # one pub/sub connection for all sockets (console/ws.py)
            forward = asyncio.create_task(self._forward(ws, agent, events))
            beat = asyncio.create_task(self._heartbeat(agent))
            try:
                async for frame in ws:
                    if frame.type is WSMsgType.ERROR:
                        break
            finally:
                for task in (forward, beat):
                    task.cancel()
                await asyncio.gather(forward, beat, return_exceptions=True)
        return ws

    async def _forward(self, ws: web.WebSocketResponse, agent: Agent, events: asyncio.Queue[dict[str, Any]]) -> None:
        await ws.send_json({"type": "queues", "queues": await self._queue_figures()})
        while True:
            event = await events.get()
            if event["type"] == "voter_message":
                if await self.redis.sismember(agent_chats(agent.name), event["conversation_id"]):
                    await ws.send_json(event)
            elif event["type"] == "assigned" and event.get("agent") == agent.name:
                await ws.send_json(event)  # auto-assignment pushed a chat to this agent
            elif event["type"] == "queues":
                await ws.send_json({"type": "queues", "queues": await self._queue_figures()})

    async def _heartbeat(self, agent: Agent) -> None:
        redis = self.redis
        while True:
            presence = await redis.get(agent_presence(agent.name)) or "available"
            await redis.set(agent_presence(agent.name), presence, ex=PRESENCE_TTL_S)
            await self.conversations.heartbeat(agent.name)
            await asyncio.sleep(HEARTBEAT_S)


def _annotate_intents(turns: list[dict[str, Any]], intents: list[tuple[str, str]]) -> None:
    """Give each voter turn the intent Rasa detected for it, matching texts in order."""
    pending = list(intents)
    for turn in turns:
        if turn.get("who") != "voter":
            continue
        for index, (text, intent) in enumerate(pending):
            if text.strip() == str(turn.get("text", "")).strip():
                turn["intent"] = intent
                del pending[: index + 1]
                break


def _agent_json(agent: Agent) -> dict[str, Any]:
    return {"name": agent.name, "role": agent.role.value, "languages": agent.languages, "capacity": agent.capacity}

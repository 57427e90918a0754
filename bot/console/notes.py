"""Private notes on a conversation: from one agent to the next (or a supervisor), never to the voter.

Notes live in their own list (``keys.notes``), not in the transcript: the web chat replays the transcript
to the voter's tab, and the call-back request copies its last turns, so a note in it would leak. The console
merges notes into the transcript it shows, by time, in another style. "Delete my data" removes them with
the voter's other keys (``keys.personal``); they expire with the transcript.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from redis.asyncio import Redis

from bot import keys
from bot.console.http import error, json_body

if TYPE_CHECKING:
    from bot.console.api import Console

MAX_NOTE_CHARS = 2000
MAX_NOTES = 200  # per conversation; the oldest go first

# Append a note, keep the last ARGV[2], expire with the transcript (ARGV[3] s). K: notes.
_ADD = """
redis.call('rpush', KEYS[1], ARGV[1])
redis.call('ltrim', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('expire', KEYS[1], ARGV[3])
return redis.call('llen', KEYS[1])
"""


class Notes:
    def __init__(self, redis: Redis, ttl_s: int = 30 * 24 * 3600) -> None:
        self.redis = redis
        self._ttl_s = ttl_s
        self._add = redis.register_script(_ADD)

    async def add(self, conversation_id: str, agent: str, text: str) -> dict[str, Any]:
        note = {"who": "note", "text": text, "agent": agent, "at": time.time()}
        await self._add(
            keys=[keys.notes(conversation_id)], args=[json.dumps(note, ensure_ascii=False), MAX_NOTES, self._ttl_s]
        )
        return note

    async def list(self, conversation_id: str) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self.redis.lrange(keys.notes(conversation_id), 0, -1)]


class NoteViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/chats/{conv}/notes", self.list),
            web.post("/console/api/chats/{conv}/notes", self.add),
        ]

    async def list(self, request: web.Request) -> web.Response:
        """GET: the notes of a chat the agent holds (a supervisor: any held chat)."""
        console = self._console
        assignment = await console._held(request, await console._agent(request))
        return web.json_response({"notes": await console.notes.list(assignment.conversation_id)})

    async def add(self, request: web.Request) -> web.Response:
        """POST {"text"}: a private note, stored with its author and time; nothing goes to the voter."""
        console = self._console
        agent = await console._agent(request)
        assignment = await console._held(request, agent)
        text = (await json_body(request)).get("text")
        if not isinstance(text, str) or not text.strip():
            return error(400, "text must be a non-empty string")
        if len(text) > MAX_NOTE_CHARS:
            return error(413, f"a note is at most {MAX_NOTE_CHARS} characters")
        note = await console.notes.add(assignment.conversation_id, agent.name, text.strip())
        return web.json_response({"note": note})

"""Call-back requests: voters who left a number to be phoned back, for the staff who call them."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console.http import error, json_body
from bot.keys import CALLBACKS, callback_status
from bot.redis_client import stream_entries

if TYPE_CHECKING:
    from bot.console.api import Console

STREAM_ID = re.compile(r"[0-9]{1,20}-[0-9]{1,20}")


class CallbackViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/callbacks", self.listed),
            web.post("/console/api/callbacks/{entry}", self.done),
        ]

    async def listed(self, request: web.Request) -> web.Response:
        """Open call-back requests, oldest first, for staff who phone voters back."""
        await self._console._agent(request)
        return web.json_response({"callbacks": await self.open()})

    async def open(self) -> list[dict[str, Any]]:
        redis = self._console.redis
        found = []
        for entry_id, fields in stream_entries(await redis.xrange(CALLBACKS, count=500)):
            if await redis.exists(callback_status(entry_id)):
                continue
            try:
                transcript = json.loads(fields.get("transcript") or "[]")
            except ValueError:
                transcript = []
            found.append(
                {"id": entry_id, **{k: v for k, v in fields.items() if k != "transcript"}, "transcript": transcript}
            )
        return found

    async def done(self, request: web.Request) -> web.Response:
        agent = await self._console._agent(request)
        entry_id = request.match_info["entry"]
        if not STREAM_ID.fullmatch(entry_id):  # Redis would refuse it with an error
            return error(404, "no such call-back request")
        body = await json_body(request)
        if body.get("status") not in ("done", "failed"):
            return error(400, 'status must be "done" or "failed"')
        redis = self._console.redis
        if not await redis.xrange(CALLBACKS, min=entry_id, max=entry_id):
            return error(404, "no such call-back request")
        note = str(body.get("note", ""))[:500]
        created = await redis.hsetnx(callback_status(entry_id), "status", body["status"])
        if not created:
            return error(409, "someone already marked this call-back")
        await redis.hset(callback_status(entry_id), mapping={"by": agent.name, "at": str(time.time()), "note": note})
        # The number was kept only for the call: drop it from the request now.
        fields = stream_entries(await redis.xrange(CALLBACKS, min=entry_id, max=entry_id))[0][1]
        await redis.hset(callback_status(entry_id), mapping={"language": fields.get("language", "")})
        await redis.expire(callback_status(entry_id), 90 * 24 * 3600)
        await redis.xdel(CALLBACKS, entry_id)
        return web.json_response({"ok": True})

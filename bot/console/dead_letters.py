"""Supervisors' view of the dead letters: messages that failed to process and replies that could not be sent.

The text is masked; a supervisor can replay an entry (the message goes back to its conversation's inbox, or
the reply to its channel) or discard it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.console.accounts import Role
from bot.deadletters import DeadKind

if TYPE_CHECKING:
    from bot.console.api import Console


class DeadLetterViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/dead-letters", self.list),
            web.post("/console/api/dead-letters/{kind}/{entry}/{action}", self.act),
        ]

    async def list(self, request: web.Request) -> web.Response:
        """GET: both kinds, newest first, masked."""
        await self._console._agent(request, Role.SUPERVISOR)
        dead = self._console.services.dead
        entries = {kind.value: await dead.list(kind) for kind in DeadKind}
        for listed in entries.values():
            for entry in listed:
                entry.pop("conversation_id", None)  # supervisors see the masked form only
        return web.json_response(entries)

    async def act(self, request: web.Request) -> web.Response:
        """POST .../{inbound|outbound}/{entry id}/{replay|discard}."""
        await self._console._agent(request, Role.SUPERVISOR)
        try:
            kind = DeadKind(request.match_info["kind"])
        except ValueError:
            raise web.HTTPBadRequest(text="kind must be inbound or outbound") from None
        action, entry_id = request.match_info["action"], request.match_info["entry"]
        if action not in ("replay", "discard") or not _entry_id(entry_id):
            raise web.HTTPBadRequest(text="use /replay or /discard on an entry id like 1700000000000-0")
        services = self._console.services
        if await services.dead.get(kind, entry_id) is None:
            raise web.HTTPNotFound(text="no such entry (replayed, discarded or expired)")
        if action == "replay" and not await services.voice.replay_dead(kind, entry_id):
            return web.json_response({"ok": False, "error": "could not replay; the entry is kept"}, status=409)
        await services.dead.discard(kind, entry_id)
        return web.json_response({"ok": True})


def _entry_id(value: str) -> bool:
    ms, _, seq = value.partition("-")
    return ms.isdigit() and seq.isdigit() and len(value) < 40

"""The console's search routes: find conversations, open one at the matching turn, export it (supervisors).

Every route needs a session; results and transcripts come from the index's masked copy (bot/console/search.py).
Filters: ``q`` (words), ``label``, ``agent``, ``disposition``, ``language``, ``state`` (open|closed) and ``from`` /
``to`` (India-time dates). A bad filter is a 400 that names it; without a configured index, 503.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.console.accounts import Role
from bot.console.export import export_response
from bot.console.http import error, http_error
from bot.console.search import SearchIndex
from bot.handoff.queue import IST, Disposition

if TYPE_CHECKING:
    from bot.console.api import Console

MAX_QUERY_CHARS = 200


class SearchViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/search", self.search),
            web.get("/console/api/search/{ref}", self.transcript),
            web.get("/console/api/transcripts/{ref}/export", self.export),
        ]

    def _index(self) -> SearchIndex:
        index = self._console.services.search
        if index is None:
            raise http_error(web.HTTPServiceUnavailable, "search is not configured (SAMVAD_SEARCH_DATABASE_URL)")
        return index

    async def search(self, request: web.Request) -> web.Response:
        """GET: conversations matching the filters, masked, with the best-matching turn of each."""
        console = self._console
        await console._agent(request)
        index = self._index()
        query = request.query
        text = query.get("q", "").strip()
        if len(text) > MAX_QUERY_CHARS:
            return error(400, f"q is at most {MAX_QUERY_CHARS} characters")
        label, disposition = query.get("label", ""), query.get("disposition", "")
        language, state = query.get("language", ""), query.get("state", "")
        if label and label not in console.labels.defined:
            return error(400, "unknown label; use one of " + ", ".join(console.labels.defined))
        if disposition and disposition not in {d.value for d in Disposition}:
            return error(400, "disposition must be one of " + ", ".join(d.value for d in Disposition))
        if language and language not in console.queue.languages:
            return error(400, "language must be one of " + ", ".join(console.queue.languages))
        if state not in ("", "open", "closed"):
            return error(400, 'state must be "open" or "closed"')
        try:
            since = _day(query.get("from", ""))
            until = _day(query.get("to", ""))
        except ValueError:
            return error(400, "from and to must be dates like 2026-12-01")
        results = await index.search(
            text=text,
            label=label,
            agent=query.get("agent", "")[:100],
            disposition=disposition,
            language=language,
            state=state,
            since=since,
            until=until + timedelta(days=1) if until else None,
        )
        return web.json_response({"results": results})

    async def transcript(self, request: web.Request) -> web.Response:
        """GET: one found conversation's masked transcript (as indexed), for opening at the matching turn."""
        await self._console._agent(request)
        found = await self._index().transcript(request.match_info["ref"][:64])
        if found is None:
            return error(404, "no such conversation in the index (erased or expired)")
        _, turns = found
        return web.json_response({"ref": request.match_info["ref"], "turns": turns})

    async def export(self, request: web.Request) -> web.Response:
        """GET (supervisors): export a found conversation, masked, as text or ?format=json."""
        console = self._console
        await console._agent(request, Role.SUPERVISOR)
        found = await self._index().transcript(request.match_info["ref"][:64])
        if found is None:
            return error(404, "no such conversation in the index (erased or expired)")
        conversation_id, indexed = found
        turns = await console.services.store.transcript(conversation_id, 10_000) or indexed
        return export_response(conversation_id, turns, request.query.get("format") == "json")


def _day(value: str) -> datetime | None:
    return datetime.combine(date.fromisoformat(value), time.min, IST) if value else None

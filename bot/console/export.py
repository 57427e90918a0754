"""A supervisor's export of one conversation's transcript, masked, for a complaint that goes to the election office.

Every text goes through ``bot.identifiers.mask`` (phone, EPIC, PIN and Aadhaar-like numbers), the
conversation id too (a WhatsApp id is a phone number). Private notes stay inside the console: they are
not part of what the voter and the agents said. Plain UTF-8 text, or JSON with ``?format=json``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.console.accounts import Role
from bot.handoff.queue import IST
from bot.identifiers import mask

if TYPE_CHECKING:
    from bot.console.api import Console

WHO = {"voter": "Voter / मतदाता", "agent": "Agent / सहायक", "bot": "Assistant / स्वचालित सहायक"}


def masked_turns(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "who": t.get("who", ""),
            "agent": t.get("agent"),
            "at": datetime.fromtimestamp(float(t.get("at") or 0), IST).isoformat(timespec="seconds"),
            "text": mask(str(t.get("text", ""))),
        }
        for t in turns
        if t.get("who") != "note"
    ]


def as_text(conversation: str, turns: list[dict[str, Any]]) -> str:
    lines = [f"Samvad transcript / बातचीत का रिकॉर्ड: {conversation}", f"Turns / संदेश: {len(turns)}", ""]
    for turn in turns:
        who = WHO.get(turn["who"], turn["who"]) + (f" ({turn['agent']})" if turn.get("agent") else "")
        lines.append(f"[{turn['at']}] {who}: {turn['text']}")
    return "\n".join(lines) + "\n"


def export_response(conversation_id: str, turns: list[dict[str, Any]], as_json: bool) -> web.Response:
    conversation, listed = mask(conversation_id), masked_turns(turns)
    headers = {"Cache-Control": "no-store"}
    if as_json:
        return web.json_response({"conversation": conversation, "turns": listed}, headers=headers, dumps=_dumps)
    headers["Content-Disposition"] = 'attachment; filename="samvad-transcript.txt"'
    return web.Response(text=as_text(conversation, listed), content_type="text/plain", charset="utf-8", headers=headers)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


class ExportViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/console/api/chats/{conv}/export", self.export)]

    async def export(self, request: web.Request) -> web.Response:
        """GET (supervisors): the conversation's transcript, masked; ?format=json for JSON."""
        console = self._console
        await console._agent(request, Role.SUPERVISOR)
        conversation_id = request.match_info["conv"]
        turns = await console.services.store.transcript(conversation_id, 10_000)
        if not turns:
            raise web.HTTPNotFound(text="no transcript for this conversation (erased or expired)")
        return export_response(conversation_id, turns, request.query.get("format") == "json")

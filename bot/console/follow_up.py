"""After a WhatsApp voter's 24-hour window closed, an agent's reply cannot be sent: the agent is told so before
sending (409 window_closed, with whether a template is available), and may send the approved follow-up
template instead ("we tried to reach you about your question"), which invites the voter to write again."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from bot.language import Language
from bot.store import turn_json

if TYPE_CHECKING:
    from bot.console.api import Console

log = structlog.get_logger(__name__)


class FollowUpViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post("/console/api/chats/{conv}/template", self.send)]

    def available(self, channel: str) -> bool:
        return channel in self._console.services.follow_ups

    async def send(self, request: web.Request) -> web.Response:
        """POST: send the approved follow-up template to the voter of a chat the agent holds."""
        console = self._console
        agent = await console._agent(request)
        assignment = await console._held(request, agent)
        services = console.services
        profile = await services.store.get(assignment.conversation_id)
        follow_up = services.follow_ups.get(profile.channel.value) if profile else None
        if profile is None or follow_up is None:
            return web.json_response({"ok": False, "error": "no approved template for this channel"}, status=409)
        language = (profile.language or Language.HI).value
        try:
            await follow_up.sender.send_template(profile.chat_id, follow_up.name, language, follow_up.parameters)
        except Exception as exc:  # the platform refused it: the agent sees why, nothing is recorded as sent
            log.warning("follow-up template not sent", conversation_id=profile.conversation_id, error=str(exc))
            return web.json_response({"ok": False, "error": f"not sent: {exc}"[:300]}, status=502)
        turn = turn_json("agent", f"[template: {follow_up.name}]", agent=agent.name, template=follow_up.name)
        await services.store.add_turns(profile.conversation_id, [turn])
        return web.json_response({"ok": True, "template": follow_up.name})

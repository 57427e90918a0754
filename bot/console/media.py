"""What a voter sent that is not text (a voice note, a photo, a document), for the agent who holds the chat.

Nothing is stored here: the transcript keeps the channel's reference, and the bytes are fetched through
the channel (WhatsApp's Graph media endpoint, with the token) when the agent opens them, so media follows
the transcript's retention and "delete my data".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from aiohttp import web

if TYPE_CHECKING:
    from bot.console.api import Console

log = structlog.get_logger(__name__)

# What the console shows inline; anything else downloads as a file.
INLINE = ("audio/", "image/", "video/")


class MediaViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/console/api/chats/{conv}/media/{media_id}", self.media)]

    async def media(self, request: web.Request) -> web.StreamResponse:
        """GET: the media, to the agent holding the chat (or a supervisor), if the voter sent it in this chat."""
        console = self._console
        agent = await console._agent(request)
        assignment = await console._held(request, agent)
        media_id = request.match_info["media_id"]
        services = console.services
        turns = await services.store.transcript(assignment.conversation_id, 500)
        if not any((t.get("media") or {}).get("media_id") == media_id for t in turns if t.get("who") == "voter"):
            raise web.HTTPNotFound(text="no such media in this conversation")
        profile = await services.store.get(assignment.conversation_id)
        source = services.media.get(profile.channel.value) if profile else None
        if source is None:
            raise web.HTTPNotFound(text="this channel keeps no media")
        try:
            body, mime = await source.media(media_id)
        except Exception as exc:  # the platform's answer, whatever it was: the agent sees "not available"
            log.warning("media not fetched", conversation_id=assignment.conversation_id, error=str(exc))
            raise web.HTTPBadGateway(text="the media could not be fetched from the platform") from None
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if not mime.startswith(INLINE):
            headers["Content-Disposition"] = "attachment"
        return web.Response(body=body, content_type=mime.split(";")[0] or "application/octet-stream", headers=headers)

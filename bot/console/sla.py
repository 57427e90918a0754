"""SLA timers: how long each waiting and each held voter has waited for the first and for the latest reply.

Computed when asked, from what already exists: a waiting chat's queue entry (its id is its enqueue time),
a held chat's assignment, and the transcript's turn times. Nothing new is written.

- first reply: from joining the queue to the first agent message since then (still running while none);
- latest reply: from the voter's oldest message that no agent message has followed yet.

Each turns amber and red at thresholds from settings (``SAMVAD_SLA_*``). The page gets the start times, so
it counts the seconds itself and stays live between refreshes; a supervisor gets every chat, an agent their
own. Identifiers are masked in the supervisor's list (a WhatsApp conversation id holds a phone number).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from aiohttp import web

from bot import keys
from bot.console.accounts import Role
from bot.identifiers import mask

if TYPE_CHECKING:
    from bot.console.api import Console

TURNS = 100  # the transcript's tail that a timer looks at


@dataclass(frozen=True)
class Thresholds:
    first_amber_s: float
    first_red_s: float
    reply_amber_s: float
    reply_red_s: float

    def level(self, waited_s: float | None, *, first: bool) -> str:
        if waited_s is None:
            return "ok"
        amber, red = (self.first_amber_s, self.first_red_s) if first else (self.reply_amber_s, self.reply_red_s)
        return "red" if waited_s >= red else "amber" if waited_s >= amber else "ok"


def timers(turns: list[dict[str, Any]], queued_at: float) -> tuple[float | None, float | None]:
    """(waiting for the first reply since, waiting for the latest reply since): unix times, None when answered."""
    first_since: float | None = queued_at
    reply_since: float | None = queued_at  # the hand-off itself is a request nobody has answered yet
    for turn in turns:
        at = float(turn.get("at") or 0)
        if at < queued_at:
            continue
        if turn.get("who") == "agent":
            first_since = reply_since = None
        elif turn.get("who") == "voter" and reply_since is None:
            reply_since = at
    return first_since, reply_since


class SlaViews:
    def __init__(self, console: Console, thresholds: Thresholds) -> None:
        self._console = console
        self.thresholds = thresholds

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get("/console/api/sla", self.view)]

    async def view(self, request: web.Request) -> web.Response:
        """GET: timers of the agent's chats (a supervisor: every waiting and held chat) and the red ones."""
        console = self._console
        agent = await console._agent(request)
        supervisor = agent.role is Role.SUPERVISOR
        agents = [a.name for a in await console.accounts.all()] if supervisor else [agent.name]
        chats = []
        for name in agents:
            for conversation_id in await console.conversations.holds(name):
                found = await console.conversations.assignment(conversation_id)
                if found is not None:
                    masked = name != agent.name  # a supervisor's own chats are theirs to see
                    chats.append(await self._chat(conversation_id, found.queued_at, name, found.language, masked))
        if supervisor:
            for language in console.queue.languages:
                for conversation_id in await console.queue.waiting(language):
                    entry = cast(str | None, await console.redis.hget(keys.voter(conversation_id), "queue_entry"))
                    if entry:
                        queued_at = int(entry.split("-")[0]) / 1000
                        chats.append(await self._chat(conversation_id, queued_at, None, language, supervisor))
        now = time.time()
        breaches = [c for c in chats if "red" in (c["first_level"], c["reply_level"])]
        return web.json_response(
            {
                "now": now,
                "thresholds": self.thresholds.__dict__,
                "chats": chats,
                "breaches": sorted(breaches, key=lambda c: min(c["first_since"] or now, c["reply_since"] or now)),
            }
        )

    async def _chat(
        self, conversation_id: str, queued_at: float, agent: str | None, language: str, masked: bool
    ) -> dict[str, Any]:
        turns = await self._console.services.store.transcript(conversation_id, TURNS)
        first_since, reply_since = timers(turns, queued_at)
        now = time.time()
        first_s = None if first_since is None else now - first_since
        reply_s = None if reply_since is None else now - reply_since
        return {
            "conversation": mask(conversation_id) if masked else conversation_id,
            "agent": agent,
            "state": "held" if agent else "waiting",
            "language": language,
            "first_since": first_since,
            "reply_since": reply_since,
            "first_level": self.thresholds.level(first_s, first=True),
            "reply_level": self.thresholds.level(reply_s, first=False),
        }

"""Auto-assignment (``SAMVAD_ASSIGNMENT=auto``): new chats are pushed to agents instead of pulled.

Each round (a maintenance task, and at most one round at a time across replicas under a token-checked
redis-py ``Lock``):

1. Offers that lapsed (not accepted within ``SAMVAD_AUTO_ASSIGN_OFFER_S``) move to the next agent with room,
   with ``Conversations.transfer_to_agent`` (XCLAIM of the same stream entry: never held twice). With no
   other agent free, the offer stays and is renewed.
2. Waiting chats go to available agents who speak the voter's language and hold fewer chats than their
   capacity, in round-robin order (a shared counter picks who is first), each through
   ``Conversations.take_next``: the same consumer group and the same queued -> agent script as "Take next",
   so exactly one agent ever gets an entry.

An offered chat is the agent's at once (it counts towards capacity); accepting only stops the clock.
The offer is ``keys.offer`` (in the conversation's slot, erased with "delete my data") and its deadline
in ``keys.OFFERS``; a deadline whose offer is gone is dropped at the next round.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, cast

import structlog
from aiohttp import web
from redis.asyncio import Redis

from bot import keys, pubsub
from bot.console.accounts import Accounts, Agent
from bot.console.http import error
from bot.conversation import Conversations
from bot.errors import InvalidTransition

if TYPE_CHECKING:
    from bot.console.api import Console

log = structlog.get_logger(__name__)

LOCK_TIMEOUT_S = 30.0


class AutoAssigner:
    def __init__(self, redis: Redis, conversations: Conversations, accounts: Accounts, offer_s: float) -> None:
        self.redis = redis
        self.conversations = conversations
        self.accounts = accounts
        self.offer_s = offer_s

    async def round(self) -> int:
        """One assignment round; returns how many chats were offered (new or moved on)."""
        lock = self.redis.lock(keys.AUTOASSIGN_LOCK, timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_TIMEOUT_S)
        async with lock:
            return await self._reoffer() + await self._push()

    async def _available(self) -> list[tuple[Agent, int]]:
        """Agents on duty now, with how many chats each holds."""
        found = []
        for agent in await self.accounts.all():
            if agent.disabled or await self.redis.get(keys.agent_presence(agent.name)) != "available":
                continue
            found.append((agent, len(await self.conversations.holds(agent.name))))
        return found

    async def _rotation(self, agents: list[tuple[Agent, int]]) -> list[tuple[Agent, int]]:
        if not agents:
            return agents
        turn = int(await self.redis.incr(keys.AUTOASSIGN_TURN)) % len(agents)
        return agents[turn:] + agents[:turn]

    async def _push(self) -> int:
        available = await self._available()
        by_name = {agent.name: agent for agent, _ in available}
        held = {agent.name: count for agent, count in available}
        offered = 0
        for language in self.conversations.queue.languages:
            while await self.conversations.queue.depth(language) > 0:
                room = [(by_name[n], h) for n, h in sorted(held.items()) if language in by_name[n].languages]
                rotated = await self._rotation([(a, h) for a, h in room if h < a.capacity])
                if not rotated:
                    break
                agent = rotated[0][0]
                assignment = await self.conversations.take_next(agent.name, [language])
                if assignment is None:
                    break
                held[agent.name] += 1
                await self._offer(assignment.conversation_id, agent.name, [])
                offered += 1
        return offered

    async def _offer(self, conversation_id: str, agent: str, tried: list[str]) -> None:
        at = time.time()
        fields = {"agent": agent, "at": str(at), "tried": json.dumps(tried)}
        await self.redis.hset(keys.offer(conversation_id), mapping=fields)  # type: ignore[arg-type]
        await self.redis.zadd(keys.OFFERS, {conversation_id: at + self.offer_s})
        await self.announce(conversation_id, agent, offer=True)
        log.info("chat offered", agent=agent, conversation_id=conversation_id)

    async def announce(self, conversation_id: str, agent: str, *, offer: bool = False) -> None:
        """Tell `agent`'s console a chat is now theirs (pushed, or transferred to them): it alerts them."""
        event = {
            "type": "assigned",
            "agent": agent,
            "conversation_id": conversation_id,
            "at": time.time(),
            "offer": offer,
        }
        await pubsub.publish(self.redis, keys.CONSOLE_EVENTS, json.dumps(event))

    async def _reoffer(self) -> int:
        due = cast(list[str], await self.redis.zrangebyscore(keys.OFFERS, "-inf", time.time()))
        moved = 0
        for conversation_id in due:
            offer = cast(dict[str, str], await self.redis.hgetall(keys.offer(conversation_id)))
            assignment = await self.conversations.assignment(conversation_id)
            if not offer or assignment is None or assignment.agent != offer.get("agent"):
                await self._drop(conversation_id)  # accepted, closed, erased or moved by hand meanwhile
                continue
            tried = [*json.loads(offer.get("tried") or "[]"), assignment.agent]
            candidates = [
                a
                for a, held in await self._rotation(sorted(await self._available(), key=lambda p: p[0].name))
                if assignment.language in a.languages and held < a.capacity and a.name not in tried
            ]
            if not candidates:
                await self.redis.zadd(keys.OFFERS, {conversation_id: time.time() + self.offer_s})  # renewed
                continue
            try:
                await self.conversations.transfer_to_agent(assignment, candidates[0].name)
            except InvalidTransition:
                await self._drop(conversation_id)
                continue
            await self._offer(conversation_id, candidates[0].name, tried)
            moved += 1
        return moved

    async def _drop(self, conversation_id: str) -> None:
        await self.redis.delete(keys.offer(conversation_id))
        await self.redis.zrem(keys.OFFERS, conversation_id)

    async def accept(self, conversation_id: str, agent: str) -> bool:
        """The agent accepts the chat offered to them: the clock stops. False when it is not their offer."""
        if await self.redis.hget(keys.offer(conversation_id), "agent") != agent:
            return False
        await self._drop(conversation_id)
        return True

    async def offers(self, agent: str) -> list[str]:
        """Chats offered to `agent` and not accepted yet."""
        offered = []
        for conversation_id in await self.conversations.holds(agent):
            if await self.redis.hget(keys.offer(conversation_id), "agent") == agent:
                offered.append(conversation_id)
        return offered


class AssignViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/offers", self.offers),
            web.post("/console/api/chats/{conv}/accept", self.accept),
        ]

    async def offers(self, request: web.Request) -> web.Response:
        """GET: the assignment mode, and the chats pushed to this agent that they have not accepted yet."""
        console = self._console
        agent = await console._agent(request)
        return web.json_response({"mode": console.assignment_mode, "offers": await console.assigner.offers(agent.name)})

    async def accept(self, request: web.Request) -> web.Response:
        """POST: accept a chat pushed to you (409 when it was not offered to you, or moved on)."""
        console = self._console
        agent = await console._agent(request)
        assignment = await console._held(request, agent)
        if not await console.assigner.accept(assignment.conversation_id, agent.name):
            return error(409, "this chat is not offered to you (already accepted, or moved to another agent)")
        return web.json_response({"ok": True})

"""Who answers a voter now: the one owner of a conversation's mode, queue entry and agent.

States and transitions (each a Lua script on the conversation's own hash-tagged keys, so it is atomic,
and idempotent when a retried command runs it twice)::

    bot ──hand_off──▶ queued ──take_next──▶ agent ──close──▶ bot
     ▲                  │  ▲                  │ │
     └─────leave────────┘  └──take_back───────┘ └──transfer_to_agent──▶ agent
                           └──transfer_to_language (from agent)
    any ──erase──▶ (nothing)

The voter hash (``keys.voter``) is the truth: ``mode``, ``queue_entry``, ``queue_language``, ``agent``.
The hand-off stream entry, the requeue list and the agent's chat set live on other slots (process-wide keys),
so they are written in separate steps around the script, in an order that never strands a voter:

- a hand-off is announced in ``keys.HANDOFF_PENDING`` before the voter turns ``queued`` and cleared once the
  stream entry is committed; ``repair`` completes any hand-off a crash interrupted;
- an agent's chat set is a superset (added before the script, removed after), read through ``holds``;
- a stream entry whose id is not the voter's ``queue_entry`` is stale and discarded when an agent meets it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import cast

import structlog
from redis.asyncio import Redis

from bot import keys
from bot.errors import InvalidTransition
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.queue import Assignment, Disposition, HandoffQueue
from bot.models import Mode

log = structlog.get_logger(__name__)

# A hand-off announced this long ago and still without its stream entry was interrupted: repair it.
REPAIR_AFTER_S = 5.0

# Begin a hand-off. K: voter, assignment. A: token, language, from-mode ('bot' or 'agent'), expected entry (from
# 'agent'), reason, topic.
# Returns {'begun', old entry} when it moved, {'queued', entry, token} when already queued (a retry, or a
# hand-off already under way), {'gone'} for an erased voter, {'mode', mode} when the from-mode does not match.
# A voter left 'queued' with neither entry nor token (an older gateway crashed mid-hand-off) begins afresh.
_BEGIN = """
if redis.call('exists', KEYS[1]) == 0 then return {'gone'} end
local mode = redis.call('hget', KEYS[1], 'mode') or 'bot'
local entry = redis.call('hget', KEYS[1], 'queue_entry') or ''
local token = redis.call('hget', KEYS[1], 'queue_token') or ''
if mode == 'queued' and (entry ~= '' or token ~= '') then
  return {'queued', entry, token, redis.call('hget', KEYS[1], 'queue_language') or ARGV[2],
          redis.call('hget', KEYS[1], 'queue_reason') or ARGV[5], redis.call('hget', KEYS[1], 'queue_topic') or ''}
end
if mode ~= ARGV[3] and mode ~= 'queued' then return {'mode', mode} end
local old = redis.call('hget', KEYS[1], 'queue_entry') or ''
if ARGV[3] == 'agent' and old ~= ARGV[4] then return {'mode', mode} end
redis.call('hset', KEYS[1], 'mode', 'queued', 'queue_token', ARGV[1], 'queue_language', ARGV[2],
  'queue_reason', ARGV[5], 'queue_topic', ARGV[6])
redis.call('hdel', KEYS[1], 'queue_entry', 'agent')
redis.call('del', KEYS[2])
return {'begun', old}
"""
# Commit the stream entry of a begun hand-off. K: voter. A: token, entry id. 1 if committed, 0 if the voter moved.
_COMMIT = """
local token = redis.call('hget', KEYS[1], 'queue_token')
if token ~= ARGV[1] then
  if redis.call('hget', KEYS[1], 'queue_entry') == ARGV[2] then return 1 end
  return 0
end
redis.call('hset', KEYS[1], 'queue_entry', ARGV[2])
redis.call('hdel', KEYS[1], 'queue_token')
return 1
"""
# queued -> agent. K: voter, assignment. A: entry id, agent, then the assignment's fields and values.
_ASSIGN = """
local mode = redis.call('hget', KEYS[1], 'mode')
if redis.call('hget', KEYS[1], 'queue_entry') ~= ARGV[1] then return 0 end
if mode == 'agent' then return redis.call('hget', KEYS[1], 'agent') == ARGV[2] and 1 or 0 end
if mode ~= 'queued' then return 0 end
redis.call('hset', KEYS[1], 'mode', 'agent', 'agent', ARGV[2])
redis.call('del', KEYS[2])
redis.call('hset', KEYS[2], unpack(ARGV, 3))
return 1
"""
# agent -> agent. K: voter, assignment. A: entry id, from agent, to agent, taken_at.
_TRANSFER = """
if redis.call('hget', KEYS[1], 'mode') ~= 'agent' or redis.call('hget', KEYS[1], 'queue_entry') ~= ARGV[1] then
  return 0
end
local holder = redis.call('hget', KEYS[1], 'agent')
if holder == ARGV[3] then return 1 end
if holder ~= ARGV[2] then return 0 end
redis.call('hset', KEYS[1], 'agent', ARGV[3])
redis.call('hset', KEYS[2], 'agent', ARGV[3], 'taken_at', ARGV[4])
return 1
"""
# queued or agent -> bot, for the given entry. K: voter, assignment. A: entry id ('' = whatever is queued, not
# taken: the voter left), from-mode ('agent', 'queued' or '' for either). Returns {entry, language, agent} or false.
_RELEASE = """
local mode = redis.call('hget', KEYS[1], 'mode')
if mode ~= 'queued' and mode ~= 'agent' then return false end
if ARGV[2] ~= '' and mode ~= ARGV[2] then return false end
local entry = redis.call('hget', KEYS[1], 'queue_entry') or ''
if ARGV[1] ~= '' and entry ~= ARGV[1] then return false end
local out = {entry, redis.call('hget', KEYS[1], 'queue_language') or '', redis.call('hget', KEYS[1], 'agent') or ''}
redis.call('hset', KEYS[1], 'mode', 'bot')
redis.call('hdel', KEYS[1], 'queue_entry', 'queue_language', 'queue_token', 'queue_reason', 'queue_topic', 'agent')
redis.call('del', KEYS[2])
return out
"""
# agent -> queued again, same entry (the agent vanished). K: voter, assignment. A: entry id.
# 1 when moved, 2 when already queued on that entry (a retry), 0 otherwise.
_TAKE_BACK = """
if redis.call('hget', KEYS[1], 'queue_entry') ~= ARGV[1] then return 0 end
local mode = redis.call('hget', KEYS[1], 'mode')
if mode == 'queued' then return 2 end
if mode ~= 'agent' then return 0 end
redis.call('hset', KEYS[1], 'mode', 'queued')
redis.call('hdel', KEYS[1], 'agent')
redis.call('del', KEYS[2])
return 1
"""

# Where a crash may be injected in tests (`fault`): the steps between Redis commands of a transition.
Fault = Callable[[str], None]


def _no_fault(_: str) -> None:
    return None


class Conversations:
    """Every transition of a conversation's mode; the only writer of mode, queue entry and agent."""

    def __init__(self, redis: Redis, queue: HandoffQueue | None = None, *, fault: Fault = _no_fault) -> None:
        self.redis = redis
        self.queue = queue or HandoffQueue(redis)
        self._fault = fault
        self._begin = redis.register_script(_BEGIN)
        self._commit = redis.register_script(_COMMIT)
        self._assign = redis.register_script(_ASSIGN)
        self._transfer = redis.register_script(_TRANSFER)
        self._release = redis.register_script(_RELEASE)
        self._take_back = redis.register_script(_TAKE_BACK)

    @staticmethod
    def _keys(conversation_id: str) -> list[str]:
        return [keys.voter(conversation_id), keys.assignment(conversation_id)]

    async def mode(self, conversation_id: str) -> Mode | None:
        raw = cast(str | None, await self.redis.hget(keys.voter(conversation_id), "mode"))
        return Mode(raw) if raw else None

    # --- bot -> queued ----------------------------------------------------------------------

    async def hand_off(self, conversation_id: str, signal: HandoffSignal) -> str:
        """bot -> queued: the conversation waits for a person; returns its stream entry id.

        Idempotent: a conversation already queued keeps its place (and a hand-off a crash interrupted is
        completed). Raises InvalidTransition while an agent holds it, or for an erased voter.
        """
        return await self._queue(conversation_id, signal, from_mode=Mode.BOT)

    async def _queue(
        self, conversation_id: str, signal: HandoffSignal, *, from_mode: Mode, old: tuple[str, str] = ("", "")
    ) -> str:
        """`old`: (language, entry id) the agent holds, when moving agent -> queued."""
        old_language, old_entry = old
        token = secrets.token_hex(8)
        await self.redis.zadd(keys.HANDOFF_PENDING, {conversation_id: time.time()})
        self._fault("announced")
        reply = await self._begin(
            keys=self._keys(conversation_id),
            args=[token, signal.language, from_mode.value, old_entry, signal.reason.value, signal.topic or ""],
        )
        state = str(reply[0])
        if state == "gone":
            await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)
            raise InvalidTransition(conversation_id, "erased", Mode.QUEUED.value)
        if state == "mode":
            await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)
            raise InvalidTransition(conversation_id, str(reply[1]), Mode.QUEUED.value)
        if state == "queued":
            entry, pending_token = str(reply[1]), str(reply[2])
            if entry:
                await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)
                return entry
            token = pending_token  # begun before and interrupted: finish that one, in the queue it chose
            signal = HandoffSignal(
                reason=HandoffReason(str(reply[4]) or signal.reason.value),
                topic=str(reply[5]) or None,
                language=str(reply[3]),
            )
        self._fault("begun")
        if state == "begun" and old_entry:
            await self.queue.finish(old_language, old_entry)
        return await self._enter(conversation_id, signal, token)

    async def _enter(self, conversation_id: str, signal: HandoffSignal, token: str) -> str:
        entry_id = await self.queue.add(conversation_id, signal)
        self._fault("added")
        if not await self._commit(keys=[keys.voter(conversation_id)], args=[token, entry_id]):
            await self.queue.finish(signal.language, entry_id)  # the voter left or was erased meanwhile
            await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)
            raise InvalidTransition(conversation_id, "moved", Mode.QUEUED.value)
        self._fault("committed")
        await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)
        await self.queue.changed(signal.language)
        log.info("handed off", reason=signal.reason.value, topic=signal.topic)
        return entry_id

    async def repair(self, older_than_s: float = REPAIR_AFTER_S) -> int:
        """Complete hand-offs that a crash interrupted (announced, but no stream entry); returns how many."""
        due = cast(
            list[str], await self.redis.zrangebyscore(keys.HANDOFF_PENDING, "-inf", time.time() - older_than_s)
        )
        repaired = 0
        for conversation_id in due:
            fields = cast(
                list[str | None],
                await self.redis.hmget(
                    keys.voter(conversation_id), "mode", "queue_token", "queue_language", "queue_reason", "queue_topic"
                ),
            )
            mode, token, language, reason, topic = fields
            if mode == Mode.QUEUED.value and token and language:
                signal = HandoffSignal(
                    reason=HandoffReason(reason or HandoffReason.FALLBACK.value), topic=topic or None, language=language
                )
                try:
                    await self._enter(conversation_id, signal, token)
                    repaired += 1
                except InvalidTransition:
                    pass
            await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)
        if repaired:
            log.warning("completed interrupted hand-offs", count=repaired)
        return repaired

    # --- queued -> bot ----------------------------------------------------------------------

    async def leave(self, conversation_id: str) -> bool:
        """queued -> bot: the voter chose not to wait. False when an agent took it meanwhile (or not queued)."""
        released = await self._release(keys=self._keys(conversation_id), args=["", Mode.QUEUED.value])
        if not released:
            return False
        entry, language, _ = (str(x) for x in released)
        self._fault("released")
        if entry and language:
            await self.queue.drop(language, entry)
            await self.queue.changed(language)
        return True

    # --- queued -> agent --------------------------------------------------------------------

    async def take_next(self, agent: str, languages: list[str]) -> Assignment | None:
        """queued -> agent: the longest-waiting conversation in the agent's languages, or None."""
        for language in sorted(languages, key=self.queue.languages.index):
            while (entry := await self.queue.next_entry(language, agent)) is not None:
                entry_id, fields = entry
                assignment = await self._take(agent, language, entry_id, fields)
                if assignment is not None:
                    await self.queue.changed(language)
                    return assignment
        return None

    async def _take(self, agent: str, language: str, entry_id: str, fields: dict[str, str]) -> Assignment | None:
        conversation_id = fields.get("conversation_id", "")
        if not conversation_id:
            await self.queue.finish(language, entry_id)
            return None
        assignment = Assignment(
            conversation_id=conversation_id,
            agent=agent,
            language=language,
            entry_id=entry_id,
            reason=fields.get("reason", ""),
            topic=fields.get("topic", ""),
            queued_at=float(fields.get("queued_at") or time.time()),
            taken_at=time.time(),
        )
        await self.redis.sadd(keys.agent_chats(agent), conversation_id)  # superset first: see `holds`
        self._fault("indexed")
        flat: list[str] = [x for pair in assignment.to_hash().items() for x in pair]
        if not await self._assign(keys=self._keys(conversation_id), args=[entry_id, agent, *flat]):
            # Stale: the voter left the queue, was erased, or this entry was replaced.
            await self.redis.srem(keys.agent_chats(agent), conversation_id)
            await self.queue.finish(language, entry_id)
            return None
        log.info("conversation taken", agent=agent, conversation_id=conversation_id)
        return assignment

    async def assignment(self, conversation_id: str) -> Assignment | None:
        raw = cast(dict[str, str], await self.redis.hgetall(keys.assignment(conversation_id)))
        return Assignment.from_hash(raw) if raw else None

    async def holds(self, agent: str) -> list[str]:
        """Conversation ids the agent holds now (the chat set, checked against each conversation)."""
        held = []
        for conversation_id in sorted(cast(set[str], await self.redis.smembers(keys.agent_chats(agent)))):
            if await self.redis.hget(keys.voter(conversation_id), "agent") == agent:
                held.append(conversation_id)
        return held

    # --- agent -> agent / queued / bot ------------------------------------------------------

    async def transfer_to_agent(self, assignment: Assignment, to_agent: str) -> Assignment:
        """agent -> agent: the same entry, moved with XCLAIM, so it is never held twice."""
        if to_agent == assignment.agent:
            return assignment
        now = time.time()
        await self.redis.sadd(keys.agent_chats(to_agent), assignment.conversation_id)
        moved = await self._transfer(
            keys=self._keys(assignment.conversation_id), args=[assignment.entry_id, assignment.agent, to_agent, now]
        )
        if not moved:
            await self.redis.srem(keys.agent_chats(to_agent), assignment.conversation_id)
            raise InvalidTransition(assignment.conversation_id, "not held by " + assignment.agent, "agent")
        self._fault("transferred")
        await self.queue.claim(assignment.language, assignment.entry_id, to_agent)
        await self.redis.srem(keys.agent_chats(assignment.agent), assignment.conversation_id)
        return Assignment(**{**assignment.__dict__, "agent": to_agent, "taken_at": now})

    async def transfer_to_language(self, assignment: Assignment, language: str, signal: HandoffSignal) -> str:
        """agent -> queued in another language's queue, in one step; returns the new entry id."""
        await self.queue.record_close(assignment, Disposition.TRANSFERRED)
        entry = await self._queue(
            assignment.conversation_id,
            signal.model_copy(update={"language": language}),
            from_mode=Mode.AGENT,
            old=(assignment.language, assignment.entry_id),
        )
        await self.redis.srem(keys.agent_chats(assignment.agent), assignment.conversation_id)
        await self.queue.changed(assignment.language)
        return entry

    async def close(self, assignment: Assignment, disposition: Disposition) -> float:
        """agent -> bot: the agent is done; returns the handle time. Raises InvalidTransition if not held."""
        released = await self._release(
            keys=self._keys(assignment.conversation_id), args=[assignment.entry_id, Mode.AGENT.value]
        )
        if not released:
            raise InvalidTransition(assignment.conversation_id, "not held", Mode.BOT.value)
        self._fault("released")
        await self.queue.finish(assignment.language, assignment.entry_id)
        await self.redis.srem(keys.agent_chats(assignment.agent), assignment.conversation_id)
        handle_s = await self.queue.record_close(assignment, disposition)
        await self.queue.changed(assignment.language)
        log.info("conversation closed", agent=assignment.agent, disposition=disposition.value)
        return handle_s

    async def heartbeat(self, agent: str) -> None:
        """Reset the idle time of the agent's entries, so the janitor leaves them alone."""
        for conversation_id in await self.holds(agent):
            found = await self.assignment(conversation_id)
            if found is not None and found.agent == agent:
                await self.queue.claim(found.language, found.entry_id, agent)

    async def sweep(self, abandon_after_s: float) -> int:
        """The janitor: entries idle longer than `abandon_after_s` go back to the head of the queue."""
        returned = 0
        for language in self.queue.languages:
            for entry_id, fields, deliveries in await self.queue.abandoned(language, abandon_after_s):
                await self._give_back(language, entry_id, fields, deliveries)
                returned += 1
        return returned

    async def _give_back(self, language: str, entry_id: str, fields: dict[str, str], deliveries: int) -> None:
        conversation_id = fields.get("conversation_id", "")
        holder = None
        if conversation_id:
            holder = cast(str | None, await self.redis.hget(keys.voter(conversation_id), "agent"))
        if not conversation_id or deliveries > self.queue.max_deliveries:
            # Poison: it kept coming back. The voter returns to the assistant; supervisors see the entry.
            if conversation_id:
                await self._release(keys=self._keys(conversation_id), args=[entry_id, ""])
            await self.queue.bury(language, entry_id, fields)
        else:
            moved = await self._take_back(keys=self._keys(conversation_id), args=[entry_id])
            if moved:
                await self.queue.requeue(language, entry_id)
            else:
                await self.queue.finish(language, entry_id)  # stale: the voter moved on
        if holder:
            await self.redis.srem(keys.agent_chats(holder), conversation_id)
        log.warning("agent gone: back in the queue", conversation_id=conversation_id, deliveries=deliveries)
        await self.queue.changed(language)

    # --- any -> erased ----------------------------------------------------------------------

    async def forget(self, conversation_id: str) -> None:
        """Before "delete my data" erases the voter's keys: drop their queue entry and agent's chat.

        The voter hash itself is deleted by the store (`VoterStore.erase`), with every personal key.
        """
        released = await self._release(keys=self._keys(conversation_id), args=["", ""])
        if released:
            entry, language, agent = (str(x) for x in released)
            if entry and language:
                await self.queue.drop(language, entry)
                await self.queue.changed(language)
            if agent:
                await self.redis.srem(keys.agent_chats(agent), conversation_id)
        for language in self.queue.languages:  # stale copies a crash left behind hold the id too
            await self.queue.drop_conversation(language, conversation_id)
        await self.redis.zrem(keys.HANDOFF_PENDING, conversation_id)


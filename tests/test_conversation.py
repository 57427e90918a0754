"""bot/conversation.py on a real Redis: every transition, invalid ones refused, and random sequences of
transitions and crashes that never strand a voter, never give a chat two holders, and erase everything."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import keys
from bot.conversation import Conversations
from bot.errors import InvalidTransition
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.queue import Disposition
from bot.redis_client import stream_entries
from tests.conftest import another_client, redis_url
from tests.helpers.voters import enqueue, make_voter

VOTERS = ("tg:1", "tg:2", "web:voter-0003")
AGENTS = ("asha", "ravi")
LANGUAGES = ("hi", "en")
POINTS = ("announced", "begun", "added", "committed", "indexed", "released", "transferred")


def signal(language: str = "hi") -> HandoffSignal:
    return HandoffSignal(reason=HandoffReason.ASK_HUMAN, topic="find_polling_station", language=language)


class Crash(Exception):
    """The process died between two Redis commands."""


async def test_bot_queued_agent_bot(redis) -> None:
    conversations = Conversations(redis)
    entry = await enqueue(conversations, "tg:1", signal())
    assert await redis.hget(keys.voter("tg:1"), "queue_entry") == entry
    assert await conversations.hand_off("tg:1", signal()) == entry  # idempotent: the same place
    taken = await conversations.take_next("asha", ["hi"])
    assert taken is not None and taken.entry_id == entry
    with pytest.raises(InvalidTransition):
        await conversations.hand_off("tg:1", signal())  # an agent holds it
    await conversations.close(taken, Disposition.RESOLVED)
    with pytest.raises(InvalidTransition):
        await conversations.close(taken, Disposition.RESOLVED)  # not held any more
    assert await redis.hgetall(keys.voter("tg:1")) == {
        "channel": "telegram",
        "chat_id": "1",
        "mode": "bot",
        "language": "hi",
        "first_seen": "0",
    }
    assert await redis.xlen(keys.handoff_queue("hi")) == 0


async def test_an_erased_voter_cannot_be_queued(redis) -> None:
    with pytest.raises(InvalidTransition):
        await Conversations(redis).hand_off("tg:404", signal())
    assert await redis.xlen(keys.handoff_queue("hi")) == 0
    assert await redis.zcard(keys.HANDOFF_PENDING) == 0


@pytest.mark.parametrize("point", ["announced", "begun", "added"])
async def test_a_crash_mid_hand_off_is_repaired_and_the_voter_can_be_taken(redis, point: str) -> None:
    """The seed's bug: mode set to queued, then the process died before the stream entry was written."""
    crashing = Conversations(redis, fault=_crash_at(point))
    await make_voter(redis, "tg:1")
    with pytest.raises(Crash):
        await crashing.hand_off("tg:1", signal())
    conversations = Conversations(redis)
    await conversations.repair(older_than_s=0)
    mode = await redis.hget(keys.voter("tg:1"), "mode")
    if mode == "queued":
        taken = await conversations.take_next("asha", ["hi"])
        assert taken is not None and taken.conversation_id == "tg:1"
    else:  # died before the voter moved at all: still with the assistant, nothing left behind
        assert mode == "bot" and await redis.xlen(keys.handoff_queue("hi")) == 0


async def test_a_stale_entry_is_never_assigned(redis) -> None:
    conversations = Conversations(redis)
    await enqueue(conversations, "tg:1", signal())
    assert await conversations.leave("tg:1")
    await redis.xadd(keys.handoff_queue("hi"), {"conversation_id": "tg:1", "reason": "ask_human"})  # left behind
    assert await conversations.take_next("asha", ["hi"]) is None
    assert await redis.hget(keys.voter("tg:1"), "mode") == "bot"


async def test_erasing_a_queued_voter_leaves_no_entry_behind(redis) -> None:
    conversations = Conversations(redis)
    await enqueue(conversations, "tg:1", signal())
    await redis.xadd(keys.handoff_queue("hi"), {"conversation_id": "tg:1", "reason": "ask_human"})  # a stale copy
    await conversations.forget("tg:1")
    await redis.delete(*keys.personal("tg:1"))
    assert await redis.xlen(keys.handoff_queue("hi")) == 0


async def test_leaving_and_taking_at_once_never_leaves_a_voter_both_free_and_held(redis) -> None:
    """The seed checked the entry, then set the mode (take) while leave ran MULTI without WATCH: they raced."""
    voters = [f"web:race-voter-{n:04d}" for n in range(60)]
    producer = Conversations(redis)
    for voter in voters:
        await enqueue(producer, voter, signal())
    clients = [another_client() for _ in range(4)]
    taken: list[str] = []
    left: list[str] = []

    async def agent(index: int) -> None:
        conversations = Conversations(clients[index])
        while (got := await conversations.take_next(f"agent{index}", ["hi"])) is not None:
            taken.append(got.conversation_id)

    async def voters_leave() -> None:
        conversations = Conversations(clients[3])
        for voter in voters:
            if await conversations.leave(voter):
                left.append(voter)
            await asyncio.sleep(0)

    try:
        await asyncio.gather(agent(0), agent(1), agent(2), voters_leave())
    finally:
        for client in clients:
            await client.aclose()
    assert not set(taken) & set(left)
    assert sorted(taken + left) == sorted(voters)
    for voter in voters:
        mode = await redis.hget(keys.voter(voter), "mode")
        assert (mode == "agent") == (voter in taken) and bool(await redis.exists(keys.assignment(voter))) == (
            voter in taken
        )


# --- random sequences of transitions and crashes ----------------------------------------------------

OPS = st.one_of(
    st.tuples(st.just("hand_off"), st.sampled_from(VOTERS), st.sampled_from(LANGUAGES)),
    st.tuples(st.just("take"), st.sampled_from(AGENTS)),
    st.tuples(st.just("close"), st.sampled_from(VOTERS)),
    st.tuples(st.just("transfer"), st.sampled_from(VOTERS), st.sampled_from(AGENTS)),
    st.tuples(st.just("transfer_language"), st.sampled_from(VOTERS), st.sampled_from(LANGUAGES)),
    st.tuples(st.just("leave"), st.sampled_from(VOTERS)),
    st.tuples(st.just("sweep")),
    st.tuples(st.just("erase"), st.sampled_from(VOTERS)),
    st.tuples(st.just("arrive"), st.sampled_from(VOTERS)),
    st.tuples(st.just("repair")),
)
STEPS = st.lists(st.tuples(OPS, st.one_of(st.none(), st.sampled_from(POINTS))), max_size=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
def test_random_transitions_and_crashes_keep_the_invariants(steps: list[tuple[tuple[Any, ...], str | None]]) -> None:
    asyncio.run(_run(steps))


async def _run(steps: list[tuple[tuple[Any, ...], str | None]]) -> None:
    redis = aioredis.Redis.from_url(redis_url(), decode_responses=True)
    try:
        await redis.flushdb()
        erased: set[str] = set()
        for voter in VOTERS:
            await make_voter(redis, voter)
        for op, crash_at in steps:
            conversations = Conversations(redis, fault=_crash_at(crash_at) if crash_at else _no_crash)
            with contextlib.suppress(Crash, InvalidTransition):
                await _apply(conversations, redis, op, erased)
        conversations = Conversations(redis)
        await conversations.repair(older_than_s=0)
        await _check(conversations, redis, erased)
        await redis.flushdb()
    finally:
        await redis.aclose()


async def _apply(conversations: Conversations, redis: aioredis.Redis, op: tuple[Any, ...], erased: set[str]) -> None:
    name = op[0]
    if name == "hand_off":
        await conversations.hand_off(op[1], signal(op[2]))
    elif name == "take":
        await conversations.take_next(op[1], list(LANGUAGES))
    elif name == "close" and (held := await conversations.assignment(op[1])):
        await conversations.close(held, Disposition.RESOLVED)
    elif name == "transfer" and (held := await conversations.assignment(op[1])):
        await conversations.transfer_to_agent(held, op[2])
    elif name == "transfer_language" and (held := await conversations.assignment(op[1])):
        await conversations.transfer_to_language(held, op[2], signal(op[2]))
    elif name == "leave":
        await conversations.leave(op[1])
    elif name == "sweep":
        await conversations.sweep(abandon_after_s=0)
    elif name == "erase":
        erased.add(op[1])  # from the first step on: a crash mid-erase is finished by erasing again below
        await conversations.forget(op[1])
        await redis.delete(*keys.personal(op[1]))
    elif name == "arrive" and op[1] in erased:  # the voter writes again after "delete my data"
        erased.discard(op[1])
        await make_voter(redis, op[1])
    elif name == "repair":
        await conversations.repair(older_than_s=0)


async def _check(conversations: Conversations, redis: aioredis.Redis, erased: set[str]) -> None:
    for voter in erased:  # an interrupted erase is simply repeated by the voter's next "delete my data"
        await conversations.forget(voter)
        await redis.delete(*keys.personal(voter))
    entries: dict[str, list[tuple[str, str]]] = {}
    for language in LANGUAGES:
        for entry_id, fields in stream_entries(await redis.xrange(keys.handoff_queue(language))):
            entries.setdefault(fields.get("conversation_id", ""), []).append((language, entry_id))
    waiting: set[str] = set()
    for voter in VOTERS:
        fields = await redis.hgetall(keys.voter(voter))
        assignment = await redis.hgetall(keys.assignment(voter))
        if voter in erased:
            assert not fields and not assignment, voter
            assert voter not in entries, (voter, entries)
            continue
        mode = fields.get("mode")
        if mode == "queued":
            assert not fields.get("queue_token"), fields  # repaired
            live = [e for e in entries.get(voter, []) if e == (fields["queue_language"], fields["queue_entry"])]
            assert len(live) == 1, (fields, entries)
            assert not assignment
            waiting.add(voter)
        elif mode == "agent":
            assert assignment and assignment["agent"] == fields["agent"], (fields, assignment)
            assert (fields["queue_language"], fields["queue_entry"]) in entries.get(voter, [])
            holders = [a for a in AGENTS if voter in await conversations.holds(a)]
            assert holders == [fields["agent"]], (voter, holders)
            waiting.add(voter)
        else:
            assert mode == "bot", fields
            assert not fields.get("queue_entry") and not assignment, (fields, assignment)
    # Nobody is stranded: once the janitor has taken every chat back (or buried one that kept failing), every
    # voter waiting for a person can be taken.
    await conversations.sweep(abandon_after_s=0)
    waiting = {v for v in waiting if await redis.hget(keys.voter(v), "mode") == "queued"}
    taken = []
    while (got := await conversations.take_next("zoya", list(LANGUAGES))) is not None:
        taken.append(got.conversation_id)
    assert sorted(taken) == sorted(waiting), (taken, waiting)


def _crash_at(point: str):  # type: ignore[no-untyped-def]
    fired: list[str] = []

    def fault(name: str) -> None:
        if name == point and not fired:
            fired.append(name)
            raise Crash(name)

    return fault


def _no_crash(_: str) -> None:
    return None


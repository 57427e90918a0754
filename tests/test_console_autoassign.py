"""Auto-assignment: pushed to agents who speak the language, round robin up to capacity, re-offered, never twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict

import redis.asyncio as aioredis

from bot import keys
from bot.console.accounts import Accounts, Role
from bot.console.autoassign import AutoAssigner
from bot.conversation import Conversations
from bot.errors import InvalidTransition
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.queue import Disposition, HandoffQueue
from tests.conftest import another_client
from tests.helpers.voters import enqueue

PASSWORD = "correct horse battery"


def signal(language: str) -> HandoffSignal:
    return HandoffSignal(reason=HandoffReason.ASK_HUMAN, language=language)


async def on_duty(redis: aioredis.Redis, name: str, languages: list[str], capacity: int) -> None:
    await Accounts(redis).add(name, PASSWORD, role=Role.AGENT, languages=languages, capacity=capacity)
    await redis.set(keys.agent_presence(name), "available", ex=3600)


async def test_round_robin_up_to_capacity_in_the_voters_language(redis) -> None:
    conversations = Conversations(redis)
    for name in ("a", "b", "c"):
        await on_duty(redis, name, ["hi"], 1)
    await on_duty(redis, "e", ["en"], 5)
    await Accounts(redis).add("away", PASSWORD, role=Role.AGENT, languages=["hi"], capacity=5)  # not on duty
    for n in range(4):
        await enqueue(conversations, f"tg:{n}", signal("hi"))
    await enqueue(conversations, "tg:en", signal("en"))
    assigner = AutoAssigner(redis, conversations, Accounts(redis), offer_s=30)
    assert await assigner.round() == 4
    held = {name: await conversations.holds(name) for name in ("a", "b", "c", "e", "away")}
    assert sorted(len(held[n]) for n in ("a", "b", "c")) == [1, 1, 1]  # one each: capacity 1
    assert held["e"] == ["tg:en"] and held["away"] == []
    assert await conversations.queue.depth("hi") == 1  # the fourth waits for room
    assert [await assigner.offers(n) for n in ("a", "b", "c")] == [held["a"], held["b"], held["c"]]


async def test_a_chat_not_accepted_in_time_goes_to_the_next_agent(redis) -> None:
    conversations = Conversations(redis)
    await on_duty(redis, "a", ["hi"], 2)
    await on_duty(redis, "b", ["hi"], 2)
    await enqueue(conversations, "tg:1", signal("hi"))
    assigner = AutoAssigner(redis, conversations, Accounts(redis), offer_s=30)
    await assigner.round()
    first = (await conversations.assignment("tg:1")).agent  # type: ignore[union-attr]
    other = "b" if first == "a" else "a"
    assert await assigner.round() == 0  # not lapsed yet: stays
    await redis.zadd(keys.OFFERS, {"tg:1": 0})  # the offer lapsed (moved back in time, not slept)
    assert await assigner.round() == 1
    assert (await conversations.assignment("tg:1")).agent == other  # type: ignore[union-attr]
    assert await conversations.holds(first) == [] and await conversations.holds(other) == ["tg:1"]
    assert not await assigner.accept("tg:1", first)
    assert await assigner.accept("tg:1", other)
    await redis.zadd(keys.OFFERS, {"tg:1": 0})
    await assigner.round()  # accepted: it stays with the agent
    assert (await conversations.assignment("tg:1")).agent == other  # type: ignore[union-attr]
    # Lapsed again with nobody else free: it stays offered to the same agent.
    await enqueue(conversations, "tg:2", signal("hi"))
    await assigner.round()
    holder = (await conversations.assignment("tg:2")).agent  # type: ignore[union-attr]
    await redis.set(keys.agent_presence("a" if holder == "b" else "b"), "away")
    await redis.zadd(keys.OFFERS, {"tg:2": 0})
    await assigner.round()
    assert (await conversations.assignment("tg:2")).agent == holder  # type: ignore[union-attr]


async def test_five_agents_racing_over_200_chats_never_double_assign(redis) -> None:
    """Five replicas run rounds at once while five agents accept and close; every chat reaches exactly one."""
    setup = Conversations(redis)
    agents = {"a0": ["hi"], "a1": ["hi"], "a2": ["hi", "en"], "a3": ["en", "hi"], "a4": ["hi"]}
    capacity = 3
    for name, languages in agents.items():
        await on_duty(redis, name, languages, capacity)
    chats = [(f"tg:{n}", "en" if n % 4 == 0 else "hi") for n in range(200)]
    for conv, language in chats:
        await enqueue(setup, conv, signal(language))

    clients = [another_client() for _ in range(10)]
    replicas = [AutoAssigner(c, Conversations(c, HandoffQueue(c)), Accounts(c), offer_s=30) for c in clients[:5]]
    accepted: dict[str, list[str]] = defaultdict(list)
    closed: Counter[str] = Counter()
    failed_closes: list[str] = []
    over_capacity: list[tuple[str, int]] = []
    wrong_language: list[tuple[str, str]] = []
    done = asyncio.Event()
    rng = random.Random(18)

    async def replica(assigner: AutoAssigner) -> None:
        while not done.is_set():
            await assigner.round()
            for name in agents:  # right after a round, when loads are highest
                if (load := len(await assigner.conversations.holds(name))) > capacity:
                    over_capacity.append((name, load))
            await asyncio.sleep(0)

    async def agent(name: str, client: aioredis.Redis) -> None:
        conversations = Conversations(client, HandoffQueue(client))
        assigner = AutoAssigner(client, conversations, Accounts(client), offer_s=30)
        mine: list[str] = []
        while not done.is_set():
            held = await conversations.holds(name)
            if len(held) > capacity:
                over_capacity.append((name, len(held)))
            for conv in await assigner.offers(name):
                if await assigner.accept(conv, name):
                    accepted[conv].append(name)
                    mine.append(conv)
                    if dict(chats)[conv] not in agents[name]:
                        wrong_language.append((conv, name))
            # Agents keep their chats until they are full (so capacity is tested), then close the oldest; at the
            # end of the queue they close what they have.
            drained = not any([await conversations.queue.depth(lang) for lang in ("hi", "en")])
            if mine and (len(mine) >= capacity or drained):
                conv = mine.pop(0)
                assignment = await conversations.assignment(conv)
                try:
                    assert assignment is not None and assignment.agent == name
                    await conversations.close(assignment, Disposition.RESOLVED)
                    closed[conv] += 1
                except (AssertionError, InvalidTransition):
                    failed_closes.append(conv)
            if sum(closed.values()) >= len(chats):
                done.set()
            await asyncio.sleep(0.005 + rng.random() / 100)  # agents are slower than the rounds: loads fill up

    tasks = [asyncio.create_task(replica(r)) for r in replicas]
    tasks += [asyncio.create_task(agent(name, clients[5 + i])) for i, name in enumerate(agents)]
    try:
        await asyncio.wait_for(done.wait(), 120)  # a guard against a hang, not a measurement
    finally:
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for c in clients:
            await c.aclose()

    double = {conv: names for conv, names in accepted.items() if len(names) > 1}
    assert double == {}  # 0 double assignments
    assert failed_closes == [] and over_capacity == [] and wrong_language == []
    assert sorted(closed) == sorted(conv for conv, _ in chats) and set(closed.values()) == {1}
    assert {name for names in accepted.values() for name in names} == set(agents)  # everyone got work
    assert await setup.queue.depth("hi") == 0 and await setup.queue.depth("en") == 0

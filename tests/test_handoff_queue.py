"""The hand-off queue on a real Redis: one holder per conversation, janitor, dead letters, figures."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot import keys
from bot.conversation import Conversations
from bot.handoff import HandoffReason, HandoffSignal
from bot.handoff.queue import Disposition, HandoffQueue
from tests.conftest import another_client
from tests.helpers.voters import enqueue


def signal(language: str = "hi") -> HandoffSignal:
    return HandoffSignal(reason=HandoffReason.ASK_HUMAN, topic="find_polling_station", language=language)


async def test_take_next_is_fifo_and_position_counts_down(redis) -> None:
    queue = Conversations(redis)
    for n in range(3):
        await enqueue(queue, f"tg:{n}", signal())
    assert [await queue.queue.position(f"tg:{n}") for n in range(3)] == [1, 2, 3]
    assert await queue.queue.depth("hi") == 3
    first = await queue.take_next("asha", ["hi"])
    assert first is not None and first.conversation_id == "tg:0"
    assert await queue.queue.position("tg:0") is None
    assert [await queue.queue.position(f"tg:{n}") for n in (1, 2)] == [1, 2]
    assert await queue.queue.depth("hi") == 2
    assert await redis.hget(keys.voter("tg:0"), "mode") == "agent"


async def test_an_entry_leaves_the_stream_only_when_closed(redis) -> None:
    queue = Conversations(redis)
    await enqueue(queue, "tg:1", signal())
    taken = await queue.take_next("asha", ["hi"])
    assert taken is not None
    assert await redis.xlen(keys.handoff_queue("hi")) == 1  # held, not acknowledged
    await queue.close(taken, Disposition.RESOLVED)
    assert await redis.xlen(keys.handoff_queue("hi")) == 0
    assert await redis.xpending(keys.handoff_queue("hi"), keys.HANDOFF_GROUP) == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }
    assert await redis.hget(keys.voter("tg:1"), "mode") == "bot"
    assert len(await queue.queue.handled_today()) == 1


async def test_200_handoffs_raced_by_5_agents_on_separate_connections_are_never_held_twice(redis) -> None:
    producer = Conversations(redis)
    for n in range(200):
        await enqueue(producer, f"web:voter-{n:04d}", signal("hi" if n % 2 else "en"))
    clients = [another_client() for _ in range(5)]
    taken: list[tuple[str, str]] = []

    async def agent(index: int) -> None:
        queue = Conversations(clients[index])
        while (got := await queue.take_next(f"agent{index}", ["hi", "en"])) is not None:
            taken.append((got.conversation_id, got.agent))
            await asyncio.sleep(0)

    try:
        await asyncio.gather(*(agent(i) for i in range(5)))
    finally:
        for client in clients:
            await client.aclose()
    counts = Counter(conversation for conversation, _ in taken)
    assert len(counts) == 200 and max(counts.values()) == 1
    assert len({agent for _, agent in taken}) > 1


async def test_janitor_puts_a_vanished_agents_conversation_back_at_the_head(redis) -> None:
    queue = Conversations(redis)
    await enqueue(queue, "tg:1", signal())
    await enqueue(queue, "tg:2", signal())
    held = await queue.take_next("gone", ["hi"])
    assert held is not None and held.conversation_id == "tg:1"
    await asyncio.sleep(0.15)
    assert await queue.sweep(abandon_after_s=0.1) == 1
    assert await queue.queue.position("tg:1") == 1 and await queue.queue.position("tg:2") == 2
    again = await queue.take_next("asha", ["hi"])
    assert again is not None and again.conversation_id == "tg:1" and again.agent == "asha"
    assert await redis.smembers(keys.agent_chats("gone")) == set()


async def test_heartbeat_keeps_a_present_agents_chat(redis) -> None:
    queue = Conversations(redis)
    await enqueue(queue, "tg:1", signal())
    await queue.take_next("asha", ["hi"])
    await asyncio.sleep(0.15)
    await queue.heartbeat("asha")
    assert await queue.sweep(abandon_after_s=0.1) == 0
    assert (await queue.assignment("tg:1")).agent == "asha"  # type: ignore[union-attr]


async def test_an_entry_that_keeps_failing_goes_to_the_dead_letter_stream(redis) -> None:
    queue = Conversations(redis, HandoffQueue(redis, max_deliveries=2))
    await enqueue(queue, "tg:1", signal())
    for attempt in range(4):
        got = await queue.take_next(f"flaky{attempt}", ["hi"])
        if got is None:
            break
        await asyncio.sleep(0.02)
        await queue.sweep(abandon_after_s=0.01)
    dead = await queue.queue.dead_letters()
    assert [d["conversation_id"] for d in dead] == ["tg:1"]
    assert await queue.queue.depth("hi") == 0


async def test_transfer_to_a_named_agent_and_to_another_language(redis) -> None:
    queue = Conversations(redis)
    await enqueue(queue, "tg:1", signal("hi"))
    held = await queue.take_next("asha", ["hi"])
    assert held is not None
    moved = await queue.transfer_to_agent(held, "ravi")
    assert (await queue.assignment("tg:1")).agent == "ravi"  # type: ignore[union-attr]
    pending = await redis.xpending_range(keys.handoff_queue("hi"), keys.HANDOFF_GROUP, "-", "+", 10)
    assert [p["consumer"] for p in pending] == ["ravi"]
    await queue.transfer_to_language(moved, "en", signal("hi"))
    assert await queue.queue.depth("hi") == 0 and await queue.queue.depth("en") == 1
    assert await queue.queue.position("tg:1") == 1


async def test_voter_can_leave_the_queue(redis) -> None:
    queue = Conversations(redis)
    await enqueue(queue, "tg:1", signal())
    assert await queue.leave("tg:1")
    assert await queue.take_next("asha", ["hi"]) is None
    assert await redis.hget(keys.voter("tg:1"), "mode") == "bot"

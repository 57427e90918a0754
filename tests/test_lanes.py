"""Conversation lanes: one message at a time per conversation, in order, none left behind."""

from __future__ import annotations

import asyncio
import hashlib
import random

import pytest

from bot import keys, redis_client
from bot.errors import InboxFull
from bot.lanes import _NEXT, Lanes
from tests.helpers.cutting_proxy import CuttingProxy


async def test_a_message_pushed_as_the_worker_stops_is_answered_without_waiting_for_maintenance(redis) -> None:
    """The voter writes again the moment the previous answer is out, while the worker is finishing.

    No maintenance loop runs here: a message that the stopping worker missed would wait forever.
    """
    answered: asyncio.Queue[str] = asyncio.Queue()

    async def process(_: str, raw: str, __: object) -> None:
        await answered.put(raw)

    lanes = Lanes(redis, process, on_failure=_never)
    pauses = random.Random(7)
    for n in range(300):
        # Land the next message anywhere in the worker's last steps (its round trips take ~0.1-1 ms).
        await asyncio.sleep(pauses.uniform(0, 0.002))
        await lanes.submit("tg:5550501", f"message {n}")
        assert await asyncio.wait_for(answered.get(), 5) == f"message {n}"
    await lanes.wait_idle()
    assert not await redis.exists(keys.inbox("tg:5550501"), keys.lane_lock("tg:5550501"))


async def test_messages_of_one_conversation_are_processed_one_at_a_time_in_order(redis) -> None:
    seen: list[str] = []
    busy = 0

    async def process(_: str, raw: str, __: object) -> None:
        nonlocal busy
        busy += 1
        assert busy == 1, "two messages of one conversation at once"
        await asyncio.sleep(0.001)
        seen.append(raw)
        busy -= 1

    lanes = Lanes(redis, process, on_failure=_never)
    for n in range(50):
        await lanes.submit("tg:5550502", str(n))
    await lanes.wait_idle()
    assert seen == [str(n) for n in range(50)]


async def test_on_store_runs_in_the_store_step_and_its_result_reaches_the_first_message(redis) -> None:
    """The hook runs once per new message (never for a redelivery); what it returns comes with the
    message only when this process took the lease as it stored it (the inbox was empty)."""
    hook = """
local function on_store(leased, K, A)
  redis.call('rpush', K[1], A[1])
  if leased then return 'fresh ' .. A[1] end
  return false
end
"""
    got: list[tuple[str, object]] = []
    release = asyncio.Event()

    async def process(_: str, raw: str, hooked: object) -> None:
        await release.wait()
        got.append((raw, hooked))

    lanes = Lanes(redis, process, on_failure=_never, on_store=hook)
    conv = "tg:5550503"
    log = f"samvad:test:on_store:{{{conv}}}"  # the script's keys share the conversation's slot (Redis Cluster)
    await redis.delete(log)
    assert await lanes.submit(conv, "one", once="test:1", hook_keys=[log], hook_args=["one"])
    assert not await lanes.submit(conv, "one", once="test:1", hook_keys=[log], hook_args=["one"])
    assert await lanes.submit(conv, "two", hook_keys=[log], hook_args=["two"])  # queued behind "one"
    assert await lanes.submit(conv, "three")  # no hook keys: the hook does not run
    release.set()
    await lanes.wait_idle()
    assert got == [("one", "fresh one"), ("two", None), ("three", None)]
    assert await redis.lrange(log, 0, -1) == ["one", "two"]
    await redis.delete(log, keys.deliveries(conv))


async def test_a_lost_answer_to_the_done_step_does_not_skip_the_next_message(own_redis) -> None:
    """The connection breaks after Redis dropped the finished message but before its answer came back.

    The client sends the step again on a new connection (see bot/redis_client.py); the second run
    must not drop the message that is now first.
    """
    port, _, _ = own_redis
    proxy = CuttingProxy(port)
    await proxy.start()
    client = redis_client.connect(f"redis://127.0.0.1:{proxy.port}/0")
    seen: list[str] = []
    others_stored = asyncio.Event()

    async def process(_: str, raw: str, __: object) -> None:
        if raw == "a":
            await others_stored.wait()
        seen.append(raw)

    lanes = Lanes(client, process, on_failure=_never)
    try:
        await lanes.submit("tg:5550503", "warm-up")  # loads the lane's scripts into Redis
        await lanes.wait_idle()
        proxy.cut_after(hashlib.sha1(_NEXT.encode()).hexdigest().encode())
        for raw in ("a", "b", "c"):
            await lanes.submit("tg:5550503", raw)
        others_stored.set()
        await lanes.wait_idle()
    finally:
        await client.aclose()
        await proxy.close()
    assert proxy.cuts_done == 1
    assert seen == ["warm-up", "a", "b", "c"]


async def _never(conversation_id: str, raw: str, error: str) -> None:
    raise AssertionError(f"processing failed for {conversation_id}: {error}")


async def test_a_lease_another_process_took_over_is_never_renewed(redis, monkeypatch) -> None:
    import bot.lanes

    monkeypatch.setattr(bot.lanes, "RENEW_EVERY_S", 0.01)
    lanes = Lanes(redis, _never_called, on_failure=_never)
    lease = keys.lane_lock("tg:1")
    await redis.set(lease, "another-process", px=60_000)
    await asyncio.wait_for(lanes._renew(lease), 5)  # gives up once it sees the lease is not its own
    assert await redis.get(lease) == "another-process"
    assert await redis.pttl(lease) > 50_000  # a plain PEXPIRE would have cut it to LEASE_MS


async def test_a_campaign_lock_another_sender_took_over_is_never_renewed(redis) -> None:
    from bot.outreach.progress import Progress

    progress = Progress(redis, "check-your-name")
    await redis.set(keys.campaign_lock("check-your-name"), "other-host:1:abcd", ex=1000)
    await asyncio.wait_for(progress.keep_lock(asyncio.Event()), 5)
    assert await redis.ttl(keys.campaign_lock("check-your-name")) > 900
    await progress.release()
    assert await redis.get(keys.campaign_lock("check-your-name")) == "other-host:1:abcd"


async def _never_called(conversation_id: str, raw: str, hooked: object) -> None:
    raise AssertionError("no message was submitted")


async def test_a_full_inbox_refuses_new_messages_without_marking_them_seen(redis) -> None:
    """One voter could push thousands of messages a second into an unbounded inbox (issue 14, item 10)."""
    started = asyncio.Event()
    release = asyncio.Event()

    async def process(_: str, raw: str, __: object) -> None:
        started.set()
        await release.wait()

    lanes = Lanes(redis, process, on_failure=_never, max_inbox=5)
    for n in range(5):
        assert await lanes.submit("tg:5550503", str(n), once=f"tg:{n}")
    await started.wait()
    with pytest.raises(InboxFull):
        await lanes.submit("tg:5550503", "5", once="tg:5")
    assert await redis.llen(keys.inbox("tg:5550503")) == 5
    # it may come again once the inbox drains
    assert await redis.zscore(keys.deliveries("tg:5550503"), "tg:5") is None
    release.set()
    await lanes.wait_idle()
    assert await lanes.submit("tg:5550503", "5", once="tg:5")
    await lanes.wait_idle()


async def test_inboxes_a_dead_process_left_are_all_resumed_from_every_node(redis) -> None:
    """At start-up the scan finds every unfinished inbox; on a cluster they sit on every master."""
    conversations = [f"tg:{5557000 + n}" for n in range(50)]
    for conv in conversations:
        await redis.rpush(keys.inbox(conv), f"left in {conv}")  # stored, never processed: its process died
    done: list[str] = []

    async def process(conv: str, raw: str, _: object) -> None:
        done.append(raw)

    lanes = Lanes(redis, process, on_failure=_never)
    assert await lanes.resume_all() == 50
    await lanes.wait_idle()
    assert sorted(done) == sorted(f"left in {conv}" for conv in conversations)
    assert [key async for key in redis.scan_iter(match=keys.INBOX_PATTERN)] == []

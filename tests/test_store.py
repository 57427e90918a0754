"""bot/store.py, bot/deliveries.py and bot/consent.py's writes across slots: on standalone Redis and on a Cluster."""

from __future__ import annotations

from bot import keys
from bot.consent import ConsentState, may_contact, record_consent
from bot.deliveries import Deliveries
from bot.models import Channel, InboundMessage
from bot.store import VoterStore

DETAILS = {"channel": "telegram", "language": "hi", "notice_version": "1"}


def store(redis) -> VoterStore:  # type: ignore[no-untyped-def]
    return VoterStore(redis, transcript_ttl_s=3600, transcript_max_turns=5, dedup_ttl_s=60)


async def test_arrival_makes_the_profile_once_and_keeps_the_last_turns(redis) -> None:
    voters = store(redis)
    message = InboundMessage(channel=Channel.TELEGRAM, chat_id="5556001", text="booth kahan hai")
    first = await voters.arrive(message, "booth kahan hai")
    for n in range(7):
        await voters.arrive(message, f"turn {n}")
    again = await voters.get(message.conversation_id)
    assert again is not None and again.first_seen == first.first_seen and again.chat_id == "5556001"
    assert [t["text"] for t in await voters.transcript(message.conversation_id)] == [f"turn {n}" for n in range(2, 7)]


async def test_erase_leaves_no_key_of_the_voter_and_no_membership(redis) -> None:
    voters = store(redis)
    conversation = "tg:5556002"
    await voters.arrive(InboundMessage(channel=Channel.TELEGRAM, chat_id="5556002", text="hi"), "hi")
    await record_consent(redis, conversation, ConsentState.SUBSCRIBED, DETAILS)
    await redis.sadd(keys.VOLUNTEERS, conversation)
    assert await Deliveries(redis, ttl_s=60).first(conversation, "tg:1")
    await voters.erase(conversation)
    assert [key async for key in redis.scan_iter(match="*5556002*")] == []
    assert not await redis.sismember(keys.SUBSCRIBERS, conversation)
    assert not await redis.sismember(keys.VOLUNTEERS, conversation)


async def test_a_delivery_is_taken_once_per_conversation_and_forgotten_after_its_ttl(redis) -> None:
    deliveries = Deliveries(redis, ttl_s=60)
    assert await deliveries.first("tg:1", "tg:77")
    assert not await deliveries.first("tg:1", "tg:77")
    assert await deliveries.first("tg:2", "tg:77")  # another conversation's delivery of the same id
    short = Deliveries(redis, ttl_s=-1)  # already expired when written: the next look forgets it
    assert await short.first("tg:3", "x") and await short.first("tg:3", "x")
    assert await deliveries.first_unowned(keys.telegram_update(5))
    assert not await deliveries.first_unowned(keys.telegram_update(5))


async def test_consent_is_decided_by_the_voter_hash_not_the_index(redis) -> None:
    """The writes span slots, in an order that fails closed: a crash that left only the index entry (or only the
    hash withdrawn) must not let anyone message the voter."""
    conversation = "tg:5556003"
    await redis.sadd(keys.SUBSCRIBERS, conversation)  # as if a subscription crashed after its first step
    assert not await may_contact(redis, conversation)
    await record_consent(redis, conversation, ConsentState.SUBSCRIBED, DETAILS)
    assert await may_contact(redis, conversation)
    await redis.hset(keys.consent(conversation), "state", ConsentState.UNSUBSCRIBED.value)  # crashed before SREM
    assert await redis.sismember(keys.SUBSCRIBERS, conversation) and not await may_contact(redis, conversation)
    await record_consent(redis, conversation, ConsentState.UNSUBSCRIBED, DETAILS)
    assert not await redis.sismember(keys.SUBSCRIBERS, conversation)
    assert [fields["state"] for _, fields in await redis.xrange(keys.CONSENT_LEDGER)] == ["subscribed", "unsubscribed"]

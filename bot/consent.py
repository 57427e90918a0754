"""Outreach consent: who may be messaged first, and the ledger of every change.

Redis layout (names in ``bot/keys.py``):

- ``keys.consent(conv)``: hash ``state`` (subscribed | unsubscribed), ``at`` (ISO UTC),
  ``channel``, ``language``, ``constituency`` (when known), ``notice_version``;
- ``keys.SUBSCRIBERS``: set of conversation ids that are subscribed now (an index: the hash decides);
- ``keys.SUPPRESSED``: sha256 of conversation ids that erased their data: never contacted again
  unless they opt in afresh;
- ``keys.CONSENT_LEDGER``: stream, one entry per change, with the same fields and
  ``conversation_hash`` instead of the id, so the ledger holds no personal data and
  survives "delete my data".

Both the assistant's actions (``bot/actions/consent.py``) and the gateway (a bare STOP in
any state of the conversation) write through :func:`record_consent`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import cast

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from bot import keys


class ConsentState(str, Enum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    ERASED = "erased"  # only on the ledger, written by "delete my data"


def conversation_hash(conversation_id: str) -> str:
    """An anonymous, stable id for a conversation (for suppression and the consent ledger)."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()


def ledger_entry(
    conversation_id: str, state: ConsentState, at: str, details: Mapping[str, str] | None = None
) -> dict[FieldT, EncodableT]:
    """The fields of one consent-ledger entry (no conversation id, only its hash)."""
    entry: dict[FieldT, EncodableT] = {"conversation_hash": conversation_hash(conversation_id)}
    entry.update({"state": state.value, "at": at})
    entry.update(details or {})
    return entry


async def record_consent(redis: Redis, conversation_id: str, state: ConsentState, details: Mapping[str, str]) -> None:
    """Write the ledger, the voter's consent state and the subscribers set.

    The voter's consent hash is the truth; ``SUBSCRIBERS`` is the index campaigns start from, and
    `may_contact` reads the hash again before each message. On a Redis Cluster these keys live on different
    slots, so no transaction can hold them all: they are written one by one, in an order that fails closed. A
    crash between two steps leaves a voter not messaged (the next change, or the same one again, completes it),
    never one messaged without consent. The ledger comes first: what the voter asked is kept even then.

    Args:
        details: ``channel``, ``language``, ``notice_version`` and, when known, ``constituency``.
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record: dict[FieldT, EncodableT] = {"state": state.value, "at": now}
    record.update(details)
    subscribing = state is ConsentState.SUBSCRIBED
    await redis.xadd(keys.CONSENT_LEDGER, ledger_entry(conversation_id, state, now, details))
    if subscribing:
        await redis.sadd(keys.SUBSCRIBERS, conversation_id)  # in the index, but not contacted until the hash says so
    async with redis.pipeline(transaction=True) as pipe:  # one key: atomic on a cluster too
        pipe.delete(keys.consent(conversation_id))
        pipe.hset(keys.consent(conversation_id), mapping=record)
        await pipe.execute()
    if subscribing:
        # A fresh, explicit opt-in lifts an earlier "delete my data" suppression (last: until then, not contacted).
        await redis.srem(keys.SUPPRESSED, conversation_hash(conversation_id))
    else:
        await redis.srem(keys.SUBSCRIBERS, conversation_id)


async def withdraw(redis: Redis, conversation_id: str, *, channel: str, language: str) -> None:
    """Record an opt-out, keeping the constituency and notice version of the earlier consent."""
    earlier = cast(dict[str, str], await redis.hgetall(keys.consent(conversation_id)))
    details = {"channel": channel, "language": language, "notice_version": earlier.get("notice_version") or "1"}
    if earlier.get("constituency"):
        details["constituency"] = earlier["constituency"]
    await record_consent(redis, conversation_id, ConsentState.UNSUBSCRIBED, details)


async def may_contact(redis: Redis, conversation_id: str) -> bool:
    """Whether the voter is subscribed now and has not erased their data."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hget(keys.consent(conversation_id), "state")
        pipe.sismember(keys.SUPPRESSED, conversation_hash(conversation_id))
        state, suppressed = await pipe.execute()
    return state == ConsentState.SUBSCRIBED.value and not suppressed


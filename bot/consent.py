"""Outreach consent: who may be messaged first, and the ledger of every change.

Redis layout (names in ``bot/keys.py``):

- ``keys.consent(conv)``: hash ``state`` (subscribed | unsubscribed), ``at`` (ISO UTC),
  ``channel``, ``language``, ``constituency`` (when known), ``notice_version``;
- ``keys.SUBSCRIBERS``: set of conversation ids that are subscribed now;
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
    """Write the voter's consent state, the subscribers set and the ledger in one transaction.

    Args:
        details: ``channel``, ``language``, ``notice_version`` and, when known, ``constituency``.
    """
    now = datetime.now(UTC).isoformat(timespec="seconds")
    record: dict[FieldT, EncodableT] = {"state": state.value, "at": now}
    record.update(details)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(keys.consent(conversation_id))
        pipe.hset(keys.consent(conversation_id), mapping=record)
        if state is ConsentState.SUBSCRIBED:
            pipe.sadd(keys.SUBSCRIBERS, conversation_id)
            # A fresh, explicit opt-in lifts an earlier "delete my data" suppression.
            pipe.srem(keys.SUPPRESSED, conversation_hash(conversation_id))
        else:
            pipe.srem(keys.SUBSCRIBERS, conversation_id)
        pipe.xadd(keys.CONSENT_LEDGER, ledger_entry(conversation_id, state, now, details))
        await pipe.execute()


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
        pipe.sismember(keys.SUBSCRIBERS, conversation_id)
        pipe.sismember(keys.SUPPRESSED, conversation_hash(conversation_id))
        subscribed, suppressed = await pipe.execute()
    return bool(subscribed) and not suppressed


"""Delete my data: erase the voter's keys and leave only an anonymous do-not-contact marker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from redis.exceptions import RedisError

from bot import keys
from bot.actions.common import channel_of, redis
from bot.consent import ConsentState, conversation_hash, ledger_entry
from bot.handoff import ERASE_KEY
from bot.redis_client import stream_entries

log = structlog.get_logger(__name__)

# Slots that hold what the voter told us; emptied together with the Redis keys.
PERSONAL_SLOTS = ("epic_number", "pin_code", "constituency", "state", "volunteer_name", "volunteer_phone",
                  "volunteer_area", "volunteer_consent", "callback_phone", "callback_consent")  # fmt: skip


async def callback_entries(conversation_id: str) -> list[str]:
    """Ids of the voter's call-back requests still waiting (they hold the phone number)."""
    entries = stream_entries(await redis().xrange(keys.CALLBACKS))
    return [entry_id for entry_id, fields in entries if fields.get("conversation_id") == conversation_id]


class ActionDeleteData(Action):
    """Erase the voter's data after they confirmed."""

    def name(self) -> str:
        return "action_delete_data"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        conversation = tracker.sender_id
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            callbacks = await callback_entries(conversation)
            # These keys live on several cluster slots: one step each, suppression first, so that from the
            # first step on nobody messages the voter; a crash part way is finished by asking again.
            client = redis()
            await client.sadd(keys.SUPPRESSED, conversation_hash(conversation))
            await client.xadd(keys.CONSENT_LEDGER, ledger_entry(conversation, ConsentState.ERASED, now))
            await client.delete(*keys.personal(conversation))
            if callbacks:
                await client.xdel(keys.CALLBACKS, *callbacks)
            await client.srem(keys.SUBSCRIBERS, conversation)
            await client.srem(keys.VOLUNTEERS, conversation)
        except RedisError as exc:
            log.error("delete_data_failed", conversation_id=conversation, channel=channel_of(tracker), error=repr(exc))
            dispatcher.utter_message(response="utter_technical_problem")
            return []
        log.info("data_deleted", conversation_hash=conversation_hash(conversation), channel=channel_of(tracker))
        dispatcher.utter_message(response="utter_data_deleted")
        # The gateway erases its own keys and the assistant's record after delivering the confirmation.
        dispatcher.utter_message(json_message={ERASE_KEY: True})
        return [SlotSet(slot, None) for slot in PERSONAL_SLOTS]

"""bot/outage.py on a real Redis: held messages are replayed without loss, even when a replay crashes."""

from __future__ import annotations

import pytest

from bot import keys
from bot.app import ROUTER
from bot.deadletters import DeadKind
from bot.models import Channel, InboundMessage
from bot.outage import held_id
from tests.helpers.telegram_api import text_update


class Boom(Exception):
    pass


async def test_a_replay_that_crashes_after_taking_the_message_loses_nothing(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, rasa_retry_interval_s=3600)
    outage = gw.app[ROUTER].outage
    message = InboundMessage(channel=Channel.TELEGRAM, chat_id="5555001", text="मेरा बूथ कहाँ है")
    await gw.post_update(text_update(1, 5555001, "first"))  # the voter exists
    await gw.idle()
    await redis.delete(keys.RETRY)
    await outage.hold(message)

    async def ready() -> bool:
        return True

    async def crash(*_: object, **__: object) -> bool:
        raise Boom

    outage.rasa.ready = ready  # type: ignore[method-assign]
    real_submit = outage.lanes.submit
    outage.lanes.submit = crash  # type: ignore[method-assign]
    with pytest.raises(Boom):
        await outage.replay()
    # The seed popped the message first: it was gone from Redis here.
    assert await redis.llen(keys.RETRY) + await redis.llen(keys.RETRY_PROCESSING) == 1

    seen: list[str] = []

    async def record(conversation_id: str, raw: str, **kwargs: object) -> bool:
        seen.append(raw)
        return await real_submit(conversation_id, raw, **kwargs)  # type: ignore[arg-type]

    outage.lanes.submit = record  # type: ignore[method-assign]
    assert await outage.replay() == 1
    assert [InboundMessage.model_validate_json(raw).text for raw in seen] == ["मेरा बूथ कहाँ है"]
    assert await redis.llen(keys.RETRY) == 0 and await redis.llen(keys.RETRY_PROCESSING) == 0


async def test_a_message_replayed_twice_reaches_its_inbox_once(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, rasa_retry_interval_s=3600)
    router = gw.app[ROUTER]
    await gw.post_update(text_update(1, 5555002, "first"))
    await gw.idle()
    raw = InboundMessage(channel=Channel.TELEGRAM, chat_id="5555002", text="again").model_dump_json()
    # A replay whose LREM answer was lost puts the message back once more: the once-key drops the copy.
    once = f"replay:{held_id(raw)}"  # what the replay gives as the delivery id
    assert await router.outage._put_back(raw) == 1
    assert not await router.lanes.submit("tg:5555002", raw, once=once)


async def test_delete_my_data_drops_held_and_dead_messages(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0, rasa_retry_interval_s=3600)
    router = gw.app[ROUTER]
    await gw.post_update(text_update(1, 5555003, "मेरा नाम लिस्ट में है क्या"))
    await gw.post_update(text_update(2, 5555004, "someone else"))
    await gw.idle()
    assert await redis.llen(keys.RETRY) == 2  # Rasa is down: both held
    await router.dead.record(DeadKind.INBOUND, "tg:5555003", raw="{}", text="x", reason="failed")
    await router.erase("tg:5555003")
    held = [InboundMessage.model_validate_json(r).chat_id for r in await redis.lrange(keys.RETRY, 0, -1)]
    assert held == ["5555004"]
    assert await redis.xlen(keys.DEAD_LETTERS) == 0

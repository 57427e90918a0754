"""bot/outbox.py through the real gateway: a reply the channel cannot deliver is recorded, never fatal."""

from __future__ import annotations

from bot import keys
from bot.app import ROUTER
from bot.deadletters import DeadKind
from bot.redis_client import stream_entries
from tests.helpers.telegram_api import text_update


async def test_a_reply_telegram_refuses_is_dead_lettered_and_the_voters_message_is_still_handled(
    make_gateway, redis
) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    gw.telegram.fail_next["sendMessage"] = [("bad_request", "message is too long")]
    voter = 5554001
    assert (await gw.post_update(text_update(1, voter, "/help"))).status == 200
    await gw.idle()
    conversation = f"tg:{voter}"
    # Before: the send's exception reached the inbound worker and the voter's message went to the dead letters.
    assert stream_entries(await redis.xrange(keys.DEAD_LETTERS)) == []
    assert await redis.llen(keys.inbox(conversation)) == 0
    dead = stream_entries(await redis.xrange(keys.OUTBOUND_DEAD))
    assert len(dead) == 1 and dead[0][1]["conversation_id"] == conversation
    assert "BadRequest" in dead[0][1]["reason"]
    transcript = await gw.app[ROUTER].store.transcript(conversation)
    assert transcript[-1]["who"] == "bot" and transcript[-1]["undelivered"] is True

    # A supervisor replays it once Telegram takes it again: the voter gets exactly that text.
    router = gw.app[ROUTER]
    assert await router.replay_dead(DeadKind.OUTBOUND, dead[0][0])
    assert gw.telegram.texts_to(voter) == [dead[0][1]["text"]]


async def test_the_next_message_of_the_voter_is_answered_after_a_failed_reply(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    gw.telegram.fail_next["sendMessage"] = [("bad_request", "chat not found")]
    voter = 5554002
    await gw.post_update(text_update(1, voter, "/help"))
    await gw.post_update(text_update(2, voter, "/help"))
    await gw.idle()
    assert len(gw.telegram.texts_to(voter)) == 1  # the second reply got through
    assert await redis.xlen(keys.OUTBOUND_DEAD) == 1


async def test_bot_api_5xx_is_retried_and_the_reply_arrives(make_gateway, redis) -> None:
    gw = await make_gateway(rasa_url="http://127.0.0.1:9", rasa_timeout_s=1.0)
    gw.telegram.fail_next["sendMessage"] = [("server_error",), ("server_error",)]
    voter = 5554003
    await gw.post_update(text_update(1, voter, "/help"))
    await gw.idle()
    assert len(gw.telegram.texts_to(voter)) == 1  # the third try got through
    assert [m for m, _ in gw.telegram.calls].count("sendMessage") == 3
    assert await redis.xlen(keys.OUTBOUND_DEAD) == 0

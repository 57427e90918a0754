"""WhatsApp replies: rendering within WhatsApp's limits, the 24-hour window, throttling and Graph errors."""

from __future__ import annotations

import random

import pytest
from prometheus_client import REGISTRY

from bot import keys
from bot.app import WHATSAPP
from bot.channels.whatsapp_send import Option, render, shorten, split_text
from bot.errors import DeliveryFailed, FloodWait, RecipientBlocked, SendingRestricted, WindowClosed
from bot.models import Button, Channel, OutboundMessage
from tests.helpers import graph_api as wa


def voter() -> str:
    return f"9197{random.randint(10_000_000, 99_999_999)}"


def render_plain(text: str, options: list[Option]) -> list[dict]:  # type: ignore[type-arg]
    return render("919812345678", text, options, list_label="See the options", more_label="More options:")


# --- rendering --------------------------------------------------------------------------------------


def test_long_text_is_split_at_paragraphs_then_sentences_then_words() -> None:
    paragraph = "पहला वाक्य यहाँ है। " * 150  # ~3,000 characters
    text = paragraph.strip() + "\n\n" + paragraph.strip()
    pieces = split_text(text)
    assert len(pieces) == 2 and pieces == [paragraph.strip(), paragraph.strip()]
    sentences = split_text("Carry your EPIC card. " * 400)
    assert all(len(p) <= 4096 for p in sentences) and all(p.endswith(".") for p in sentences)
    words = split_text("word " * 2000)
    assert all(len(p) <= 4096 and not p.endswith(" ") for p in words) and " ".join(words).split() == ["word"] * 2000
    assert split_text("x" * 5000) == ["x" * 4096, "x" * 904]
    assert split_text("short") == ["short"]


def test_up_to_three_options_are_reply_buttons_with_titles_of_at_most_20() -> None:
    options = [Option("मेरा पोलिंग बूथ कहाँ है बताइए", "/find_polling_station"), Option("No", "/deny")]
    [body] = render_plain("क्या आप मदद चाहते हैं?", options)
    assert body["messaging_product"] == "whatsapp" and body["type"] == "interactive"
    interactive = body["interactive"]
    assert interactive["type"] == "button" and interactive["body"] == {"text": "क्या आप मदद चाहते हैं?"}
    buttons = interactive["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["/find_polling_station", "/deny"]
    assert all(b["type"] == "reply" and len(b["reply"]["title"]) <= 20 for b in buttons)
    assert buttons[0]["reply"]["title"].endswith("…")


def test_more_options_become_lists_of_at_most_ten_rows() -> None:
    options = [Option(f"Option number {n} with a long title", f"/o{n}") for n in range(12)]
    bodies = render_plain("Choose", options)
    assert [b["interactive"]["type"] for b in bodies] == ["list", "list"]
    first, second = (b["interactive"] for b in bodies)
    rows = first["action"]["sections"][0]["rows"]
    assert len(rows) == 10 and len(second["action"]["sections"][0]["rows"]) == 2
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[0]["description"] == "Option number 0 with a long title"
    assert first["action"]["button"] == "See the options" and second["body"]["text"] == "More options:"


def test_a_long_text_with_buttons_keeps_the_interactive_body_within_1024() -> None:
    bodies = render_plain("Polling day is a holiday. " * 100, [Option("Yes", "/affirm")])
    assert [b["type"] for b in bodies] == ["text", "interactive"]
    assert len(bodies[-1]["interactive"]["body"]["text"]) <= 1024
    assert "".join(b.get("text", {}).get("body", "") for b in bodies).count("holiday") < 100  # the rest is in the body


def test_shorten_cuts_at_a_word() -> None:
    assert shorten("Talk to a person now please", 20) == "Talk to a person…"
    assert shorten("Short", 20) == "Short"
    assert len(shorten("x" * 40, 20)) == 20


# --- sending through the gateway --------------------------------------------------------------------


async def _open_window(gw, wa_id: str) -> None:  # type: ignore[no-untyped-def]
    await gw.post(wa.webhook(wa.messages_value(wa_id, wa.text("/help"))))
    await gw.idle()


async def test_send_posts_to_the_numbers_messages_endpoint_with_the_token(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    await _open_window(gw, wa_id)
    [sent] = gw.graph.to(wa_id)
    assert sent.body["to"] == wa_id and sent.body["type"] == "text" and sent.body["recipient_type"] == "individual"


async def test_outside_the_24_hour_window_free_form_sends_raise_window_closed(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    channel = gw.app[WHATSAPP]
    message = OutboundMessage(channel=Channel.WHATSAPP, chat_id=wa_id, text="hello")
    with pytest.raises(WindowClosed):
        await channel.send(message)  # never wrote to us
    await _open_window(gw, wa_id)
    assert await channel.window_open(wa_id)
    ttl = await redis.ttl(keys.whatsapp_window(f"wa:{wa_id}"))
    assert 24 * 3600 - 60 < ttl <= 24 * 3600  # open for 24 hours from the voter's message
    await redis.delete(keys.whatsapp_window(f"wa:{wa_id}"))  # as if those 24 hours had passed
    before = len(gw.graph.attempts)
    with pytest.raises(WindowClosed):
        await channel.send(message)
    assert len(gw.graph.attempts) == before  # not even attempted


async def test_error_131047_closes_the_window_and_raises_window_closed(make_whatsapp_gateway, redis) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    await _open_window(gw, wa_id)
    gw.graph.fail_for[wa_id] = [131047]
    with pytest.raises(WindowClosed) as caught:
        await gw.app[WHATSAPP].send(OutboundMessage(channel=Channel.WHATSAPP, chat_id=wa_id, text="x"))
    assert caught.value.conversation_id == f"wa:{wa_id}"
    assert not await redis.exists(keys.whatsapp_window(f"wa:{wa_id}"))


async def test_throttling_130429_and_131056_is_waited_out_and_nothing_is_dropped(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    gw.graph.fail_next = [130429, 131056, 130429]
    throttled_before = REGISTRY.get_sample_value("samvad_throttled_total", {"channel": "whatsapp"}) or 0.0
    await _open_window(gw, wa_id)
    assert len(gw.graph.attempts) == 4 and len(gw.graph.to(wa_id)) == 1
    assert REGISTRY.get_sample_value("samvad_throttled_total", {"channel": "whatsapp"}) == throttled_before + 3


async def test_a_retry_after_header_sets_the_back_off(make_whatsapp_gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import bot.channels.whatsapp_send as whatsapp_send

    gw = await make_whatsapp_gateway()
    wa_id = voter()
    await _open_window(gw, wa_id)
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(whatsapp_send, "_sleep", record)
    gw.graph.fail_for[wa_id], gw.graph.retry_after = [130429, 130429], "7"
    await gw.app[WHATSAPP].send(OutboundMessage(channel=Channel.WHATSAPP, chat_id=wa_id, text="x"))
    assert waits == [7.0, 7.0] and len(gw.graph.to(wa_id)) == 2


async def test_throttling_that_never_ends_raises_flood_wait(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway(whatsapp_backoff_s=0.005)
    wa_id = voter()
    await _open_window(gw, wa_id)
    gw.graph.fail_for[wa_id] = [130429] * 20
    with pytest.raises(FloodWait):
        await gw.app[WHATSAPP].send(OutboundMessage(channel=Channel.WHATSAPP, chat_id=wa_id, text="x"))


@pytest.mark.parametrize(
    ("code", "error"),
    [(131026, RecipientBlocked), (131048, SendingRestricted), (131049, SendingRestricted), (100, DeliveryFailed)],
)
async def test_graph_errors_become_domain_errors(make_whatsapp_gateway, redis, code, error) -> None:  # type: ignore[no-untyped-def]
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    await _open_window(gw, wa_id)
    gw.graph.fail_for[wa_id] = [code]
    with pytest.raises(error):
        buttons = [Button(title="हाँ", payload="/affirm")]
        await gw.app[WHATSAPP].send(OutboundMessage(channel=Channel.WHATSAPP, chat_id=wa_id, text="x", buttons=buttons))
    unreachable = await redis.hget(keys.voter(f"wa:{wa_id}"), "unreachable")
    assert (unreachable == "1") is (error is RecipientBlocked)


async def test_a_server_error_is_retried(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    wa_id = voter()
    gw.graph.fail_next = [131000]
    await _open_window(gw, wa_id)
    assert len(gw.graph.to(wa_id)) == 1


async def test_voice_note_is_fetched_through_the_media_endpoint_with_the_token(make_whatsapp_gateway) -> None:
    gw = await make_whatsapp_gateway()
    gw.graph.media_files["1037543291543636"] = (b"OggS\x00voice", "audio/ogg")
    content, mime = await gw.app[WHATSAPP].media("1037543291543636")
    assert content == b"OggS\x00voice" and mime == "audio/ogg"
    with pytest.raises(DeliveryFailed):
        await gw.app[WHATSAPP].media("missing")

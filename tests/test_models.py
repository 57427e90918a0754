"""What crosses module boundaries is bounded and storable at the edge (issue 14, items 2 and 8)."""

from __future__ import annotations

from bot.models import MAX_INBOUND_CHARS, Channel, InboundMessage


def test_voter_text_is_cut_at_the_edge() -> None:
    """60,000 characters reached the language detector whole; now nothing behind a channel sees more."""
    message = InboundMessage(channel=Channel.WEBCHAT, chat_id="x" * 32, text="a" * 1_000_000)
    assert len(message.text) == MAX_INBOUND_CHARS


def test_a_lone_surrogate_becomes_a_replacement_character_so_it_can_be_stored() -> None:
    message = InboundMessage(channel=Channel.TELEGRAM, chat_id="1", text="booth \ud800 \udfff kahan")
    assert message.text == "booth \ufffd \ufffd kahan"
    message.model_dump_json().encode("utf-8")  # raised before: surrogates not allowed
    assert InboundMessage(channel=Channel.TELEGRAM, chat_id="1", text="ok 😀").text == "ok 😀"

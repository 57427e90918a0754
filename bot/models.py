"""Types that cross module boundaries: what a channel hands the router and gets back."""

from __future__ import annotations

import re
import time
from enum import Enum

from pydantic import BaseModel, Field, field_validator

from bot.handoff import HandoffSignal

# The most voter text any message carries past its channel; the router cuts further (MAX_MESSAGE_CHARS).
# Bounded here, at the edge, so that nothing behind it (language detection, storage, Rasa) sees more.
MAX_INBOUND_CHARS = 16_384
# Halves of UTF-16 pairs on their own: JSON can carry them ("\ud800"), UTF-8 cannot, so Redis would refuse them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Channel(str, Enum):
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"
    WHATSAPP = "whatsapp"

    @property
    def short(self) -> str:
        return {"telegram": "tg", "webchat": "web", "whatsapp": "wa"}[self.value]


class Mode(str, Enum):
    """Who answers the voter now."""

    BOT = "bot"
    QUEUED = "queued"
    AGENT = "agent"


class Kind(str, Enum):
    TEXT = "text"  # typed text, or a button payload such as "/find_polling_station"
    COMMAND = "command"  # a channel command the router acts on itself (e.g. /stop)
    UNSUPPORTED = "unsupported"  # photo, voice, sticker...: answered politely


class Button(BaseModel):
    title: str
    payload: str


class Attachment(BaseModel):
    """Media the voter sent (a voice note, image, document, location), as the channel names it."""

    type: str  # the platform's word: audio, image, document, video, sticker, location, ...
    media_id: str | None = None  # for fetching it through the channel (WhatsApp: the Graph media id)
    mime_type: str | None = None
    details: dict[str, str] = {}  # e.g. a location's latitude and longitude, a document's file name


class InboundMessage(BaseModel):
    """One voter message, normalized by its channel."""

    channel: Channel
    chat_id: str
    text: str = ""
    kind: Kind = Kind.TEXT
    # The channel's own id for this message (Telegram update_id, WhatsApp wamid), for logs.
    external_id: str | None = None
    attachment: Attachment | None = None  # with Kind.UNSUPPORTED: what the voter sent
    received_at: float = Field(default_factory=time.time)
    # Put back in its inbox by the replay after Rasa was down (bot/outage.py): answered even while the voter
    # still has held messages, which wait behind it.
    replayed: bool = False

    @field_validator("text")
    @classmethod
    def _bounded_utf8(cls, text: str) -> str:
        return _LONE_SURROGATE.sub("\ufffd", text[:MAX_INBOUND_CHARS])

    @property
    def conversation_id(self) -> str:
        return conversation_id(self.channel, self.chat_id)


class OutboundMessage(BaseModel):
    """One message to a voter, in the channel's neutral form."""

    channel: Channel
    chat_id: str
    text: str
    buttons: list[Button] = []
    author: str = "bot"  # "bot" or "agent": the web chat shows them differently


class BotText(BaseModel):
    """One message of the assistant's reply."""

    text: str
    buttons: list[Button] = []


class AssistantReply(BaseModel):
    """What the assistant answered one voter message with: its texts, in order, and its signals."""

    texts: list[BotText] = []
    # The voter chose this language explicitly ("hi" or "en"): answer in it from now on.
    set_language: str | None = None
    # A person should take over (see bot/handoff/__init__.py); `handoff_notice` is the index in `texts` of the
    # assistant's "connecting you" text that came with the signal, left out when nobody is on duty.
    handoff: HandoffSignal | None = None
    handoff_notice: int | None = None
    # The voter confirmed "delete my data": erase after delivering the texts.
    erase: bool = False


def conversation_id(channel: Channel, chat_id: str) -> str:
    """The id a voter has everywhere: Redis keys, Rasa sender id, logs."""
    return f"{channel.short}:{chat_id}"


def parse_conversation_id(value: str) -> tuple[Channel, str]:
    short, _, chat_id = value.partition(":")
    for channel in Channel:
        if channel.short == short and chat_id:
            return channel, chat_id
    raise ValueError(f"not a conversation id: {value!r}")

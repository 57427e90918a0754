"""What the console works with, handed to it at start-up: it never reaches through the router."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from redis.asyncio import Redis

from bot.console.search import SearchIndex
from bot.conversation import Conversations
from bot.csat import Survey
from bot.deadletters import DeadKind, DeadLetters
from bot.rasa_client import RasaClient
from bot.store import VoterStore


class Voice(Protocol):
    """Speaking to a voter on an agent's behalf, through the voter's own channel."""

    async def agent_says(self, conversation_id: str, agent: str, text: str) -> bool: ...

    async def back_to_bot(self, conversation_id: str, *, ask_callback: bool = False) -> None: ...

    async def replay_dead(self, kind: DeadKind, entry_id: str) -> bool: ...


class MediaSource(Protocol):
    """A channel that can fetch what a voter sent (WhatsApp: through the Graph media endpoint)."""

    async def media(self, media_id: str) -> tuple[bytes, str]: ...


class TemplateSender(Protocol):
    """A channel that may reach a voter outside its reply window only with an approved template."""

    async def send_template(self, chat_id: str, name: str, language: str, parameters: list[str]) -> None: ...


@dataclass(frozen=True)
class FollowUp:
    """The approved template an agent may send after the window closed, and its body parameters."""

    sender: TemplateSender
    name: str
    parameters: list[str]


@dataclass(frozen=True)
class ConsoleServices:
    redis: Redis
    store: VoterStore
    conversations: Conversations
    dead: DeadLetters
    voice: Voice
    rasa: RasaClient
    survey: Survey | None = None  # the satisfaction question after a resolved close
    search: SearchIndex | None = None  # PostgreSQL full-text search, when SAMVAD_SEARCH_DATABASE_URL is set
    # channel value -> where its media comes from; filled in as channels start
    media: dict[str, MediaSource] = field(default_factory=dict)
    # channel value -> the follow-up template agents may send when the reply window closed
    follow_ups: dict[str, FollowUp] = field(default_factory=dict)

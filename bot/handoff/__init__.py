"""The hand-off contract between the Rasa assistant and the gateway.

This module is the one place that defines it; `bot/actions` emits the signal
and the gateway's router acts on it.

When the assistant decides that a person should take over (the voter asked for
a human, asked for a call back, or the assistant fell back twice in a row), the
custom action ``action_handoff`` does two things in the same turn:

1. it sends a bot message whose ``custom`` payload is::

       {"handoff": {"reason": "ask_human" | "request_callback" | "fallback" | "rasa_unavailable",
                    "topic": "<last substantive intent, e.g. find_polling_station>",
                    "language": "hi" | "en"}}

   Rasa's REST channel returns it as ``{"recipient_id": ..., "custom": {...}}``;
2. it returns the ``ConversationPaused`` event, so the assistant stays silent
   while a person handles the conversation.

The gateway, on seeing a ``handoff`` payload in Rasa's reply, sets the voter's
mode to ``queued`` and puts the conversation on the human queue.  When the agent
closes the conversation, the gateway sends the ``resume`` event through Rasa's
HTTP API (the Rasa client) and sets the mode back to ``bot``.

A second, smaller signal lets the assistant tell the gateway that the voter
chose a language explicitly (intent ``change_language``)::

    {"set_language": "hi" | "en"}

The gateway stores that choice and sends it as ``metadata.language`` with every
later message, instead of the language it would detect from the text.

A third tells the gateway that the voter confirmed "delete my data"::

    {"erase": true}

The action has already erased what it knows (consent, volunteer record, call-back
requests); the gateway then erases its own keys for the voter (profile, transcript)
and the assistant's record of the conversation, after delivering the confirmation.
"""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel

HANDOFF_KEY = "handoff"
SET_LANGUAGE_KEY = "set_language"
ERASE_KEY = "erase"


class HandoffReason(str, Enum):
    ASK_HUMAN = "ask_human"
    REQUEST_CALLBACK = "request_callback"
    FALLBACK = "fallback"
    RASA_UNAVAILABLE = "rasa_unavailable"


class HandoffSignal(BaseModel):
    """The payload under ``custom.handoff`` in a Rasa bot message."""

    reason: HandoffReason
    topic: str | None = None
    language: str = "hi"

    def to_custom(self) -> dict[str, object]:
        """The ``custom`` JSON payload that carries this signal."""
        return {HANDOFF_KEY: self.model_dump(mode="json")}

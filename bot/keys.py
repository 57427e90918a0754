"""Every Redis key the project uses, under one prefix.

Keys that belong to one conversation carry the conversation id in a hash tag
(``{tg:123}``) so that they share a Redis Cluster slot and can be changed in
one MULTI/EXEC.
"""

from __future__ import annotations

PREFIX = "samvad"


def voter(conversation_id: str) -> str:
    """Hash: the voter's profile and conversation mode."""
    return f"{PREFIX}:voter:{{{conversation_id}}}"


def transcript(conversation_id: str) -> str:
    """List of JSON turns (voter, bot, agent), trimmed and expiring."""
    return f"{PREFIX}:transcript:{{{conversation_id}}}"


def inbox(conversation_id: str) -> str:
    """List: the voter's messages not yet answered, processed in order."""
    return f"{PREFIX}:inbox:{{{conversation_id}}}"


def volunteer(conversation_id: str) -> str:
    """Hash: a volunteer sign-up (name, phone, area, consent time)."""
    return f"{PREFIX}:volunteer:{{{conversation_id}}}"


def consent(conversation_id: str) -> str:
    """Hash: the voter's current outreach consent state."""
    return f"{PREFIX}:consent:{{{conversation_id}}}"


def telegram_update(update_id: int) -> str:
    """String set once per Telegram update_id, for de-duplication."""
    return f"{PREFIX}:tg:update:{update_id}"


SUBSCRIBERS = f"{PREFIX}:subscribers"  # set of conversation ids with consent
CONSENT_LEDGER = f"{PREFIX}:consent:ledger"  # stream: every consent change
RETRY = f"{PREFIX}:retry"  # list: messages Rasa could not answer, to replay
VOLUNTEERS = f"{PREFIX}:volunteers"  # set of conversation ids that signed up

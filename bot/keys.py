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


def apologized(conversation_id: str) -> str:
    """String with a TTL: the voter already heard the 'assistant unavailable' apology."""
    return f"{PREFIX}:apologized:{{{conversation_id}}}"


def lane_lock(conversation_id: str) -> str:
    """String with a TTL: which gateway process works this conversation's inbox now."""
    return f"{PREFIX}:lane:{{{conversation_id}}}"


INBOX_PATTERN = f"{PREFIX}:inbox:*"
DEAD_LETTERS = f"{PREFIX}:deadletter:inbox"  # list: inbox entries that failed to process


def handoff_queue(language: str) -> str:
    """Stream: conversations waiting for a person who speaks `language`."""
    return f"{PREFIX}:handoff:{language}"


def waiting_notice(conversation_id: str) -> str:
    """String with a TTL: the queued voter was already told a person will reply."""
    return f"{PREFIX}:waiting:{{{conversation_id}}}"


def button_payload(token: str) -> str:
    """String: a button payload too long for Telegram's 64-byte callback data."""
    return f"{PREFIX}:button:{token}"


# Set of sha256(conversation id) of voters who erased their data: never contact them
# again, unless they opt in afresh (action_subscribe removes the marker).
SUPPRESSED = f"{PREFIX}:suppressed"

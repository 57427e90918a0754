"""The words that stop things, in one place: the gateway, the actions and the docs read them here.

- A whole message that is a STOP word withdraws outreach consent at once, whatever the conversation is doing:
  talking to the assistant, waiting for a person or talking to one.
- Except inside a form (the assistant is asking for an EPIC number, a phone number...): there a STOP word that
  is also a CANCEL word only leaves the form, and consent stays as it was. "unsubscribe" and "stop messages"
  are never cancel words: they always mean outreach.
- A CANCEL word inside a form leaves the form (bot/actions/common.py `is_cancel`); outside a form it is an
  ordinary message for the assistant.
"""

from __future__ import annotations

import unicodedata

STOP_WORDS = frozenset(
    {"stop", "unsubscribe", "stop karo", "band", "band karo", "bandh karo", "band kro", "band kar do",
     "stop messages", "stop updates", "stop reminders", "messages band karo", "message band karo",
     "रुकें", "रुको", "रोको", "बंद", "बंद करो", "बंद करें", "बंद कर दो", "स्टॉप", "मैसेज बंद करो"}
)  # fmt: skip

CANCEL_WORDS = frozenset(
    {"cancel", "stop", "quit", "exit", "abort", "ruko", "ruk", "rukiye", "rukjao", "ruko na", "rehne do",
     "rahne do", "chhodo", "chodo", "band", "band karo", "bandh karo", "band kro", "band kar do", "stop karo",
     "bas", "rok do", "cancel karo", "mat karo",
     "रुको", "रुकें", "रुकिए", "रुक जाओ", "रोको", "रहने दो", "छोड़ो", "बंद", "बंद करो", "बंद करें", "बंद कर दो",
     "स्टॉप", "बस", "रोक दो", "रद्द", "रद्द करो", "कैंसल", "कैंसल करो", "मत करो"}
)  # fmt: skip

_END = " \t\n.!?।,'\""


def normalized(text: str) -> str:
    """Lower case, NFC, single spaces, end punctuation dropped; at most the first 100 characters looked at."""
    words = unicodedata.normalize("NFC", text[:100]).strip(_END).casefold().split()
    return " ".join(words)


def is_stop_word(text: str) -> bool:
    """Whether the whole message is a STOP word."""
    return normalized(text) in STOP_WORDS


def cancels_a_form(text: str) -> bool:
    """Whether the whole message, inside a form, only means "leave the form"."""
    return normalized(text) in CANCEL_WORDS

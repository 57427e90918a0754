"""The message mix both sides of the benchmark get: Hindi, English and Hinglish; single turns and forms.

A script is one voter's conversation, sent in order, each message after the reply to the last.
The polling-station forms answer with EPIC numbers that exist in data/electors.csv and a PIN
code that exists in data/polling_stations.csv, so the action really looks the voter up.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    name: str
    language: str  # en | hi | hinglish
    messages: tuple[str, ...]


SCRIPTS: tuple[Script, ...] = (
    Script(
        "greet-faq-en", "en", ("hello there", "what documents do i need to carry to the polling booth", "thank you")
    ),
    Script("greet-faq-hi", "hi", ("नमस्ते", "बूथ पर कौन सा पहचान पत्र ले जाना है", "धन्यवाद")),
    Script("greet-faq-hinglish", "hinglish", ("namaste ji", "voter id card kaise banwaye", "dhanyawad")),
    Script("form-epic-en", "en", ("where is my polling booth", "my epic number is ABC1234567")),
    Script("form-epic-hi", "hi", ("मेरा पोलिंग बूथ कहाँ है", "मेरा एपिक नंबर BRP0412345 है")),
    Script("form-pin-hinglish", "hinglish", ("mera booth kaha hai", "pin 800001")),
    Script("register-en", "en", ("how do i register as a new voter", "thanks")),
    Script("schedule-hi", "hi", ("चुनाव कब है", "धन्यवाद")),
    Script("form-epic-hinglish", "hinglish", ("BRP0498765 ka booth kaha hai",)),
)


def mix() -> Iterator[Script]:
    """Scripts in a fixed round-robin order, so both sides get the same mix in the same order."""
    return itertools.cycle(SCRIPTS)


def messages_per_script() -> float:
    return sum(len(s.messages) for s in SCRIPTS) / len(SCRIPTS)

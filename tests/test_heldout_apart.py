"""The held-out sets stay apart from the training data: no held-out message of three words or more is a
training example (compared lower-cased, punctuation and entity annotations removed).

Greetings and one-word replies ("hello", "thanks", "no") are what everybody writes, in training and
held-out sets alike, so messages shorter than three words are not compared.
"""

from __future__ import annotations

import re

import yaml

from bot.settings import ROOT
from tests.test_assistant_quality import nlu_languages

_PUNCTUATION = re.compile(r"[\s.,!?।]+")


def _normal(text: str) -> str:
    return _PUNCTUATION.sub(" ", text.casefold()).strip()


def test_no_held_out_message_is_trained_on() -> None:
    trained = {_normal(text) for text in nlu_languages()}
    leaked = []
    for path in sorted((ROOT / "tests" / "data").glob("heldout_*.yml")):
        for value in yaml.safe_load(path.read_text(encoding="utf-8")).values():
            texts = [t for group in value.values() for t in group] if isinstance(value, dict) else value
            leaked += [f"{path.name}: {t!r}" for t in texts if len(t.split()) >= 3 and _normal(t) in trained]
    assert leaked == [], "held-out messages found in nlu/:\n" + "\n".join(leaked)

"""The trained model on messages it never saw: tests/data/heldout_*.yml, written apart from nlu/ and never trained on.

Through the real Rasa server's /model/parse (the model in models/, as `make train` built it):
- in-scope messages: accuracy and macro-F1 per language (English, Devanagari Hindi, Hinglish);
- everyday messages on other topics (``heldout_out_of_scope*.yml``): the share refused
  (``out_of_scope`` or ``nlu_fallback``).

The figures go to ``results/nlu/heldout.json``; docs/content.md records them.  The bars are a little under
what was measured when the sets were written, so a change that makes the model worse on new messages fails.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import aiohttp
import pytest
import yaml

from bot.settings import ROOT
from tests.conftest import RASA_TOKEN
from tests.test_assistant_quality import macro_f1

pytestmark = [pytest.mark.rasa, pytest.mark.quality]

DATA = ROOT / "tests" / "data"
REFUSED = {"out_of_scope", "nlu_fallback"}
MIN_ACCURACY = 0.97
MIN_MACRO_F1 = 0.96
MIN_REFUSED = 0.93


async def _intent(session: aiohttp.ClientSession, url: str, text: str) -> str:
    async with session.post(f"{url}/model/parse", params={"token": RASA_TOKEN}, json={"text": text}) as response:
        assert response.status == 200, await response.text()
        parsed: dict[str, Any] = await response.json()
        return str(parsed["intent"]["name"])


def held_out_sets() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """Every held-out set: file stem -> language -> (gold intent, text).

    A language maps either to intents (``{intent: [texts]}``; ``out_of_scope`` among them) or, in the
    everyday sets, straight to a list of texts that are all out of scope.
    """
    sets: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for path in sorted(DATA.glob("heldout_*.yml")):
        by_language = yaml.safe_load(path.read_text(encoding="utf-8"))
        sets[path.stem] = {
            language: [(intent, t) for intent, texts in value.items() for t in texts]
            if isinstance(value, dict)
            else [("out_of_scope", t) for t in value]
            for language, value in by_language.items()
        }
    return sets


def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Accuracy and macro-F1 of the in-scope messages, and the share of out-of-scope ones refused."""
    in_scope = [(g, p) for g, p in pairs if g != "out_of_scope"]
    everyday = [p for g, p in pairs if g == "out_of_scope"]
    figures: dict[str, float] = {}
    if in_scope:
        figures |= {"examples": len(in_scope), "accuracy": round(sum(g == p for g, p in in_scope) / len(in_scope), 4),
                    "macro_f1": round(macro_f1(in_scope), 4)}  # fmt: skip
    if everyday:
        figures |= {"everyday_examples": len(everyday),
                    "everyday_refused": round(sum(p in REFUSED for p in everyday) / len(everyday), 4)}  # fmt: skip
    return figures


async def test_held_out_messages_per_language(rasa_stack: dict[str, str]) -> None:
    by_language: dict[str, list[tuple[str, str]]] = defaultdict(list)
    per_set: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    misses: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for name, languages in held_out_sets().items():
            for language, items in languages.items():
                pairs = []
                for gold, text in items:
                    predicted = await _intent(session, rasa_stack["rasa_url"], text)
                    pairs.append((gold, predicted))
                    if predicted != gold and not (gold == "out_of_scope" and predicted in REFUSED):
                        misses.append(f"{name} {language}: {text!r} {gold} -> {predicted}")
                per_set[name][language] = score(pairs)
                by_language[language] += pairs
    scores = {language: score(pairs) for language, pairs in by_language.items()}
    out = ROOT / "results" / "nlu"
    out.mkdir(parents=True, exist_ok=True)
    report = {"scores": scores, "per_set": per_set, "misses": misses}
    (out / "heldout.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")

    assert set(scores) == {"en", "hi", "hinglish"}
    below = {
        language: s
        for language, s in scores.items()
        if s["accuracy"] < MIN_ACCURACY or s["macro_f1"] < MIN_MACRO_F1 or s["everyday_refused"] < MIN_REFUSED
    }
    assert not below, f"held-out scores below the bar: {below}\n" + "\n".join(misses)

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


async def test_held_out_messages_per_language(rasa_stack: dict[str, str]) -> None:
    intents = yaml.safe_load((DATA / "heldout_intents.yml").read_text(encoding="utf-8"))
    everyday: dict[str, list[str]] = defaultdict(list)
    for path in sorted(DATA.glob("heldout_out_of_scope*.yml")):
        for language, texts in yaml.safe_load(path.read_text(encoding="utf-8")).items():
            everyday[language] += texts
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    misses: list[str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for language, by_intent in intents.items():
            pairs = []
            for intent, texts in by_intent.items():
                for text in texts:
                    predicted = await _intent(session, rasa_stack["rasa_url"], text)
                    pairs.append((intent, predicted))
                    if predicted != intent:
                        misses.append(f"{language}: {text!r} {intent} -> {predicted}")
            scores[language]["examples"] = len(pairs)
            scores[language]["accuracy"] = round(sum(g == p for g, p in pairs) / len(pairs), 4)
            scores[language]["macro_f1"] = round(macro_f1(pairs), 4)
        for language, texts in everyday.items():
            predicted = [await _intent(session, rasa_stack["rasa_url"], text) for text in texts]
            pairs_oos = zip(texts, predicted, strict=True)
            misses += [f"{language}: {t!r} out_of_scope -> {p}" for t, p in pairs_oos if p not in REFUSED]
            scores[language]["everyday_examples"] = len(texts)
            scores[language]["everyday_refused"] = round(sum(p in REFUSED for p in predicted) / len(texts), 4)
    out = ROOT / "results" / "nlu"
    out.mkdir(parents=True, exist_ok=True)
    (out / "heldout.json").write_text(json.dumps({"scores": scores, "misses": misses}, indent=2, ensure_ascii=False))

    assert set(scores) == {"en", "hi", "hinglish"}
    below = {
        language: s
        for language, s in scores.items()
        if s["accuracy"] < MIN_ACCURACY or s["macro_f1"] < MIN_MACRO_F1 or s["everyday_refused"] < MIN_REFUSED
    }
    assert not below, f"held-out scores below the bar: {below}\n" + "\n".join(misses)

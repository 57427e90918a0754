"""The assistant's quality bar, checked with the real Rasa CLI (from .venv-rasa).

- ``rasa data validate`` is clean: no unused intents, no story/rule conflicts, no
  warning about our data except responses Rasa cannot see being used (those sent by
  custom actions and form questions, checked here against the code instead);
- 5-fold cross-validation (seeded folds): intent macro-F1 >= 0.96 overall and >= 0.96 for English,
  Hindi and Hinglish each (split by the ``metadata.lang`` of every NLU example), and accuracy per
  language in ``results/nlu/f1_by_language.json``;
- the conversation tests (``tests/conversations``) pass end to end, NLU included;
- bad input through Rasa's REST channel gets an answer, never an error.

Reports go to ``results/`` (``results/nlu/f1_by_language.json``, ``results/core/``).
About 2-3 minutes on 2 cores.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from bot.content import report as nlu_report
from bot.settings import ROOT

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RESULTS = ROOT / "results"
# Issue 16's bar: 0.96 in each language.  Measured 2026-12-02 on these folds (8,979 examples): en 0.963,
# hi 0.962, hinglish 0.976, overall 0.967 (docs/content.md section 13).  The folds are re-drawn whenever an
# example is added or removed, which moves a language by up to +-0.005: after changing nlu/, run this test.
F1_OVERALL = 0.96
F1_PER_LANGUAGE = 0.96
LANGUAGES = ("en", "hi", "hinglish")
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_UNUSED_RESPONSE = re.compile(r"The utterance '(\w+)' is not used in any story or rule\.")


# Rasa shuffles the cross-validation folds with numpy's global random state and no seed, so the
# score moves by about +-0.005 from run to run. Seeding it makes the folds, and the test, repeatable.
_SEEDED_RASA = (
    "import sys, numpy; numpy.random.seed(0); "
    "from rasa.__main__ import main; sys.argv = ['rasa', *sys.argv[1:]]; main()"
)


def rasa(*args: str, timeout: float = 900, seeded: bool = False) -> subprocess.CompletedProcess[str]:
    if not RASA.exists():
        pytest.fail("Rasa is not installed in .venv-rasa: run `make setup`")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    command = [str(RASA.with_name("python")), "-c", _SEEDED_RASA, *args] if seeded else [str(RASA), *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def responses_sent_outside_stories() -> set[str]:
    """Responses that custom actions send by name, and the questions forms ask."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    names = set()
    for path in (ROOT / "bot" / "actions").glob("*.py"):
        names |= set(re.findall(r"\"(utter_\w+)\"", path.read_text(encoding="utf-8")))
    names |= {name for name in domain["responses"] if name.startswith("utter_ask_")}
    names.add("utter_default")  # sent by Rasa's action_default_fallback
    return names


@pytest.mark.slow
def test_data_validates_cleanly() -> None:
    result = rasa("data", "validate", "--data", "nlu", "stories", "--domain", "domain.yml", "--config", "config.yml")
    output = result.stdout + result.stderr
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "validate.txt").write_text(output, encoding="utf-8")
    assert result.returncode == 0, output[-3000:]
    assert "No story structure conflicts found." in output

    allowed = responses_sent_outside_stories()
    problems = []
    for line in output.splitlines():
        match = re.search(r"(UserWarning|FutureWarning): (.*)", line)
        if match:
            unused = _UNUSED_RESPONSE.search(match.group(2))
            if not (unused and unused.group(1) in allowed):
                problems.append(match.group(2))
        elif re.search(r"\b(WARNING|ERROR)\b\s+rasa", line):
            problems.append(line)
    assert problems == [], "\n".join(problems)


def nlu_languages() -> dict[str, str]:
    """Every NLU example's text (annotations removed) -> its ``metadata.lang``."""
    languages: dict[str, str] = {}
    for path in sorted((ROOT / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue
            lang = (block.get("metadata") or {}).get("lang")
            assert lang in LANGUAGES, f"{path.name}: intent {block['intent']} has lang {lang!r}"
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    languages.setdefault(_ANNOTATION.sub(r"\1", line.strip()[2:]).strip(), lang)
    return languages


def macro_f1(pairs: list[tuple[str, str | None]]) -> float:
    """Macro-averaged F1 over the gold labels of ``(gold, predicted)`` pairs."""
    scores = []
    for label in {gold for gold, _ in pairs}:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def f1_by_language(report_dir: Path) -> dict[str, Any]:
    """Overall and per-language intent macro-F1 from rasa's per-example CV predictions."""
    languages = nlu_languages()
    by_language: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    everything: list[tuple[str, str | None]] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = report_dir / name
        for row in json.loads(path.read_text(encoding="utf-8")) if path.exists() else []:
            pair = (row["intent"], (row.get("intent_prediction") or {}).get("name"))
            everything.append(pair)
            by_language[languages.get(row["text"].strip(), "unknown")].append(pair)
    return {
        "examples": len(everything),
        "overall": round(macro_f1(everything), 4),
        **{lang: round(macro_f1(pairs), 4) for lang, pairs in sorted(by_language.items())},
        "accuracy": {
            lang: round(sum(g == p for g, p in pairs) / len(pairs), 4) for lang, pairs in sorted(by_language.items())
        },
    }


def test_macro_f1_counts_every_label() -> None:
    assert macro_f1([("a", "a"), ("b", "b")]) == 1.0
    assert macro_f1([("a", "a"), ("a", "b"), ("b", "b")]) == pytest.approx((2 / 3 + 2 / 3) / 2)


@pytest.mark.slow
@pytest.mark.quality
def test_cross_validated_intent_f1_overall_and_per_language() -> None:
    out = RESULTS / "nlu"
    result = rasa(
        "test", "nlu", "--nlu", "nlu", "--config", "config.yml", "--cross-validation", "--folds", "5",
        "--out", str(out), "--successes", seeded=True,
    )  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    scores = f1_by_language(out)
    (out / "f1_by_language.json").write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
    nlu_report.write(out)  # report.md: per intent and language, most-confused pairs, the confusion matrix
    assert scores["examples"] > 0
    assert "unknown" not in scores, "some predictions could not be matched to an NLU example"
    failing = {lang: scores.get(lang, 0.0) for lang in LANGUAGES if scores.get(lang, 0.0) < F1_PER_LANGUAGE}
    assert scores["overall"] >= F1_OVERALL and not failing, f"intent macro-F1 below the bar: {scores}"


@pytest.mark.slow
def test_conversations_pass_end_to_end(tmp_path: Path) -> None:
    trained = rasa(
        "train", "--data", "nlu", "stories", "--config", "config.yml", "--domain", "domain.yml",
        "--out", str(tmp_path), "--fixed-model-name", "quality",
    )  # fmt: skip
    assert trained.returncode == 0, (trained.stdout + trained.stderr)[-3000:]
    # No action server: Rasa only predicts the actions here, it does not run them.
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("action_endpoint:\n  url: http://127.0.0.1:9/webhook\n", encoding="utf-8")
    out = RESULTS / "core"
    result = rasa(
        "test", "core", "--stories", "tests/conversations", "--model", str(tmp_path / "quality.tar.gz"),
        "--endpoints", str(endpoints), "--out", str(out), "--e2e", "--fail-on-prediction-errors", "--no-plot",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert re.search(r"Correct:\s+(\d+) / \1\b", output), output[-2000:]


# ------------------------------------------------------------------ bad input, through a real Rasa


async def _say(session: aiohttp.ClientSession, rasa_url: str, sender: str, text: str, lang: str = "hi") -> list[Any]:
    body = {"sender": sender, "message": text, "metadata": {"channel": "webchat", "language": lang}}
    async with session.post(f"{rasa_url}/webhooks/rest/webhook", json=body) as response:
        assert response.status == 200, await response.text()
        replies: list[Any] = await response.json()
        return replies


def _texts(replies: list[Any]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


_DEVANAGARI = re.compile(r"[\u0900-\u097F]")


@pytest.mark.rasa
async def test_bad_input_gets_an_answer_in_the_voters_language(rasa_stack: dict[str, str]) -> None:
    url = rasa_stack["rasa_url"]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for i, text in enumerate(["", "   ", "🙏🙏🙏", "मेरा बूथ कहाँ है please batao " * 130, "booth कहाँ है mera"]):
            replies = await _say(session, url, f"web:bad-{i}", text)
            assert replies, f"no answer to {text[:40]!r}"
            assert _DEVANAGARI.search(_texts(replies)), f"answer to {text[:40]!r} is not in Hindi"

        # An EPIC number with Devanagari digits, in Hindi.
        await _say(session, url, "web:epic-hi", "मेरा पोलिंग बूथ कहाँ है")
        replies = await _say(session, url, "web:epic-hi", "xyz७६५४३२१")
        assert "प्राथमिक विद्यालय चेतगंज" in _texts(replies)

        # A PIN code with a space, in English.
        await _say(session, url, "web:pin-en", "where is my polling booth", "en")
        replies = await _say(session, url, "web:pin-en", "800 001", "en")
        assert "800001" in _texts(replies) and "Government Middle School Kadamkuan" in _texts(replies)

        # Asking for a person: the hand-off signal the gateway acts on.
        replies = await _say(session, url, "web:human", "I want to talk to a human", "en")
        handoff = [r["custom"]["handoff"] for r in replies if "handoff" in (r.get("custom") or {})]
        assert handoff and handoff[0]["reason"] == "ask_human" and handoff[0]["language"] == "en"

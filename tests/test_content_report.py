"""The cross-validation report: F1 per intent and per language from Rasa's predictions, the most-confused
pairs, and report.md with the confusion matrix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.content.report import build, macro_f1, table, write
from tests.test_content_lint import NLU


@pytest.fixture
def cv(tmp_path: Path) -> Path:
    """A content tree with tests/test_content_lint's NLU, and Rasa's output for it in results/nlu."""
    (tmp_path / "nlu").mkdir()
    (tmp_path / "nlu" / "main.yml").write_text(NLU, encoding="utf-8")
    out = tmp_path / "results" / "nlu"
    out.mkdir(parents=True)

    def row(text: str, gold: str, predicted: str) -> dict[str, object]:
        return {"text": text, "intent": gold, "intent_prediction": {"name": predicted, "confidence": 0.6}}

    right = [
        row("hello", "greet", "greet"),
        row("नमस्ते", "greet", "greet"),
        row("प्रणाम जी", "greet", "greet"),
        row("namaste ji", "greet", "greet"),
        row("where is my polling booth", "find_booth", "find_booth"),
        row("booth for pin 800001", "find_booth", "find_booth"),  # annotated in the NLU file
        row("मेरा बूथ कहाँ है", "find_booth", "find_booth"),
        row("पड़ोस में बूथ कहां है", "find_booth", "find_booth"),
        row("mera booth kaha hai", "find_booth", "find_booth"),
    ]
    wrong = [
        row("hi there", "greet", "find_booth"),
        row("kaise ho", "greet", "find_booth"),
        row("booth kidhar hai", "find_booth", "greet"),
    ]
    (out / "intent_successes.json").write_text(json.dumps(right, ensure_ascii=False), encoding="utf-8")
    (out / "intent_errors.json").write_text(json.dumps(wrong, ensure_ascii=False), encoding="utf-8")
    return tmp_path


def test_f1_per_intent_and_per_language(cv: Path) -> None:
    report = build(cv / "results" / "nlu", cv)
    assert report.examples == 12
    # greet: tp 4, fp 1, fn 2 -> 8/11; find_booth: tp 5, fp 2, fn 1 -> 10/13
    assert report.by_intent["greet"]["all"] == pytest.approx(8 / 11)
    assert report.by_intent["find_booth"]["all"] == pytest.approx(10 / 13)
    assert report.overall == pytest.approx((8 / 11 + 10 / 13) / 2)
    # English: greet tp1 fn1 -> 2/3, find_booth tp2 fp1 -> 4/5.  Hindi: all right.  Hinglish: each tp1 fp1 fn1.
    assert report.by_language == pytest.approx({"en": (2 / 3 + 4 / 5) / 2, "hi": 1.0, "hinglish": 0.5})
    assert report.by_intent["greet"]["hinglish"] == pytest.approx(0.5)
    assert report.by_intent["greet"]["en"] == pytest.approx(2 / 3)
    assert report.support == {"greet": 6, "find_booth": 6}


def test_most_confused_pairs_with_an_example(cv: Path) -> None:
    report = build(cv / "results" / "nlu", cv)
    assert [(pair, n) for pair, n, _ in report.confused] == [(("greet", "find_booth"), 2), (("find_booth", "greet"), 1)]
    assert report.confused[1][2] == "booth kidhar hai"
    text = table(report)
    assert "greet -> find_booth  2x" in text and "overall 0.748" in text


def test_report_md_links_the_confusion_matrix_when_rasa_drew_it(cv: Path) -> None:
    out = cv / "results" / "nlu"
    assert "No image" in (write(out, cv), (out / "report.md").read_text(encoding="utf-8"))[1]
    (out / "intent_confusion_matrix.png").write_bytes(b"\x89PNG\r\n")
    write(out, cv)
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "![intent confusion matrix](intent_confusion_matrix.png)" in md
    assert "| find_booth | greet | 1 | booth kidhar hai |" in md
    assert "| hi | 1.000 |" in md


def test_macro_f1_counts_every_gold_label() -> None:
    assert macro_f1([("a", "a"), ("b", "b")]) == 1.0
    assert macro_f1([("a", "a"), ("a", "b"), ("b", "b")]) == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_the_command_says_when_there_are_no_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "report", str(tmp_path)]) == 1
    assert "run `make test-content`" in capsys.readouterr().err

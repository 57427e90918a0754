"""The NLU report of ``make test-content``: per-intent and per-language F1, and the most-confused pairs.

Reads what ``rasa test nlu --cross-validation --successes`` writes (``intent_successes.json``,
``intent_errors.json``, ``intent_confusion_matrix.png``) and the ``metadata.lang`` of every NLU
example, prints a table and writes ``report.md`` next to them.
``python -m bot content report [results/nlu]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.content.sources import LANGS, load
from bot.content.text import strip_annotations
from bot.settings import ROOT

MOST_CONFUSED = 10
Pair = tuple[str, str]  # (gold intent, predicted intent)


@dataclass(frozen=True)
class Prediction:
    text: str
    gold: str
    predicted: str
    confidence: float
    lang: str


def example_languages(root: Path = ROOT) -> dict[str, str]:
    """Every NLU example's text (annotations removed) -> its block's ``metadata.lang``."""
    languages: dict[str, str] = {}
    for example in load(root).examples:
        if example.lang:
            languages.setdefault(strip_annotations(example.text).strip(), example.lang)
    return languages


def read_predictions(report_dir: Path, languages: dict[str, str]) -> list[Prediction]:
    predictions = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = report_dir / name
        for row in json.loads(path.read_text(encoding="utf-8")) if path.exists() else []:
            predicted = row.get("intent_prediction") or {}
            predictions.append(
                Prediction(
                    text=row["text"],
                    gold=row["intent"],
                    predicted=str(predicted.get("name")),
                    confidence=float(predicted.get("confidence") or 0.0),
                    lang=languages.get(row["text"].strip(), "unknown"),
                )
            )
    return predictions


def f1_per_label(pairs: list[Pair]) -> dict[str, float]:
    """F1 of every gold label among ``(gold, predicted)`` pairs."""
    scores = {}
    for label in {gold for gold, _ in pairs}:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        scores[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return scores


def macro_f1(pairs: list[Pair]) -> float:
    scores = f1_per_label(pairs)
    return sum(scores.values()) / len(scores) if scores else 0.0


@dataclass
class Report:
    examples: int
    overall: float
    by_language: dict[str, float]
    by_intent: dict[str, dict[str, float]]  # intent -> {"all": f1, lang: f1}
    support: dict[str, int]
    confused: list[tuple[Pair, int, str]]  # (gold, predicted), count, an example text
    confusion_image: Path | None


def build(report_dir: Path, root: Path = ROOT) -> Report:
    predictions = read_predictions(report_dir, example_languages(root))
    everything = [(p.gold, p.predicted) for p in predictions]
    by_lang: dict[str, list[Pair]] = defaultdict(list)
    for p in predictions:
        by_lang[p.lang].append((p.gold, p.predicted))
    by_intent: dict[str, dict[str, float]] = defaultdict(dict)
    for intent, f1 in f1_per_label(everything).items():
        by_intent[intent]["all"] = f1
    for lang, pairs in by_lang.items():
        for intent, f1 in f1_per_label(pairs).items():
            by_intent[intent][lang] = f1
    errors = Counter((p.gold, p.predicted) for p in predictions if p.gold != p.predicted)
    sample = {(p.gold, p.predicted): p.text for p in predictions if p.gold != p.predicted}
    image = report_dir / "intent_confusion_matrix.png"
    return Report(
        examples=len(predictions),
        overall=macro_f1(everything),
        by_language={lang: macro_f1(by_lang[lang]) for lang in [*LANGS, "unknown"] if by_lang.get(lang)},
        by_intent=dict(by_intent),
        support=dict(Counter(p.gold for p in predictions)),
        confused=[(pair, n, sample[pair]) for pair, n in errors.most_common(MOST_CONFUSED)],
        confusion_image=image if image.exists() else None,
    )


def _f1(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(report: Report) -> str:
    """Plain text for the terminal: worst intents first."""
    languages = [lang for lang in report.by_language if lang != "unknown"]
    lines = [
        f"Intent F1, {report.examples} cross-validated examples: overall {report.overall:.3f}; "
        + ", ".join(f"{lang} {f1:.3f}" for lang, f1 in report.by_language.items()),
        "",
        f"{'intent':<24}{'n':>6}{'all':>8}" + "".join(f"{lang:>10}" for lang in languages),
    ]
    for intent, scores in sorted(report.by_intent.items(), key=lambda item: (item[1]["all"], item[0])):
        lines.append(
            f"{intent:<24}{report.support.get(intent, 0):>6}{_f1(scores['all']):>8}"
            + "".join(f"{_f1(scores.get(lang)):>10}" for lang in languages)
        )
    lines += ["", "Most confused (true -> predicted, times, e.g.):"]
    lines += [f"  {gold} -> {predicted}  {n}x  e.g. {text!r}" for (gold, predicted), n, text in report.confused]
    if not report.confused:
        lines.append("  none")
    return "\n".join(lines)


def markdown(report: Report) -> str:
    languages = [lang for lang in report.by_language if lang != "unknown"]
    lines = [
        "# NLU cross-validation report",
        "",
        f"{report.examples} examples, intent macro-F1 **{report.overall:.3f}** overall.",
        "",
        "| language | macro-F1 |",
        "|---|---|",
        *[f"| {lang} | {f1:.3f} |" for lang, f1 in report.by_language.items()],
        "",
        "## Per intent (worst first)",
        "",
        "| intent | examples | F1 | " + " | ".join(languages) + " |",
        "|---|---|---|" + "---|" * len(languages),
    ]
    for intent, scores in sorted(report.by_intent.items(), key=lambda item: (item[1]["all"], item[0])):
        cells = " | ".join(_f1(scores.get(lang)) for lang in languages)
        lines.append(f"| {intent} | {report.support.get(intent, 0)} | {_f1(scores['all'])} | {cells} |")
    lines += ["", "## Most confused pairs", "", "| true intent | predicted | times | for example |"]
    lines.append("|---|---|---|---|")
    lines += [f"| {g} | {p} | {n} | {text.replace('|', '/')} |" for (g, p), n, text in report.confused]
    lines += ["", "## Confusion matrix", ""]
    if report.confusion_image:
        lines.append(f"![intent confusion matrix]({report.confusion_image.name})")
    else:
        lines.append("No image: Rasa ran with `--no-plot`.")
    lines += ["", "Every misclassified example: `intent_errors.json`. How to act on this: docs/content.md."]
    return "\n".join(lines) + "\n"


def write(report_dir: Path, root: Path = ROOT) -> Report:
    """Build the report from ``report_dir`` and write ``report.md`` there."""
    report = build(report_dir, root)
    (report_dir / "report.md").write_text(markdown(report), encoding="utf-8")
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m bot content report`."""
    parser.add_argument("report_dir", type=Path, nargs="?", default=ROOT / "results" / "nlu")


def run(args: argparse.Namespace) -> int:
    if (
        not (args.report_dir / "intent_errors.json").exists()
        and not (args.report_dir / "intent_successes.json").exists()
    ):
        print(f"no cross-validation results in {args.report_dir}: run `make test-content`", file=sys.stderr)
        return 1
    report = write(args.report_dir)
    print(table(report))
    print(f"\nReport: {args.report_dir / 'report.md'}")
    if report.confusion_image:
        print(f"Confusion matrix: {report.confusion_image}")
    return 0


"""NLU speed of the current model against an older commit's, side by side in one process.

    .venv/bin/python -m benchmarks.nlu_speed [--baseline REF] [--rounds 5] [--model models/X.tar.gz]

- `current`: the model `make train` built (models/, the newest), NLU and dialogue;
- with `--baseline REF` (default 533db86, the pipeline and data before issue 16), `nlu-REF`: the NLU model
  of that commit's config.yml, nlu/ and rasa_ext/, trained once from a git worktree and cached under
  results/bench/nlu/ (about a minute).

Both are loaded into one Rasa process (benchmarks/nlu_speed_worker.py; this checkout's rasa_ext/ is
importable) and parse the same messages (the held-out sets of tests/data/ and the benchmark's
conversation mix), interleaved round by round.
Prints parses/s per round with the median, the ratio, the model file sizes and Rasa's memory; writes
results/bench/nlu_speed.json.  Noisy machines: compare the two rows of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from benchmarks.messages import SCRIPTS
from benchmarks.training import RASA, rasa_env
from bot.settings import ROOT

CACHE = ROOT / "results" / "bench" / "nlu"
DEFAULT_BASELINE = "533db86"
WORKER = Path(__file__).resolve().parent / "nlu_speed_worker.py"


def messages() -> list[str]:
    texts: list[str] = [m for script in SCRIPTS for m in script.messages]
    for path in sorted((ROOT / "tests" / "data").glob("heldout_*.yml")):
        for by_language in yaml.safe_load(path.read_text(encoding="utf-8")).values():
            if isinstance(by_language, dict):
                texts += [t for group in by_language.values() for t in group]
            else:
                texts += list(by_language)
    return texts


def current_model() -> Path:
    models = sorted((ROOT / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        sys.exit("no trained model in models/: run `make train` first")
    return models[-1]


def baseline_model(ref: str) -> Path:
    """The NLU model of `ref`, trained from a worktree of that commit once and cached by its sha."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if sha.returncode != 0:
        sys.exit(f"--baseline {ref}: not a commit of this repository")
    name = f"nlu-{sha.stdout.strip()[:12]}"
    model = CACHE / f"{name}.tar.gz"
    if model.exists():
        return model
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tree:
        subprocess.run(["git", "worktree", "add", "--detach", tree, sha.stdout.strip()], cwd=ROOT, check=True)
        try:
            log = CACHE / f"train-{name}.log"
            with log.open("wb") as out:
                done = subprocess.run(
                    [str(RASA), "train", "nlu", "--nlu", "nlu", "--config", "config.yml", "--out", str(CACHE),
                     "--fixed-model-name", name],
                    cwd=tree, env=rasa_env(), stdout=out, stderr=subprocess.STDOUT, check=False,
                )  # fmt: skip
            if done.returncode != 0:
                sys.exit(f"training the NLU model of {ref} failed; see {log}")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=ROOT, check=False)
    return model


def run(args: argparse.Namespace) -> dict[str, Any]:
    models = [("current", args.model or current_model())]
    if args.baseline:
        models.append((f"nlu-{args.baseline}", baseline_model(args.baseline)))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as file:
        json.dump(messages(), file, ensure_ascii=False)
    try:
        done = subprocess.run(
            [str(RASA.with_name("python")), str(WORKER), file.name, *[f"{n}={p}" for n, p in models],
             "--rounds", str(args.rounds)],
            cwd=ROOT, env={**rasa_env(), "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        Path(file.name).unlink()
    if done.returncode != 0:
        sys.exit(f"the NLU speed worker failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    for figures in result["models"].values():
        figures["median_parses_per_s"] = statistics.median(figures["parses_per_s"])
    return result


def report(result: dict[str, Any]) -> str:
    lines = [f"nlu-speed: {result['messages']} messages x {result['rounds']} rounds, one process, interleaved"]
    for name, figures in result["models"].items():
        rounds = ", ".join(f"{v:.0f}" for v in figures["parses_per_s"])
        lines.append(
            f"  {name:22s} {figures['median_parses_per_s']:6.0f} parses/s median ({rounds})  "
            f"model {figures['file_mb']:.1f} MB  RSS after load {figures['rss_after_load_mb']} MB"
        )
    medians = [f["median_parses_per_s"] for f in result["models"].values()]
    if len(medians) == 2:
        lines.append(f"  ratio current / baseline: {medians[0] / medians[1]:.2f}")
    lines.append(f"  Rasa process peak RSS: {result['peak_rss_mb']} MB")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", metavar="REF", default=DEFAULT_BASELINE, help="older commit ('' for none)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", type=Path, help="the current model (default: the newest in models/)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    result = run(parse_args(argv))
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE.parent / "nlu_speed.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(report(result))


if __name__ == "__main__":
    main()

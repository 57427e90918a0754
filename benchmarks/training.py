"""Models and cross-validated intent F1 for each side, cached by a hash of the data and the config.

Training stock Rasa (DIET + TED) takes minutes and its cross-validation much longer, so both
are kept under results/bench/ and reused while the data and the config are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from bot.settings import ROOT

RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
CACHE = ROOT / "results" / "bench"
# What `rasa init` writes, in the installed package; STOCK_CONFIG is that file with Rasa's default policies
# written out and one setting the project's stories need (see its header).
STOCK_INIT_CONFIG = ROOT / ".venv-rasa" / "lib" / "python3.10" / "site-packages" / "rasa" / "cli" / "initial_project"
STOCK_INIT_CONFIG = STOCK_INIT_CONFIG / "config.yml"
STOCK_CONFIG = Path(__file__).resolve().parent / "stock_config.yml"
PROJECT_CONFIG = ROOT / "config.yml"

# Rasa shuffles cross-validation folds with numpy's global random state: seed 0 gives both sides the same folds
# (the same trick as tests/test_assistant_quality.py).
_SEEDED_RASA = (
    "import sys, numpy; numpy.random.seed(0); "
    "from rasa.__main__ import main; sys.argv = ['rasa', *sys.argv[1:]]; main()"
)


def data_files() -> list[Path]:
    return [ROOT / "domain.yml", *sorted((ROOT / "nlu").glob("*.yml")), *sorted((ROOT / "stories").glob("*.yml"))]


def inputs_hash(config: Path) -> str:
    digest = hashlib.sha256(config.read_bytes())
    for path in data_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def _config_copy(config: Path, name: str, cache: Path) -> Path:
    """A copy to train with: Rasa writes its auto-filled defaults back into a config with empty sections."""
    copy = cache / "configs" / f"{name}.yml"
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config, copy)
    return copy


def _run_rasa(args: list[str], log: Path, *, seeded: bool = False, timeout: float = 7200) -> None:
    command = [str(RASA.with_name("python")), "-c", _SEEDED_RASA, *args] if seeded else [str(RASA), *args]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        result = subprocess.run(
            command, cwd=ROOT, env=rasa_env(), stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"rasa {args[0]} failed ({result.returncode}); see {log}\n{tail}")


def ensure_model(side: str, config: Path, cache: Path = CACHE, *, allow_stale: bool = False) -> tuple[Path, str]:
    """The trained model of `side` for this config and data; trains it when missing.

    With `allow_stale`, the newest cached model of the side is used even if the data changed since
    (training stock Rasa takes most of an hour on 2 busy cores). Returns the path and a note.
    """
    name = f"{side}-{inputs_hash(config)}"
    model = cache / "models" / f"{name}.tar.gz"
    if model.exists():
        return model, "cached"
    older = sorted((cache / "models").glob(f"{side}-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if allow_stale and older:
        return older[-1], f"stale: trained on older data (current inputs hash {inputs_hash(config)})"
    started = time.monotonic()
    args = [
        "train",
        "--data",
        "nlu",
        "stories",
        "--config",
        str(_config_copy(config, name, cache)),
        "--domain",
        "domain.yml",
    ]
    args += ["--out", str(model.parent), "--fixed-model-name", name]
    _run_rasa(args, cache / "logs" / f"train-{name}.log")
    return model, f"trained in {time.monotonic() - started:.0f} s"


def cross_validated_f1(side: str, config: Path, cache: Path = CACHE) -> dict[str, Any]:
    """Intent macro-F1 (overall and per language) by seeded 5-fold cross-validation; cached."""
    from tests.test_assistant_quality import f1_by_language

    name = f"{side}-{inputs_hash(config)}"
    cached = cache / "f1" / f"{name}.json"
    if cached.exists():
        return {**json.loads(cached.read_text()), "cached": True}
    out = cache / "cv" / name
    started = time.monotonic()
    args = ["test", "nlu", "--nlu", "nlu", "--config", str(_config_copy(config, name, cache))]
    args += ["--cross-validation", "--folds", "5"]
    args += ["--out", str(out), "--successes", "--no-plot"]
    _run_rasa(args, cache / "logs" / f"cv-{name}.log", seeded=True)
    scores = {**f1_by_language(out), "method": "5-fold cross-validation, numpy seed 0", "model": name}
    scores["seconds"] = round(time.monotonic() - started, 1)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(scores, indent=2) + "\n")
    return {**scores, "cached": False}


def holdout_f1(side: str, config: Path, cache: Path = CACHE) -> dict[str, Any]:
    """Intent macro-F1 on one seeded, stratified 80/20 split (the same split for every config); cached.

    One fold instead of five: stock Rasa's DIET trains for 100 epochs, and five of those do not fit
    in a benchmark run on 2 shared cores. Both sides get the same split, so their scores compare.
    """
    from tests.test_assistant_quality import f1_by_language

    name = f"{side}-{inputs_hash(config)}"
    cached = cache / "f1" / f"{name}-holdout.json"
    if cached.exists():
        return {**json.loads(cached.read_text()), "cached": True}
    split = cache / "split" / inputs_hash(PROJECT_CONFIG)  # the data's hash; the split does not depend on config
    if not (split / "test_data.yml").exists():
        _run_rasa(["data", "split", "nlu", "--nlu", "nlu", "--training-fraction", "0.8", "--random-seed", "0",
                   "--out", str(split)], cache / "logs" / "split.log")  # fmt: skip
    started = time.monotonic()
    models = cache / "holdout-models"
    args = [
        "train",
        "nlu",
        "--nlu",
        str(split / "training_data.yml"),
        "--config",
        str(_config_copy(config, name, cache)),
    ]
    args += ["--out", str(models), "--fixed-model-name", name]
    _run_rasa(args, cache / "logs" / f"holdout-train-{name}.log")
    out = cache / "holdout" / name
    args = ["test", "nlu", "--nlu", str(split / "test_data.yml"), "--model", str(models / f"{name}.tar.gz")]
    args += ["--out", str(out), "--successes", "--no-plot"]
    _run_rasa(args, cache / "logs" / f"holdout-test-{name}.log")
    scores = {**f1_by_language(out), "method": "holdout 80/20, seed 0", "split": split.name, "model": name}
    scores["seconds"] = round(time.monotonic() - started, 1)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(scores, indent=2) + "\n")
    return {**scores, "cached": False}


def cached_f1(
    side: str, config: Path, method: str = "cv", cache: Path = CACHE, *, allow_stale: bool = False
) -> dict[str, Any] | None:
    """The cached F1 for this config and data; with `allow_stale`, the newest one of the side otherwise."""
    suffix = "" if method == "cv" else "-holdout"
    cached = cache / "f1" / f"{side}-{inputs_hash(config)}{suffix}.json"
    if cached.exists():
        return {**json.loads(cached.read_text()), "cached": True}
    pattern = f"{side}-{'?' * 16}{suffix}.json"
    older = sorted((cache / "f1").glob(pattern), key=lambda p: p.stat().st_mtime)
    if allow_stale and older:
        return {**json.loads(older[-1].read_text()), "cached": True, "stale": older[-1].name}
    return None

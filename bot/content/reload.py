"""``make reload``: load the newest trained model into the running Rasa server, without a restart.

``python -m bot content reload [--model FILE]``.  Rasa's ``PUT /model`` swaps the model in place;
conversations carry on, because their trackers live in Redis, not in the model.  The server is
``SAMVAD_RASA_URL`` with ``SAMVAD_RASA_TOKEN`` (bot/settings.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tarfile
from pathlib import Path
from typing import Any

import aiohttp

from bot.errors import RasaUnavailable
from bot.rasa_client import RasaClient
from bot.settings import ROOT
from bot.settings import load as load_settings

# Loading a model takes seconds to a minute on a busy machine.
LOAD_TIMEOUT_S = 300.0
AGREEING = 8  # fresh connections in a row that must report the new model: with 2 workers, 1 in 256 to miss one


def newest_model(models_dir: Path = ROOT / "models") -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no trained model in {models_dir}: run `make train`")
    return models[-1]


def model_id(model: Path) -> str:
    """The id Rasa gave the model when it trained it (its archive's metadata.json); Rasa's /status reports it."""
    with tarfile.open(model, "r:gz") as archive:
        for member in archive.getmembers():
            if member.name.lstrip("/") == "metadata.json":
                handle = archive.extractfile(member)
                if handle is not None:
                    return str(json.load(handle)["model_id"])
    raise ValueError(f"{model} is not a Rasa model (no metadata.json)")


async def reload_model(
    rasa_url: str, token: str, model: Path, timeout_s: float = LOAD_TIMEOUT_S, attempts: int = 60
) -> dict[str, Any]:
    """Load ``model`` into every worker of the Rasa server at ``rasa_url``; Rasa's status afterwards.

    Rasa runs several Sanic worker processes on one port (bot/devstack.py), each with its own copy
    of the model, and ``PUT /model`` reaches only the worker that accepts the connection. So: on a
    fresh connection each round, ask for the status and, on the same connection, load the model
    where it is still the old one; stop once ``AGREEING`` fresh connections in a row report it.
    """
    wanted = model_id(model)
    agreeing, status = 0, {}
    for _ in range(attempts):
        # One new connection per round, kept alive within it: the status and the load reach the same worker.
        async with aiohttp.ClientSession() as session:
            client = RasaClient(session, rasa_url, token, timeout_s)
            status = await client.status()
            if status.get("model_id") == wanted and Path(str(status.get("model_file", ""))).name == model.name:
                agreeing += 1
                if agreeing >= AGREEING:
                    return status
                continue
            agreeing = 0
            await client.load_model(str(model.resolve()))
    raise RasaUnavailable(
        f"Rasa still reports {status.get('model_file')!r} ({status.get('model_id')}) after loading {model} ({wanted})"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m bot content reload`."""
    parser.add_argument("--model", type=Path, help="model file (default: the newest in models/)")


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    try:
        model = args.model or newest_model()
        status = asyncio.run(reload_model(settings.rasa_url, settings.rasa_token.get_secret_value(), model))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except RasaUnavailable as exc:
        print(
            f"error: could not load the model into Rasa at {settings.rasa_url} ({exc}).\n"
            "Is it running (make demo), with the API enabled, and is SAMVAD_RASA_TOKEN its token?",
            file=sys.stderr,
        )
        return 1
    print(f"Rasa at {settings.rasa_url} now runs {status.get('model_file')} (model id {status.get('model_id')})")
    return 0


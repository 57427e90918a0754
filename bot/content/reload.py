"""``make reload``: load the newest trained model into the running Rasa server, without a restart.

``python -m bot.content.reload [--model FILE]``.  Rasa's ``PUT /model`` swaps the model in place;
conversations carry on, because their trackers live in Redis, not in the model.  The server is
``SAMVAD_RASA_URL`` with ``SAMVAD_RASA_TOKEN`` (bot/settings.py).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import aiohttp

from bot.errors import RasaUnavailable
from bot.rasa_client import RasaClient
from bot.settings import ROOT, Settings

# Loading a model takes seconds to a minute on a busy machine.
LOAD_TIMEOUT_S = 300.0


def newest_model(models_dir: Path = ROOT / "models") -> Path:
    models = sorted(models_dir.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no trained model in {models_dir}: run `make train`")
    return models[-1]


async def reload_model(rasa_url: str, token: str, model: Path, timeout_s: float = LOAD_TIMEOUT_S) -> dict[str, Any]:
    """Load ``model`` into the Rasa server at ``rasa_url``; Rasa's status afterwards."""
    async with aiohttp.ClientSession() as session:
        client = RasaClient(session, rasa_url, token, timeout_s)
        status = await client.load_model(str(model.resolve()))
    if Path(str(status.get("model_file", ""))).name != model.name:
        raise RasaUnavailable(f"Rasa reports model {status.get('model_file')!r} after loading {model}")
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.content.reload", description="Load a model into Rasa.")
    parser.add_argument("--model", type=Path, help="model file (default: the newest in models/)")
    args = parser.parse_args(argv)
    settings = Settings()
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


if __name__ == "__main__":
    sys.exit(main())

"""The action server, as Samvad runs it: rasa-sdk's app on loopback, refusing calls without the shared secret.

``python -m bot.actions.server`` (bot/devstack.py starts it). Settings: ``SAMVAD_ACTION_SERVER_HOST``
(default 127.0.0.1), ``SAMVAD_ACTION_SERVER_PORT`` and ``SAMVAD_ACTION_SERVER_TOKEN``, the secret Rasa sends
in the ``X-Samvad-Action-Token`` header (endpoints.yml, ``action_endpoint.headers``). ``/health`` stays open
for probes; every other path answers 401 without the right secret. Plain ``python -m rasa_sdk`` listens on
0.0.0.0 and trusts anyone: a forged call could erase a voter's data or read the roll (docs/security.md).
"""

from __future__ import annotations

import argparse
import hmac
import logging

from rasa_sdk.endpoint import create_app_for_serve
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic, response

from bot.settings import Settings

TOKEN_HEADER = "X-Samvad-Action-Token"
OPEN_PATHS = frozenset({"/health"})

log = logging.getLogger(__name__)


def guard(app: Sanic, token: str) -> Sanic:  # type: ignore[type-arg]
    """Make `app` refuse every request but a health probe unless it carries `token` in `TOKEN_HEADER`."""
    expected = token.encode()

    @app.on_request
    async def _require_token(request: Request) -> response.HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(TOKEN_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    return app


def create_app(token: str, *, actions: str = "bot.actions") -> Sanic:  # type: ignore[type-arg]
    """rasa-sdk's app with Samvad's actions, behind the token guard (no CORS: browsers never call it)."""
    executor = ActionExecutor()
    executor.register_package(actions)
    return guard(create_app_for_serve(executor, cors_origins=None), token)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.actions.server")
    parser.add_argument("--port", type=int, help="default: SAMVAD_ACTION_SERVER_PORT")
    args = parser.parse_args(argv)
    settings = Settings()
    if settings.action_server_token is None or not settings.action_server_token.get_secret_value():
        raise SystemExit("SAMVAD_ACTION_SERVER_TOKEN is not set: the action server refuses to run without a secret")
    token = settings.action_server_token.get_secret_value()
    host, port = settings.action_server_host, args.port or settings.action_server_port
    logging.basicConfig(level=settings.log_level.upper())
    log.info("action server on http://%s:%d (secret required)", host, port)
    create_app(token).run(host=host, port=port, single_process=True, motd=False, access_log=False)


if __name__ == "__main__":
    main()

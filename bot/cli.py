"""The one command line: `python -m bot serve | demo | agents | campaign | content | electoral`.

A bad setting stops every subcommand the same way: one line per problem, naming the variable, exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import signal
import sys
import time

import structlog
from aiohttp import web

from bot import electoral, logs
from bot.content import cli as content_cli
from bot.outreach import cli as outreach_cli
from bot.settings import DEFAULT_RASA_TOKEN, SettingsError
from bot.settings import load as load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Samvad voter-help gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the gateway (web chat, Telegram webhook or polling)")
    serve.add_argument("--polling", action="store_true", help="serve Telegram by long polling")
    sub.add_parser("demo", help="start Redis (if needed), Rasa, the action server and the gateway")
    _agents_parser(sub)
    outreach_cli.add_parser(sub)
    content_cli.add_parser(sub)
    places = sub.add_parser("electoral", help="electoral data: the NLU look-up tables").add_subparsers(
        dest="action", required=True
    )
    electoral.add_lookups_arguments(places.add_parser("lookups", help="write nlu/entities.yml's look-up tables"))
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"invalid setting: {problem}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return serve_gateway(polling=args.polling)
    if args.command == "agents":
        return asyncio.run(manage_agents(args))
    if args.command == "campaign":
        return outreach_cli.run(args)
    if args.command in ("review", "content"):
        return content_cli.run(args)
    if args.command == "electoral":
        return electoral.run_lookups(args)
    return run_demo()


def _agents_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    agents = sub.add_parser("agents", help="agent console accounts").add_subparsers(dest="action", required=True)
    add = agents.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("name")
    add.add_argument("--languages", default="hi,en", help="comma-separated: hi,en")
    add.add_argument("--role", choices=["agent", "supervisor"], default="agent")
    add.add_argument("--capacity", type=int, default=3, help="most chats at once")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    agents.add_parser("list", help="list accounts")
    for action in ("disable", "enable"):
        agents.add_parser(action).add_argument("name")
    reset = agents.add_parser("reset-password")
    reset.add_argument("name")
    reset.add_argument("--password-stdin", action="store_true")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise SystemExit("the two passwords differ")
    return first


async def manage_agents(args: argparse.Namespace) -> int:
    from bot import redis_client
    from bot.console.accounts import Accounts, Role

    settings = load_settings()
    redis = redis_client.connect(settings.redis_url, cluster=settings.redis_cluster)
    accounts = Accounts(redis)
    try:
        if args.action == "add":
            languages = [lang.strip() for lang in args.languages.split(",") if lang.strip()]
            if not languages or set(languages) - {"hi", "en"}:
                raise SystemExit("--languages takes hi, en or hi,en")
            password = _password(args.password_stdin)
            if len(password) < 10:
                raise SystemExit("the password needs at least 10 characters")
            await accounts.add(args.name, password, role=Role(args.role), languages=languages, capacity=args.capacity)
            print(f"added {args.role} {args.name} ({','.join(languages)})")
        elif args.action == "list":
            for agent in await accounts.all():
                state = "disabled" if agent.disabled else "active"
                print(
                    f"{agent.name}\t{agent.role.value}\t{','.join(agent.languages)}\tcapacity {agent.capacity}\t{state}"
                )
        elif args.action in ("disable", "enable"):
            await accounts.set_disabled(args.name, args.action == "disable")
            print(f"{args.name}: {args.action}d")
        elif args.action == "reset-password":
            await accounts.reset_password(args.name, _password(args.password_stdin))
            print(f"{args.name}: password changed")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
    return 0


def serve_gateway(*, polling: bool) -> int:
    from bot.app import create_app

    settings = load_settings()
    logs.configure(settings.log_level, settings.log_json)
    for warning in settings.warnings():
        structlog.get_logger(__name__).warning("unsafe setting", detail=warning)
    polling = polling or (settings.telegram_enabled and not settings.webhook_url)
    web.run_app(create_app(settings, telegram_polling=polling), host=settings.host, port=settings.port, print=None)
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run_demo() -> int:
    from bot.devstack import Stack, free_port, wait_for_http

    settings = load_settings()
    stack = Stack()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        redis_url = stack.redis_url()
        print(f"redis:   {redis_url}")
        actions = stack.start_actions(free_port(), redis_url)
        print(f"actions: {actions}")
        token = settings.rasa_token.get_secret_value()
        if token == DEFAULT_RASA_TOKEN:  # the demo's own Rasa: a fresh random token rather than the known default
            token = secrets.token_urlsafe(24)
        rasa = stack.start_rasa(free_port(), token, redis_url, actions, tracker_ttl_s=settings.transcript_ttl_s)
        print(f"rasa:    {rasa} (API on 127.0.0.1 only, token required)")
        env = {
            "REDIS_URL": redis_url,
            "SAMVAD_RASA_URL": rasa,
            "SAMVAD_RASA_TOKEN": token,
            "SAMVAD_RASA_TRACKER_REDIS_URL": stack.rasa_redis_url,
        }
        stack.spawn("gateway", [sys.executable, "-m", "bot", "serve"], env)
        gateway = f"http://{settings.host}:{settings.port}"
        wait_for_http(f"{gateway}/healthz", "gateway", 30, proc=stack.procs["gateway"])
        print(f"\nWeb chat:  {gateway}/chat")
        print(f"Console:   {gateway}/console  (accounts: .venv/bin/python -m bot agents add NAME --role agent)")
        if settings.telegram_enabled:
            print(
                "Telegram:  " + ("webhook at " + str(settings.webhook_url) if settings.webhook_url else "long polling")
            )
        if settings.whatsapp_enabled:
            print(f"WhatsApp:  webhook at {gateway}/whatsapp/webhook (behind your https address)")
        print(f"Logs:      {stack.log_dir}/\nPress Ctrl-C to stop.")
        while all(proc.poll() is None for proc in stack.procs.values()):
            time.sleep(0.5)
        dead = [name for name, proc in stack.procs.items() if proc.poll() is not None]
        print(f"stopped: {', '.join(dead)} exited; see {stack.log_dir}/", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        stack.stop_all()

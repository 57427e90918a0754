"""Security headers on every gateway response: what a browser may load, frame and send as referrer.

- The console may not be framed at all (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``).
- The web chat may be framed only by the gateway itself and the configured ``WEBCHAT_ORIGINS`` (campaign
  sites embed it): ``frame-ancestors`` lists them, and there is no ``X-Frame-Options``, which cannot.
- Both pages load scripts and styles from the gateway only, and no page sends a referrer (a web-chat
  URL or a console path is nobody else's business).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from bot.settings import Settings

BASE = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _socket_origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}".lower()


def policies(settings: Settings) -> dict[str, str]:
    """The Content-Security-Policy of the console, the web chat and everything else (JSON, metrics)."""
    sockets = " ".join(sorted({_socket_origin(settings.public_url)}))
    embedders = " ".join(["'self'", *sorted({_origin(o) for o in settings.webchat_origins})])
    return {
        # media-src: the voice notes and videos voters send, streamed to agents from the console's own API
        "console": (
            f"{BASE}; media-src 'self'; connect-src 'self' {sockets}; form-action 'self'; frame-ancestors 'none'"
        ),
        "webchat": f"{BASE}; connect-src 'self' {sockets}; form-action 'self'; frame-ancestors {embedders}",
        "other": "default-src 'none'; frame-ancestors 'none'",
    }


def security_headers(settings: Settings) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An ``on_response_prepare`` handler that sets the headers by path."""
    csp = policies(settings)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        path = request.path
        if path.startswith("/console"):
            headers.setdefault("Content-Security-Policy", csp["console"])
            headers.setdefault("X-Frame-Options", "DENY")
        elif path.startswith(("/chat", "/webchat")):
            headers.setdefault("Content-Security-Policy", csp["webchat"])
        else:
            headers.setdefault("Content-Security-Policy", csp["other"])
            headers.setdefault("X-Frame-Options", "DENY")

    return on_prepare

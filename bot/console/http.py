"""Small helpers every console view shares: JSON errors and reading a JSON object body."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def http_error(exc: type[web.HTTPException], message: str) -> web.HTTPException:
    return exc(text=json.dumps({"error": message}), content_type="application/json")


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says what is wrong."""
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep for the parser
        raise http_error(web.HTTPBadRequest, "body must be JSON") from None
    if not isinstance(body, dict):
        raise http_error(web.HTTPBadRequest, "body must be a JSON object")
    return body

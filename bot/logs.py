"""Structured logging with structlog; phone and EPIC numbers never leave unmasked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_DIGIT = "[0-9\u0966-\u096f]"
_PHONE = re.compile(
    rf"(?<![0-9\u0966-\u096f])(?:(?:\+|00)?91[\s-]?)?[6-9\u096c-\u096f](?:[\s-]?{_DIGIT}){{9}}(?!{_DIGIT})"
)
_EPIC = re.compile(rf"(?<![A-Za-z])[A-Za-z]{{3}}\s?(?:{_DIGIT}\s?){{6}}{_DIGIT}(?!{_DIGIT})")


def mask(text: str) -> str:
    """Hide all but the last two characters of phone and EPIC numbers in `text`."""
    text = _EPIC.sub(lambda m: "EPIC***" + m.group(0)[-2:], text)
    return _PHONE.sub(lambda m: "PHONE***" + m.group(0)[-2:], text)


def _mask_values(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _mask_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_values(v) for v in value)
    return value


def mask_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        event_dict[key] = _mask_values(value)
    return event_dict


def configure(level: str = "INFO", json: bool = False) -> None:
    """Route structlog and stdlib logging (aiohttp, PTB) through one masked renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared[1:]],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every Bot API URL, and the URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)

"""Labels on a chat: defined by supervisors in ``labels.yml``, put on and taken off by agents.

A chat's labels are a set in its own slot (``keys.labels``); closing the chat copies them into the close
record with its disposition (bot/console/closing.py), which the reports and search read.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, cast

import yaml
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError, field_validator
from redis.asyncio import Redis

from bot import keys
from bot.console.http import error, json_body

if TYPE_CHECKING:
    from bot.console.api import Console

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MAX_LABELS_PER_CHAT = 10


class LabelsFileError(ValueError):
    """labels.yml cannot be used; the message names the file and what is wrong."""


class Label(BaseModel):
    name: str
    hi: str = Field(min_length=1, max_length=60)
    en: str = Field(min_length=1, max_length=60)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.fullmatch(value):
            raise ValueError("use lower-case letters, digits and dashes (at most 40), like booth-problem")
        return value


class LabelsFile(BaseModel):
    labels: list[Label] = Field(min_length=1)


def load_labels(path: Path) -> list[Label]:
    """The labels in `path`, in file order.

    Raises:
        LabelsFileError: the file is missing, not YAML, or a label is malformed or repeated.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LabelsFileError(f"{path}: cannot read the labels file: {exc}") from None
    try:
        labels = LabelsFile.model_validate(raw).labels
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_url=False))
        raise LabelsFileError(f"{path}: {problems}") from None
    seen: set[str] = set()
    for label in labels:
        if label.name in seen:
            raise LabelsFileError(f"{path}: label {label.name!r} is defined twice")
        seen.add(label.name)
    return labels


class Labels:
    def __init__(self, redis: Redis, labels: list[Label]) -> None:
        self.redis = redis
        self.defined = {label.name: label for label in labels}

    async def of(self, conversation_id: str) -> list[str]:
        return sorted(cast(set[str], await self.redis.smembers(keys.labels(conversation_id))))

    async def put(self, conversation_id: str, name: str, on: bool) -> list[str]:
        if on:
            await self.redis.sadd(keys.labels(conversation_id), name)
        else:
            await self.redis.srem(keys.labels(conversation_id), name)
        return await self.of(conversation_id)

    async def clear(self, conversation_id: str) -> None:
        await self.redis.delete(keys.labels(conversation_id))


class LabelViews:
    def __init__(self, console: Console) -> None:
        self._console = console

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/console/api/labels", self.defined),
            web.post("/console/api/chats/{conv}/labels", self.put),
        ]

    async def defined(self, request: web.Request) -> web.Response:
        """GET: every label an agent may use, with its Hindi and English titles."""
        await self._console._agent(request)
        return web.json_response({"labels": [label.model_dump() for label in self._console.labels.defined.values()]})

    async def put(self, request: web.Request) -> web.Response:
        """POST {"label": name, "on": true|false}: put a label on the held chat, or take it off."""
        console = self._console
        assignment = await console._held(request, await console._agent(request))
        body = await json_body(request)
        name, on = body.get("label"), body.get("on", True)
        if not isinstance(name, str) or name not in console.labels.defined:
            return error(400, "unknown label; use one of " + ", ".join(console.labels.defined))
        if not isinstance(on, bool):
            return error(400, '"on" must be true or false')
        current = await console.labels.of(assignment.conversation_id)
        if on and name not in current and len(current) >= MAX_LABELS_PER_CHAT:
            return error(409, f"a chat has at most {MAX_LABELS_PER_CHAT} labels")
        return web.json_response({"labels": await console.labels.put(assignment.conversation_id, name, on)})

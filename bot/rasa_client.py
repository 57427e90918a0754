"""The one place that knows Rasa's HTTP API: the REST channel and the conversation API."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
from pydantic import ValidationError
from redis.asyncio import Redis

from bot import metrics
from bot.errors import RasaUnavailable
from bot.handoff import ERASE_KEY, HANDOFF_KEY, SET_LANGUAGE_KEY, HandoffSignal
from bot.models import AssistantReply, BotText, Button

TRACKER_KEY_PREFIX = "samvad:tracker:"  # endpoints.yml: tracker_store key_prefix "samvad"


class RasaClient:
    """Talks to one Rasa server over a pooled aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        timeout_s: float,
        *,
        tracker_store: Redis | None = None,
    ) -> None:
        self._session = session
        self._tracker_store = tracker_store
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, conversation_id: str, text: str, metadata: dict[str, Any]) -> AssistantReply:
        """Send one voter message through the REST channel; return the assistant's reply."""
        body = {"sender": conversation_id, "message": text, "metadata": metadata}
        started = time.perf_counter()
        replies = await self._request("POST", "/webhooks/rest/webhook", json=body)
        metrics.RASA_LATENCY.observe(time.perf_counter() - started)
        if not isinstance(replies, list):
            raise RasaUnavailable(f"unexpected REST reply: {type(replies).__name__}", conversation_id=conversation_id)
        return parse_reply(replies)

    async def active_form(self, conversation_id: str) -> str | None:
        """The form the conversation is in now (Rasa's active loop), or None."""
        tracker = await self._request(
            "GET", f"/conversations/{conversation_id}/tracker", params={"token": self._token, "include_events": "NONE"}
        )
        loop = tracker.get("active_loop") if isinstance(tracker, dict) else None
        name = loop.get("name") if isinstance(loop, dict) else None
        return str(name) if name else None

    async def resume(self, conversation_id: str) -> None:
        """Un-pause a conversation that a person handled (Rasa's `resume` event).

        A paused conversation never ran `action_listen`; without it the dialogue rules do not
        match the voter's next message, so it is appended here.
        """
        await self.append_events(conversation_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}])

    async def append_events(self, conversation_id: str, events: list[dict[str, Any]]) -> None:
        await self._request(
            "POST", f"/conversations/{conversation_id}/tracker/events", json=events, params={"token": self._token}
        )

    async def forget(self, conversation_id: str) -> None:
        """Erase Rasa's record of the conversation ("delete my data").

        Replacing the events with none works for every tracker store but Rasa's own Redis store,
        which merges the replacement with what it holds (the project's, rasa_ext/tracker_store.py,
        replaces); the key (``endpoints.yml``: ``samvad:tracker:<sender>``) is deleted as well, so
        that nothing of the conversation is left in Rasa's Redis.
        """
        await self._request(
            "PUT", f"/conversations/{conversation_id}/tracker/events", json=[], params={"token": self._token}
        )
        if self._tracker_store is not None:
            await self._tracker_store.delete(f"{TRACKER_KEY_PREFIX}{conversation_id}")

    async def user_intents(self, conversation_id: str) -> list[tuple[str, str]]:
        """(text, intent) of every voter message in Rasa's tracker, oldest first."""
        tracker = await self._request(
            "GET", f"/conversations/{conversation_id}/tracker", params={"token": self._token, "include_events": "ALL"}
        )
        events = tracker.get("events", []) if isinstance(tracker, dict) else []
        return [
            (str(e.get("text") or ""), str((e.get("parse_data") or {}).get("intent", {}).get("name") or ""))
            for e in events
            if e.get("event") == "user"
        ]

    async def load_model(self, model_file: str) -> dict[str, Any]:
        """Swap the running model for ``model_file`` (``PUT /model``) and return Rasa's status afterwards.

        Conversations go on: their trackers live in the tracker store, not in the model.
        """
        await self._request("PUT", "/model", json={"model_file": model_file}, params={"token": self._token})
        status = await self._request("GET", "/status", params={"token": self._token})
        return status if isinstance(status, dict) else {}

    async def status(self) -> dict[str, Any]:
        """Rasa's ``GET /status``: the loaded model's file and id, among others."""
        status = await self._request("GET", "/status", params={"token": self._token})
        return status if isinstance(status, dict) else {}

    async def ready(self) -> bool:
        """True when Rasa answers and has a model loaded."""
        try:
            status = await self._request("GET", "/status", params={"token": self._token})
        except RasaUnavailable:
            return False
        return bool(status.get("model_file")) if isinstance(status, dict) else False

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            with metrics.waiting_for_others():
                async with self._session.request(method, self._base + path, timeout=self._timeout, **kwargs) as resp:
                    if resp.status >= 400:
                        raise RasaUnavailable(f"{method} {path} answered {resp.status}")
                    body = await resp.read()
            return json.loads(body) if body.strip() else None  # PUT /model answers 204, no body
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise RasaUnavailable(f"{method} {path}: {exc.__class__.__name__}: {exc}") from exc


def parse_reply(messages: list[Any]) -> AssistantReply:
    """Rasa's REST channel messages as one typed reply; a signal that does not parse is logged and skipped."""
    reply = AssistantReply()
    for message in messages:
        if not isinstance(message, dict):
            continue
        custom = message.get("custom")
        if isinstance(custom, dict):
            if custom.get(SET_LANGUAGE_KEY) in ("hi", "en"):
                reply.set_language = str(custom[SET_LANGUAGE_KEY])
            if HANDOFF_KEY in custom:
                try:
                    reply.handoff = HandoffSignal.model_validate(custom[HANDOFF_KEY])
                    reply.handoff_notice = len(reply.texts) - 1 if reply.texts else None
                except ValidationError:
                    metrics.ERRORS.labels("rasa_signal").inc()
            reply.erase = reply.erase or custom.get(ERASE_KEY) is True
        text = message.get("text")
        if isinstance(text, str) and text:
            buttons = [
                Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
                for b in message.get("buttons") or []
                if isinstance(b, dict)
            ]
            reply.texts.append(BotText(text=text, buttons=buttons))
    return reply

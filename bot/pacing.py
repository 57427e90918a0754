"""Per-chat pacing: a short burst, then at most one message per interval to the same chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class ChatPacer:
    """A token bucket per chat. Telegram asks for about one message a second per chat."""

    def __init__(self, burst: int, interval_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._burst = burst
        self._interval = interval_s
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # chat -> (tokens, updated_at)

    def delay(self, chat_id: str) -> float:
        """Take a token for `chat_id`; return how long to wait before sending."""
        now = self._clock()
        if self._interval <= 0:
            return 0.0
        tokens, updated = self._buckets.get(chat_id, (float(self._burst), now))
        tokens = min(float(self._burst), tokens + (now - updated) / self._interval)
        wait = 0.0 if tokens >= 1 else (1 - tokens) * self._interval
        self._buckets[chat_id] = (tokens - 1, now)
        if len(self._buckets) > 50_000:
            self._forget_idle(now)
        return wait

    async def wait(self, chat_id: str) -> None:
        delay = self.delay(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def _forget_idle(self, now: float) -> None:
        full_after = self._burst * self._interval
        for chat_id, (_, updated) in list(self._buckets.items()):
            if now - updated > full_after:
                del self._buckets[chat_id]

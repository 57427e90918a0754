"""python-telegram-bot's HTTP requests made with aiohttp instead of httpx.

PTB calls `do_request` for every Bot API method; this class only moves the bytes. Measured
against PTB's own `HTTPXRequest` (docs/performance.md, "Gateway overhead"): the client's CPU per
`sendMessage` halves, which is most of what the gateway spends on a reply. Errors are PTB's own
(`TimedOut`, `NetworkError`), so callers handle them the same way with either client.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import metrics

DefaultInput = Any  # PTB's DEFAULT_NONE sentinel or a float or None


class AiohttpRequest(BaseRequest):
    """One pooled aiohttp session for all of a bot's Bot API calls."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._defaults = {
            "read": read_timeout,
            "connect": connect_timeout,
            "pool": pool_timeout,
        }
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _timeout(self, read: DefaultInput, connect: DefaultInput, pool: DefaultInput) -> aiohttp.ClientTimeout:
        def pick(value: DefaultInput, name: str) -> float | None:
            return self._defaults[name] if value is BaseRequest.DEFAULT_NONE else value

        # aiohttp has no pool or write timeout of its own: its `connect` covers waiting for a pooled
        # connection and opening one; `sock_read` is the wait for each piece of the answer.
        waits = [t for t in (pick(pool, "pool"), pick(connect, "connect")) if t is not None]
        return aiohttp.ClientTimeout(total=None, connect=sum(waits) if waits else None, sock_read=pick(read, "read"))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
        write_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
        connect_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
        pool_timeout: DefaultInput = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)
        body: Any = None
        if request_data is not None:
            body = _form(request_data) if request_data.contains_files else request_data.json_parameters
        try:
            with metrics.waiting_for_others():
                async with self._session.request(method, url, data=body, timeout=timeout) as response:
                    if response.status == 429:  # counted here: PTB's rate limiter retries most of them itself
                        metrics.THROTTLED.labels("telegram").inc()
                    return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut() from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


def _form(request_data: RequestData) -> aiohttp.FormData:
    """multipart/form-data for uploads: the plain parameters, then each file."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form

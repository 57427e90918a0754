"""An HTTP pass-through to a real server that a test can switch off, to cut the network path to Rasa."""

from __future__ import annotations

import aiohttp
from aiohttp import web


class SwitchProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.up = True
        self._session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._forward)
        app.on_cleanup.append(self._close)
        return app

    async def _forward(self, request: web.Request) -> web.Response:
        if not self.up:
            raise web.HTTPServiceUnavailable(text="upstream switched off by the test")
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            data=await request.read(),
            headers={"Content-Type": request.content_type},
        ) as resp:
            return web.Response(status=resp.status, body=await resp.read(), content_type=resp.content_type)

    async def _close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

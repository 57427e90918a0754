"""A TCP pass-through to Redis that can lose an answer: the command reaches Redis and runs, but the
client's connection is closed before the reply gets back, as when a network path or server breaks."""

from __future__ import annotations

import asyncio
import contextlib


class CuttingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        self.cuts_done = 0
        self._cut_on: bytes | None = None
        self._cuts_left = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def cut_after(self, marker: bytes, times: int = 1) -> None:
        """The next `times` client writes that contain `marker` are forwarded, and their answer lost."""
        self._cut_on, self._cuts_left = marker, times

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        back = asyncio.create_task(self._pipe(up_r, client_w))
        self._tasks.add(back)
        try:
            while chunk := await client_r.read(65536):
                cut = self._cut_on is not None and self._cuts_left > 0 and self._cut_on in chunk
                if cut:
                    self._cuts_left -= 1
                    back.cancel()  # Redis's answer to this command goes nowhere
                up_w.write(chunk)
                await up_w.drain()
                if cut:
                    await asyncio.wait_for(up_r.read(65536), 5)  # the command ran: Redis answered
                    self.cuts_done += 1
                    break
        finally:
            back.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await back
            self._tasks.discard(back)
            for writer in (client_w, up_w):
                writer.close()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()

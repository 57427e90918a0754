"""The aiohttp client under python-telegram-bot: the same requests as PTB's httpx client, PTB's errors."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels.telegram_http import AiohttpRequest
from bot.devstack import free_port

TOKEN = "4242:TEST-TOKEN"


async def _send_with(request: BaseRequest, api_url: str) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("हाँ, बताइए", callback_data="/affirm")]])
    async with Bot(TOKEN, base_url=f"{api_url}/bot", request=request) as bot:
        sent = await bot.send_message(chat_id=5550401, text="आपका मतदान केंद्र: 12", reply_markup=markup)
        assert sent.text == "आपका मतदान केंद्र: 12"


async def test_sends_what_ptbs_own_client_sends(telegram_api) -> None:
    fake, api_url = telegram_api
    await _send_with(HTTPXRequest(), api_url)
    await _send_with(AiohttpRequest(), api_url)
    httpx_call, aiohttp_call = [params for method, params in fake.calls if method == "sendMessage"]
    assert aiohttp_call == httpx_call
    assert aiohttp_call["reply_markup"] == {"inline_keyboard": [[{"text": "हाँ, बताइए", "callback_data": "/affirm"}]]}


async def test_unreachable_api_is_a_network_error() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp.ClientConnectorError"):
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/sendMessage")
    finally:
        await request.shutdown()


async def test_slow_answer_is_timed_out() -> None:
    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", slow)
    async with TestServer(app, host="127.0.0.1") as server:
        request = AiohttpRequest(read_timeout=0.2)
        await request.initialize()
        try:
            with pytest.raises(TimedOut):
                await request.post(str(server.make_url(f"/bot{TOKEN}/sendMessage")))
        finally:
            await request.shutdown()


async def test_refuses_to_send_before_initialize() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:9/botX/getMe", "POST")

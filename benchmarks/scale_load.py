"""The scale demo's load: voters writing through Telegram (this process plays Telegram) and agents in the console.

Each voter writes in one language: a greeting, then bursts of questions sent without waiting, and now and
then asks for a person. Each question has one known first reply (learnt once per language before the load),
so every reply can be traced back to the question it answers:

- lost: a question whose answer never came (nor the agent's reply to a hand-off);
- out of order: an answer that came after the answer to a later question of the same voter;
- double assigned: a chat an agent was given while another agent held it.

Telegram is the only stand-in (tests/helpers/telegram_api.py): like Telegram, it delivers an update again until
the webhook answers 200, and the load balancer in front of the gateways is ordinary HAProxy.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.stacks import WEBHOOK_SECRET
from tests.helpers.telegram_api import FakeTelegram, text_update

QUESTIONS = {
    "en": [
        "who are the candidates in my area",
        "how do I register as a new voter",
        "I need to correct my address on the voter id",
        "how do I report a violation of the code of conduct",
        "how do I get my voter id card",
        "which documents can I carry to vote",
        "how does voting on the EVM work",
        "I use a wheelchair, is there help at the booth",
    ],
    "hi": [
        "मेरे इलाके के उम्मीदवार कौन हैं",
        "नया वोटर कैसे बनें",
        "वोटर कार्ड में पता बदलना है",
        "आचार संहिता के उल्लंघन की शिकायत कैसे करें",
        "वोटर आईडी कार्ड कैसे मिलेगा",
        "वोट डालने के लिए कौन सा पहचान पत्र ले जाएं",
        "ईवीएम से वोट कैसे डालते हैं",
        "मैं व्हीलचेयर पर हूँ, बूथ पर मदद मिलेगी क्या",
    ],
    "hinglish": [
        "mere area ke candidates kaun hain",
        "naya voter kaise bane",
        "voter card mein address badalna hai",
        "aachar sanhita ke ulanghan ki shikayat kaise karein",
        "voter id card kaise milega",
        "vote dene ke liye kaunsa id le jaayein",
        "evm se vote kaise dalte hain",
        "main wheelchair par hoon booth par madad milegi kya",
    ],
}
GREETING = {"en": "hello", "hi": "नमस्ते", "hinglish": "namaste ji"}
ASK_PERSON = {
    "en": "I want to talk to a person",
    "hi": "मुझे किसी इंसान से बात करनी है",
    "hinglish": "mujhe kisi insaan se baat karni hai",
}
AGENT_MARK = "[agent]"
FINGERPRINT = 48  # characters of a reply that identify it


def fingerprint(text: str) -> str:
    return text.strip()[:FINGERPRINT]


class RecordingTelegram(FakeTelegram):
    """The Bot API stand-in, keeping each chat's replies as they come."""

    def __init__(self) -> None:
        super().__init__()
        self.by_chat: dict[int, list[tuple[str, float]]] = defaultdict(list)
        self.arrived: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        response = await super()._m_sendmessage(params)
        chat = int(params["chat_id"])
        self.by_chat[chat].append((str(params.get("text", "")), time.monotonic()))
        self.arrived[chat].set()
        return response

    async def wait(self, chat: int, count: int, timeout: float) -> bool:
        """Until the chat has at least `count` replies; False on timeout."""
        deadline = time.monotonic() + timeout
        while len(self.by_chat[chat]) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.arrived[chat].clear()
            try:
                await asyncio.wait_for(self.arrived[chat].wait(), left)
            except TimeoutError:
                return False
        return True


@dataclass
class Tally:
    sent: int = 0  # every voter message the webhook took
    webhook_retries: int = 0
    questions: dict[int, list[tuple[str, float]]] = field(default_factory=lambda: defaultdict(list))  # fingerprint, at
    handoffs_asked: int = 0
    handoffs_answered: int = 0
    double_assigned: int = 0
    agent_errors: int = 0


class Load:
    def __init__(self, telegram: RecordingTelegram, gateway_url: str, session: aiohttp.ClientSession) -> None:
        self.telegram, self.url, self.session = telegram, gateway_url, session
        self.expected: dict[str, dict[str, str]] = {}  # language -> question -> fingerprint of its first reply
        self.tally = Tally()
        self._update_ids = itertools.count(1)
        self.running = True  # voters start new rounds
        self.staffed = True  # agents keep working (until every voter finished its round)
        self.unanswered: dict[int, list[str]] = {}  # chat -> its last replies, for a hand-off no agent answered

    async def post(self, chat: int, text: str) -> None:
        """Deliver one update as Telegram does: again and again until the webhook answers 200."""
        update = text_update(next(self._update_ids), chat, text)
        headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
        for attempt in itertools.count():
            try:
                async with self.session.post(f"{self.url}/telegram/webhook", json=update, headers=headers) as resp:
                    if resp.status == 200:
                        self.tally.sent += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.tally.webhook_retries += 1
            await asyncio.sleep(min(0.2 * 2**attempt, 2.0))

    async def learn(self, chat_base: int) -> None:
        """One voter per language asks each question alone: its first reply is what the load expects."""

        async def one(language: str, chat: int) -> None:
            self.expected[language] = {}
            await self.post(chat, GREETING[language])
            await self.telegram.wait(chat, 1, 60)
            await asyncio.sleep(1.0)
            for question in QUESTIONS[language]:
                before = len(self.telegram.by_chat[chat])
                await self.post(chat, question)
                if await self.telegram.wait(chat, before + 1, 60):
                    self.expected[language][question] = fingerprint(self.telegram.by_chat[chat][before][0])
                await asyncio.sleep(0.8)  # the rest of its replies, if several
            firsts = list(self.expected[language].values())
            self.expected[language] = {q: f for q, f in self.expected[language].items() if firsts.count(f) == 1}

        await asyncio.gather(*(one(lang, chat_base + n) for n, lang in enumerate(QUESTIONS)))

    async def voter(self, chat: int, language: str, ask_person_every: int) -> None:
        questions = list(self.expected[language])
        await self.post(chat, GREETING[language])
        await self.telegram.wait(chat, 1, 60)
        rounds = 0
        while self.running:
            rounds += 1
            if ask_person_every and rounds % ask_person_every == 0:
                await self._ask_person(chat, language)
                continue
            burst = random.sample(questions, k=min(3, len(questions)))
            for question in burst:  # sent at once, as a voter typing fast: the answers must keep this order
                self.tally.questions[chat].append((self.expected[language][question], time.monotonic()))
                await self.post(chat, question)
            await self._settle(chat)
            await asyncio.sleep(random.uniform(0.3, 1.2))

    async def _settle(self, chat: int, quiet_s: float = 1.0, timeout: float = 60.0) -> None:
        """Until every question so far has its answer (or `timeout`), then a moment without replies."""
        wanted = [f for f, _ in self.tally.questions[chat]]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [fingerprint(text) for text, _ in self.telegram.by_chat[chat]]
            if all(got.count(f) >= wanted.count(f) for f in set(wanted)):
                break
            await asyncio.sleep(0.1)
        count = len(self.telegram.by_chat[chat])
        while await self.telegram.wait(chat, count + 1, quiet_s):
            count = len(self.telegram.by_chat[chat])

    async def _ask_person(self, chat: int, language: str) -> None:
        self.tally.handoffs_asked += 1
        earlier = sum(text.startswith(AGENT_MARK) for text, _ in self.telegram.by_chat[chat])
        await self.post(chat, ASK_PERSON[language])
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            texts = [text for text, _ in self.telegram.by_chat[chat]]
            marked = [n for n, text in enumerate(texts) if text.startswith(AGENT_MARK)]
            if len(marked) > earlier and len(texts) > marked[-1] + 1:
                break  # the agent answered, and the assistant's welcome-back followed the close
            await asyncio.sleep(0.2)
        else:
            self.unanswered[chat] = [text[:70] for text, _ in self.telegram.by_chat[chat][-6:]]
            return
        self.tally.handoffs_answered += 1
        await self._settle(chat)


class Agents:
    """Agents working the console API through the load balancer: take the next chat, answer, close."""

    def __init__(self, load: Load, origin: str) -> None:
        self.load, self.origin = load, origin
        self.holders: dict[str, str] = {}  # conversation -> the agent holding it now
        self.refused: dict[str, int] = defaultdict(int)  # console answers other than 200, by call and status

    async def work(self, name: str, password: str) -> None:
        jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of a loopback address
        headers = {"Origin": self.origin}
        async with aiohttp.ClientSession(cookie_jar=jar, headers=headers) as http:
            await self._call(http, "login", {"name": name, "password": password})
            await self._call(http, "presence", {"presence": "available"})
            while self.load.staffed:
                chat = (await self._call(http, "take", {}) or {}).get("chat")
                if not chat:
                    await asyncio.sleep(0.3)
                    continue
                conversation = chat["conversation_id"]
                if self.holders.get(conversation) not in (None, name):
                    self.load.tally.double_assigned += 1
                self.holders[conversation] = name
                await asyncio.sleep(random.uniform(0.2, 0.8))  # reading the transcript
                await self._call(http, f"chats/{conversation}/messages", {"text": f"{AGENT_MARK} {name} here"})
                await asyncio.sleep(0.2)
                self.holders.pop(conversation, None)  # before the close: once closed, another may take it
                await self._call(http, f"chats/{conversation}/close", {"disposition": "resolved"})

    async def _call(self, http: aiohttp.ClientSession, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        for attempt in range(20):  # a gateway killed under us: the balancer sends the retry to the other
            try:
                async with http.post(f"{self.load.url}/console/api/{path}", json=body) as resp:
                    if resp.status < 500:
                        if resp.status != 200:
                            self.refused[f"{path.rsplit('/', 1)[-1]} {resp.status}"] += 1
                        return dict(await resp.json()) if resp.status == 200 else None
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.load.tally.agent_errors += 1
            await asyncio.sleep(min(0.2 * 2**attempt, 2.0))
        return None


def score(tally: Tally, replies: dict[int, list[tuple[str, float]]]) -> dict[str, Any]:
    """Trace every reply to the question it answers: lost, out of order, and each question's latency."""
    lost = out_of_order = 0
    latencies: list[float] = []
    for chat, asked in tally.questions.items():
        wanted = {f for f, _ in asked}
        answers = [(fingerprint(text), at) for text, at in replies.get(chat, []) if fingerprint(text) in wanted]
        open_questions = list(enumerate(asked))
        highest = -1
        for answer, at in answers:
            match = next((item for item in open_questions if item[1][0] == answer), None)
            if match is None:
                continue  # an answer to a question asked again later, already matched: not ours to count
            open_questions.remove(match)
            index, (_, sent_at) = match
            latencies.append((at - sent_at) * 1000)
            if index < highest:
                out_of_order += 1
            highest = max(highest, index)
        lost += len(open_questions)
    lost += tally.handoffs_asked - tally.handoffs_answered
    return {"lost": lost, "out_of_order": out_of_order, "latencies_ms": latencies}

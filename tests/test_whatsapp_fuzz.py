"""Fuzz the WhatsApp webhook: random and mutated bodies, signed like Meta's, never get a 5xx.

Hypothesis draws the bodies (random bytes, random JSON, and valid webhooks with parts replaced
by random values); each is posted to the real gateway, which must answer 2xx or 4xx and keep
serving. `SAMVAD_FUZZ_EXAMPLES` sets how many (10,000 by default, about a minute here).
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import graph_api as wa

EXAMPLES = int(os.environ.get("SAMVAD_FUZZ_EXAMPLES", "10000"))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(["", "text", "interactive", "button", "audio", "location", "failed", "#deadbeef", "/help", "{"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def _bases() -> list[dict[str, Any]]:
    wa_id = "919812300000"
    messages = [
        wa.text("मेरा बूथ कहाँ है"),
        wa.button_reply("/find_polling_station", "बूथ"),
        wa.list_reply("/election_schedule", "तारीख"),
        wa.quick_reply("/subscribe_updates", "हाँ"),
        wa.voice("m1"),
        wa.image("m2", "caption"),
        wa.location(25.6, 85.1),
    ]
    statuses = [wa.status("wamid.X", "delivered", wa_id), wa.status("wamid.Y", "failed", wa_id, error=131047)]
    return [wa.webhook(wa.messages_value(wa_id, m)) for m in messages] + [wa.webhook(wa.statuses_value(*statuses))]


BASES = _bases()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    body = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        if len(paths) < 2:
            break
        path = draw(st.sampled_from(paths[1:]))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(body, ensure_ascii=draw(st.booleans())).encode()


bodies = st.one_of(
    mutated(),
    mutated(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
)


def draw_bodies(count: int) -> list[bytes]:
    drawn: list[bytes] = []

    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def collect(body: bytes) -> None:
        drawn.append(body)

    collect()
    return drawn


async def test_signed_random_and_mutated_bodies_never_get_a_5xx(make_whatsapp_gateway) -> None:
    drawn = draw_bodies(EXAMPLES)  # first: drawing blocks the event loop for a while
    gw = await make_whatsapp_gateway(rasa_timeout_s=0.5)
    answers: dict[int, int] = {}
    failures: list[tuple[int, bytes]] = []
    for body in drawn:
        resp = await gw.post(body)
        answers[resp.status] = answers.get(resp.status, 0) + 1
        if resp.status >= 500:
            failures.append((resp.status, body))
        resp.release()
    await gw.idle()
    print(f"\nwhatsapp webhook fuzz: {sum(answers.values())} bodies, answers {dict(sorted(answers.items()))}")
    assert not failures, failures[:3]
    assert answers.get(200, 0) > 0 and answers.get(400, 0) > 0  # both kinds were really exercised
    # Still serving: a plain message is stored and answered.
    resp = await gw.post(wa.webhook(wa.messages_value("919800000001", wa.text("/help"))))
    assert resp.status == 200
    await gw.idle()
    assert gw.graph.texts_to("919800000001")

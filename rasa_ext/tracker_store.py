"""Rasa's Redis tracker store, bounded: a conversation costs the same at its 1,000th message as at its 10th.

Rasa 3.6's ``RedisTrackerStore`` keeps every event of a conversation in one key, and on every
save it reads the key back, rebuilds the whole tracker from it and merges it with the new one
event by event (quadratic in the length); every custom action call ships all the events to the
action server, and the policies walk them (profiled in docs/performance.md, "Conversation length").

This store keeps, per conversation, only what the next answers depend on:

- the current session: a new session (``action_session_start``, after ``session_expiration_time``
  in domain.yml) drops the events of the ones before;
- within it, the last ``keep_turns`` voter turns. When more than ``keep_turns + compact_every``
  have piled up, the older turns are replaced by a short opening that restores the state they
  left behind: every slot that was set, the form in progress and a pause, written as a session
  start (``action_session_start``, ``session_started``, ``slot``..., ``active_loop``,
  ``pause``, ``action_listen``), which is how Rasa itself opens a session that carries slots over.
  The rules look back two user turns at most ("not understood twice in a row"), so the kept
  turns give the same predictions. Where it can, the cut falls where no form is in progress;
- nothing older than ``record_exp`` seconds (the transcript's retention): older turns are cut
  the same way, slot values set that long ago are not carried into the opening (a slot keeps
  the time of the event that set it), and the key expires ``record_exp`` after its oldest event.

A save writes the tracker it is given, without reading the key first: Rasa's merge exists
because its ``retrieve`` returns only the latest session, while here the key holds only that.
So replacing the events (``PUT /conversations/<id>/tracker/events``) replaces them, and the
gateway's "delete my data" still deletes the key itself.

endpoints.yml: ``type: rasa_ext.tracker_store.WindowedRedisTrackerStore`` (the launcher,
rasa_ext/schema_cache.py, puts the project on Rasa's import path).
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses

logger = logging.getLogger(__name__)

DEFAULT_KEEP_TURNS = 8
DEFAULT_COMPACT_EVERY = 8


class WindowedRedisTrackerStore(RedisTrackerStore):
    """A ``RedisTrackerStore`` that keeps the current session's last turns, with the state before them."""

    def __init__(
        self,
        domain: Domain,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        record_exp: float | str | None = None,
        keep_turns: int | str = DEFAULT_KEEP_TURNS,
        compact_every: int | str = DEFAULT_COMPACT_EVERY,
        **kwargs: Any,
    ) -> None:
        # Values read from environment variables in endpoints.yml arrive as strings.
        retention = float(record_exp) if record_exp not in (None, "", "0", 0) else None
        super().__init__(domain, host=host, port=int(port), db=int(db), record_exp=retention, **kwargs)
        self.keep_turns = max(3, int(keep_turns))  # the longest rule spans two user turns
        self.compact_every = max(1, int(compact_every))
        self._event_types: dict[str, type[Event]] = {}

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        """Write the tracker's current session, bounded; no read-back, no merge."""
        await self.stream_events(tracker)
        events = bounded_events(
            tracker.sender_id,
            list(tracker.events),
            self.domain,
            keep_turns=self.keep_turns,
            compact_every=self.compact_every,
            retention_s=self.record_exp,
            now=time.time(),
        )
        key = self.key_prefix + tracker.sender_id
        body = json.dumps(Dialogue(tracker.sender_id, events).as_dict())
        retention = timeout or self.record_exp
        if retention and events:
            # Expire with the oldest event kept, so that none outlives the retention.
            self.red.set(key, body, exat=int(min(e.timestamp for e in events) + float(retention)) + 1)
        else:
            self.red.set(key, body, ex=int(retention) if retention else None)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The stored tracker: already the latest session only."""
        stored = self.red.get(self.key_prefix + sender_id)
        if stored is None:
            return None
        return self.deserialise_tracker(sender_id, stored)

    async def retrieve_full_tracker(self, sender_id: str) -> DialogueStateTracker | None:
        return await self.retrieve(sender_id)

    def deserialise_tracker(self, sender_id: str, serialised_tracker: str | bytes) -> DialogueStateTracker | None:
        """As Rasa's, with the event classes looked up once instead of walking every subclass per event."""
        data = json.loads(serialised_tracker)
        tracker = self.init_tracker(sender_id)
        tracker.recreate_from_dialogue(Dialogue(data.get("name", sender_id), self._events(data.get("events") or [])))
        return tracker

    def _events(self, dicts: Iterable[dict[str, Any]]) -> list[Event]:
        if not self._event_types:
            for cls in all_subclasses(Event):  # the first class with a name wins, as in Event.resolve_by_type
                self._event_types.setdefault(cls.type_name, cls)
        events = []
        for params in dicts:
            cls = self._event_types.get(params.get("event", ""))
            event = cls._from_parameters(params) if cls is not None else Event.from_parameters(params)
            if event is not None:
                events.append(event)
        return events


def _turn_starts(events: list[Event]) -> list[int]:
    """Indices of the voter messages that begin a turn (right after ``action_listen``)."""
    return [
        i
        for i in range(1, len(events))
        if isinstance(events[i], UserUttered)
        and isinstance(events[i - 1], ActionExecuted)
        and events[i - 1].action_name == ACTION_LISTEN_NAME
    ]


def _current_session(events: list[Event]) -> list[Event]:
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], SessionStarted):
            previous = events[i - 1] if i else None
            starts_here = isinstance(previous, ActionExecuted) and previous.action_name == ACTION_SESSION_START_NAME
            return events[i - 1 :] if starts_here else events[i:]
    return events


def bounded_events(
    sender_id: str,
    events: list[Event],
    domain: Domain,
    *,
    keep_turns: int,
    compact_every: int,
    retention_s: float | None,
    now: float,
) -> list[Event]:
    """The events to store: the current session, its older turns folded into an opening (see the module)."""
    events = _current_session(events)
    starts = _turn_starts(events)
    # Turns that began before the retention window must go (the latest one always stays).
    floor = 0
    expired_before = now - retention_s if retention_s else None
    if expired_before is not None:
        floor = min(sum(1 for i in starts if events[i].timestamp < expired_before), len(starts) - 1)
    target = len(starts) - keep_turns if len(starts) > keep_turns + compact_every else 0
    cut = max(target, floor)
    if cut <= 0:
        return events
    # A cut for size may move back (keeping a few more turns) to fall outside a form.
    lowest = max(1, floor, cut - compact_every) if cut == target else cut
    return _fold(sender_id, events, starts, cut, lowest, domain, expired_before)


@dataclass
class _State:
    slots: dict[str, tuple[Any, float]]  # name -> (value, when the event that set it happened)
    active_loop: str | None
    paused: bool


def _state(tracker: DialogueStateTracker, set_at: dict[str, float], default: float) -> _State:
    slots = {
        name: (copy.deepcopy(slot.value), set_at.get(name, default))
        for name, slot in tracker.slots.items()
        if slot.has_been_set
    }
    return _State(slots, tracker.active_loop_name, tracker.is_paused())


def _fold(
    sender_id: str,
    events: list[Event],
    starts: list[int],
    cut: int,
    lowest: int,
    domain: Domain,
    expired_before: float | None,
) -> list[Event]:
    """Replace the events before turn `cut` (or a turn down to `lowest`) with an opening restoring their state.

    A slot keeps the time of the event that set it, so a value set before `expired_before` is
    left out: it does not outlive the retention either.
    """
    tracker = DialogueStateTracker(sender_id, domain.slots)
    states: dict[int, _State] = {}
    set_at: dict[str, float] = {}
    position = 0
    for turn in range(lowest, cut + 1):
        for event in events[position : starts[turn]]:
            tracker.update(event)
            if isinstance(event, SlotSet):
                set_at[event.key] = event.timestamp
        position = starts[turn]
        states[turn] = _state(tracker, set_at, events[starts[turn]].timestamp)
    # The latest turn boundary where no form is in progress and the assistant is not paused, else `cut`.
    chosen = next((t for t in range(cut, lowest - 1, -1) if not states[t].active_loop and not states[t].paused), cut)
    state = states[chosen]
    at = events[starts[chosen]].timestamp  # as old as the first turn kept
    opening: list[Event] = [ActionExecuted(ACTION_SESSION_START_NAME, timestamp=at), SessionStarted(timestamp=at)]
    opening += [
        SlotSet(name, value, timestamp=min(when, at))
        for name, (value, when) in state.slots.items()
        if expired_before is None or when >= expired_before
    ]
    if state.active_loop:
        # As a form leaves it: active, and its action run once (Rasa's happy-path bookkeeping looks for that run).
        opening += [ActiveLoop(state.active_loop, timestamp=at), ActionExecuted(state.active_loop, timestamp=at)]
    if state.paused:
        opening.append(ConversationPaused(timestamp=at))
    opening.append(ActionExecuted(ACTION_LISTEN_NAME, timestamp=at))
    logger.debug("tracker of %s: %d turns folded into the opening", sender_id, chosen)
    return opening + events[starts[chosen] :]

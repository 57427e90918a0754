"""The election schedule: per constituency its state, phase, poll date and close of poll.

Loaded from ``data/schedule.yml`` (format: ``data/README.md``)::

    schedule = Schedule.load(settings.data_dir / "schedule.yml")
    entry = schedule.for_constituency("banaras")      # aliases and both scripts
    entry.close_of_poll                              # aware datetime in IST
    schedule.in_silence_period("Varanasi", now)      # the 48 hours before close of poll

Times are India Standard Time; every datetime this module returns is timezone-aware.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IST = ZoneInfo("Asia/Kolkata")
# Section 126 of the Representation of the People Act, 1951: no campaigning in the
# 48 hours ending with the hour fixed for the conclusion of the poll.
SILENCE_PERIOD = timedelta(hours=48)

_PUNCT = re.compile(r"[\s.,;:!?'\"()\-]+")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {value!r}") from exc
    return value


def name_key(text: str) -> str:
    """The comparison key for a place name: NFC, case-folded, punctuation and spaces dropped."""
    return _PUNCT.sub("", unicodedata.normalize("NFC", text).casefold())


class StateInfo(BaseModel):
    """A state, with its name in both scripts and the spellings voters use."""

    model_config = ConfigDict(frozen=True)

    name: str
    name_hi: str
    aliases: tuple[str, ...] = ()

    def names(self) -> tuple[str, ...]:
        return (self.name, self.name_hi, *self.aliases)


class ConstituencySchedule(BaseModel):
    """When one constituency votes."""

    model_config = ConfigDict(frozen=True)

    name: str
    name_hi: str
    state: str
    phase: int = Field(ge=1)
    poll_date: date
    poll_close: time
    timezone: str = "Asia/Kolkata"
    aliases: tuple[str, ...] = ()
    # Spellings that are also everyday words; see data/README.md.
    context_aliases: tuple[str, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _check_timezone(value)

    def names(self) -> tuple[str, ...]:
        """Every spelling that identifies this constituency on its own."""
        return (self.name, self.name_hi, *self.aliases)

    @property
    def close_of_poll(self) -> datetime:
        """The end of polling, timezone-aware."""
        return datetime.combine(self.poll_date, self.poll_close, tzinfo=ZoneInfo(self.timezone))

    @property
    def silence_starts(self) -> datetime:
        """The start of the 48-hour silence period before the close of poll."""
        return self.close_of_poll - SILENCE_PERIOD

    def in_silence_period(self, at: datetime) -> bool:
        """Whether campaigning messages are barred at ``at`` (an aware datetime)."""
        if at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware")
        return self.silence_starts <= at < self.close_of_poll


class Schedule(BaseModel):
    """The whole schedule, with look-ups by constituency and state name."""

    model_config = ConfigDict(frozen=True)

    sample: bool = False
    timezone: str = "Asia/Kolkata"
    states: tuple[StateInfo, ...] = ()
    constituencies: tuple[ConstituencySchedule, ...]

    @classmethod
    def load(cls, path: Path | str) -> Schedule:
        """Read and validate a schedule file (YAML)."""
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle) or {}
        timezone = raw.get("timezone", "Asia/Kolkata")
        for entry in raw.get("constituencies") or []:
            entry.setdefault("timezone", timezone)
        return cls.model_validate(raw)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        state_names = {s.name for s in self.states}
        seen: set[str] = set()
        for entry in self.constituencies:
            if state_names and entry.state not in state_names:
                raise ValueError(f"constituency {entry.name!r}: unknown state {entry.state!r}")
            if entry.name in seen:
                raise ValueError(f"constituency {entry.name!r} is listed twice")
            seen.add(entry.name)
        return self

    @cached_property
    def _by_key(self) -> dict[str, ConstituencySchedule]:
        index: dict[str, ConstituencySchedule] = {}
        for entry in self.constituencies:
            for spelling in (*entry.names(), *entry.context_aliases):
                index.setdefault(name_key(spelling), entry)
        return index

    @cached_property
    def _states_by_key(self) -> dict[str, StateInfo]:
        index: dict[str, StateInfo] = {}
        for state in self.states:
            for spelling in state.names():
                index.setdefault(name_key(spelling), state)
        return index

    def for_constituency(self, name: str | None) -> ConstituencySchedule | None:
        """The schedule of the constituency called ``name`` (any script or alias), or None."""
        if not name:
            return None
        return self._by_key.get(name_key(name))

    def resolve_state(self, name: str | None) -> StateInfo | None:
        """The state called ``name`` (any script or alias), or None."""
        if not name:
            return None
        return self._states_by_key.get(name_key(name))

    def for_state(self, name: str | None) -> list[ConstituencySchedule]:
        """Every constituency of the state called ``name``, in phase order."""
        state = self.resolve_state(name)
        wanted = state.name if state else (name or "")
        return sorted(
            (c for c in self.constituencies if c.state == wanted),
            key=lambda c: (c.poll_date, c.name),
        )

    def in_silence_period(self, constituency: str, at: datetime) -> bool:
        """Whether ``at`` falls in the silence period of ``constituency`` (False if unknown)."""
        entry = self.for_constituency(constituency)
        return entry.in_silence_period(at) if entry else False

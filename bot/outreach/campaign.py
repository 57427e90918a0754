"""Campaign files: what to send, to whom and when, as written by content teams in ``campaigns/``.

A file (format and examples: ``campaigns/README.md``)::

    name: polling-day-reminder
    election_material: true          # Section 126 silence applies
    message:
      hi: "कल वोट डालने ज़रूर जाइए ..."
      en: "Tomorrow is polling day ..."
    buttons:
      - title: {hi: "मेरा बूथ", en: "My polling booth"}
        payload: /find_polling_station
    audience:
      states: [Bihar]
      constituencies: []
      languages: [hi, en]
    window:
      start: 2029-04-16 09:00        # India time unless an offset is given
      end: 2029-04-18 20:00

:func:`load_campaign` validates a file against the election schedule and raises
:class:`~bot.errors.CampaignFileError` naming the file, each field and what is wrong.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.errors import CampaignFileError
from bot.outreach import placeholders
from bot.outreach.whatsapp import Templates
from bot.schedule import IST, Schedule

# Placeholders a message may use: from settings when it is sent, or from the schedule for the audience.
PLACEHOLDERS = frozenset({"org_name", "org_url"}) | placeholders.SCHEDULE_PLACEHOLDERS
CALLBACK_DATA_MAX = 64  # bytes: Telegram's limit for a button's payload
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
MessageText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Language = Literal["hi", "en"]


class Bilingual(BaseModel):
    """A text in Hindi and in English; both are required."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hi: MessageText
    en: MessageText

    @field_validator("hi", "en")
    @classmethod
    def _known_placeholders(cls, text: str) -> str:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        unknown = names - PLACEHOLDERS
        if unknown:
            allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: {allowed}")
        return text

    def get(self, language: str) -> str:
        return self.hi if language == "hi" else self.en


class CampaignButton(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Bilingual
    payload: NonEmpty

    @field_validator("payload")
    @classmethod
    def _assistant_payload(cls, payload: str) -> str:
        if not payload.startswith("/"):
            raise ValueError("a button payload is an intent for the assistant, e.g. /find_polling_station")
        if len(payload.encode()) > CALLBACK_DATA_MAX:
            raise ValueError(f"a button payload can be at most {CALLBACK_DATA_MAX} bytes")
        return payload


class Audience(BaseModel):
    """Who receives it. Empty states and constituencies mean every subscriber."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    states: tuple[NonEmpty, ...] = ()
    constituencies: tuple[NonEmpty, ...] = ()
    languages: tuple[Language, ...] = ("hi", "en")

    @field_validator("states")
    @classmethod
    def _known_states(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        schedule = _schedule(info)
        resolved = []
        for name in names:
            state = schedule.resolve_state(name) if schedule else None
            if schedule and state is None:
                known = ", ".join(s.name for s in schedule.states)
                raise ValueError(f"unknown state {name!r} (the schedule knows: {known})")
            resolved.append(state.name if state else name)
        return tuple(resolved)

    @field_validator("constituencies")
    @classmethod
    def _known_constituencies(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        schedule = _schedule(info)
        resolved = []
        for name in names:
            entry = schedule.for_constituency(name) if schedule else None
            if schedule and entry is None:
                raise ValueError(f"unknown constituency {name!r} (not in the election schedule, data/schedule.yml)")
            resolved.append(entry.name if entry else name)
        return tuple(resolved)

    @field_validator("languages")
    @classmethod
    def _some_language(cls, languages: tuple[str, ...]) -> tuple[str, ...]:
        if not languages:
            raise ValueError("name at least one language: hi, en")
        return languages


class Window(BaseModel):
    """When sending is allowed. Times without an offset are India time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime
    end: datetime

    @field_validator("start", "end")
    @classmethod
    def _india_time(cls, moment: datetime) -> datetime:
        return moment.replace(tzinfo=IST) if moment.tzinfo is None else moment

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("the window's end must come after its start")
        return self

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


class Campaign(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    # Required, so nobody forgets to think about the silence period.
    election_material: bool
    message: Bilingual
    buttons: tuple[CampaignButton, ...] = Field(default=(), max_length=8)
    audience: Audience = Audience()
    window: Window
    # WhatsApp subscribers get an approved template in their language (they get nothing without one).
    whatsapp: Templates | None = None
    # {poll_date}, {state}, ... per language, from data/schedule.yml for the audience (bot/outreach/placeholders.py).
    _from_schedule: dict[str, dict[str, str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, raw: Any) -> Any:
        # "audience:" or "buttons:" with nothing under them reads as null in YAML: the defaults.
        if isinstance(raw, dict):
            return {key: value for key, value in raw.items() if not (key in ("audience", "buttons") and value is None)}
        return raw

    @model_validator(mode="after")
    def _template_per_language(self) -> Campaign:
        if self.whatsapp is not None:
            missing = [lang for lang in self.audience.languages if self.whatsapp.get(lang) is None]
            if missing:
                raise ValueError(f"whatsapp: no template for {', '.join(missing)} (one per audience language)")
        return self

    @model_validator(mode="after")
    def _dates_from_the_schedule(self, info: ValidationInfo) -> Campaign:
        schedule = _schedule(info)
        if schedule is None:
            return self
        entries = placeholders.audience_entries(schedule, self.audience.states, self.audience.constituencies)
        texts = {"hi": self.message.hi, "en": self.message.en}
        for language, text in texts.items():
            wrong = placeholders.contradicted_dates(text, entries)
            if wrong:
                dates = ", ".join(sorted({e.poll_date.isoformat() for e in entries})) or "none"
                raise ValueError(
                    f"message.{language}: the date '{wrong[0]}' is typed in, but the schedule's poll dates for this "
                    f"audience are {dates} (data/schedule.yml); write {{poll_date}} instead"
                )
        self._from_schedule = placeholders.resolve(schedule, entries, texts)
        return self

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("use lower-case letters, digits, - and _ (at most 64), e.g. polling-day-reminder")
        return name

    def render(self, language: str, values: dict[str, str]) -> str:
        """The message in ``language`` with its placeholders filled (the schedule's first, then ``values``)."""
        return self.message.get(language).format_map({**self._from_schedule.get(language, {}), **values})


class _Loader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text, so pydantic names a bad one (2029-04-31) by field."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _schedule(info: ValidationInfo) -> Schedule | None:
    context = info.context or {}
    schedule = context.get("schedule")
    return schedule if isinstance(schedule, Schedule) else None


def load_campaign(path: Path | str, schedule: Schedule) -> Campaign:
    """Read and validate one campaign file; the name defaults to the file name."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError:
        raise CampaignFileError(str(path), ["file not found"]) from None
    except UnicodeDecodeError:
        raise CampaignFileError(str(path), ["not UTF-8 text; save the file as UTF-8"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CampaignFileError(str(path), [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(raw, dict):
        raise CampaignFileError(str(path), ["the file must be a mapping with name, message, audience and window"])
    raw.setdefault("name", path.stem)
    try:
        return Campaign.model_validate(raw, context={"schedule": schedule})
    except ValidationError as exc:
        raise CampaignFileError(str(path), [_describe(error) for error in exc.errors()]) from None


def _describe(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(file)"
    kind = error["type"]
    if kind == "missing":
        hint = {"hi": " (the Hindi text)", "en": " (the English text)"}.get(str(error["loc"][-1]), "")
        return f"{field}: missing{hint}"
    if kind == "extra_forbidden":
        return f"{field}: unknown field (check the spelling)"
    if kind == "string_too_short":
        return f"{field}: empty; write the text"
    if kind == "string_too_long":
        return f"{field}: too long for one chat message; keep it under 4,000 characters"
    if kind.startswith(("datetime", "date")):
        return f"{field}: not a date and time ({error['input']!r}); write e.g. 2029-04-16 09:00"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{field}: {message}"

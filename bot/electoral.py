"""Polling stations and electors: the one module that reads the electoral data.

Two CSV files in the data directory (format: ``data/README.md``):

- ``polling_stations.csv``: one row per polling station (part of a constituency);
- ``electors.csv``: one row per elector, keyed by EPIC number, pointing at a part.

Lines starting with ``#`` are comments; a comment containing ``SAMPLE DATA``
marks the file as synthetic, and the assistant then says so to the voter.

Also the normalisation of what voters type (EPIC numbers, PIN codes, phone
numbers, Devanagari digits), and the generator of the NLU look-up tables::

    python -m bot electoral lookups          # rewrite the generated part of nlu/entities.yml
    python -m bot electoral lookups --check  # exit 1 when it is out of date
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot import identifiers

STATIONS_FILE = "polling_stations.csv"
ELECTORS_FILE = "electors.csv"
SAMPLE_MARK = "SAMPLE DATA"

_EPIC = re.compile(r"[A-Z]{3}[0-9]{7}")
# Older cards carry the state format: state code / assembly / part / serial, e.g. UP/01/234/1234567.
_EPIC_OLD = re.compile(r"[A-Z]{2}/[0-9]{1,3}/[0-9]{1,4}/[0-9]{4,7}")
_PIN = re.compile(r"[1-9][0-9]{5}")


def to_ascii_digits(text: str) -> str:
    """Replace Devanagari digits (०-९) by ASCII digits."""
    return identifiers.to_ascii_digits(text)


def normalize_epic(text: str | None) -> str | None:
    """An EPIC number in canonical form (``ABC1234567``, or ``UP/01/234/1234567`` in the older state
    format), or None if ``text`` is not one."""
    if not text:
        return None
    candidate = identifiers.compact(text).upper()
    return candidate if _EPIC.fullmatch(candidate) or _EPIC_OLD.fullmatch(candidate) else None


def find_epic(text: str | None) -> str | None:
    """The first EPIC number written anywhere in ``text``, normalised (the current format first)."""
    return identifiers.find(text, identifiers.Kind.EPIC) or identifiers.find(text, identifiers.Kind.EPIC_OLD)


def normalize_pin(text: str | None) -> str | None:
    """A 6-digit PIN code (``800 001`` becomes ``800001``), or None."""
    if not text:
        return None
    candidate = identifiers.compact(text)
    return candidate if _PIN.fullmatch(candidate) else None


def find_pin(text: str | None) -> str | None:
    """The first PIN code written anywhere in ``text``, normalised."""
    return identifiers.find(text, identifiers.Kind.PIN)


def find_phone(text: str | None) -> str | None:
    """The first Indian mobile number in ``text`` as 10 digits (``+91``/``0`` dropped), or None."""
    return identifiers.find(text, identifiers.Kind.PHONE)


def mask(value: str, keep: int = 3) -> str:
    """Mask an identifier for logs: ``ABC1234567`` becomes ``ABC*****67``."""
    return identifiers.mask_value(value, keep)


class PollingStation(BaseModel):
    """One polling station (one part of a constituency)."""

    model_config = ConfigDict(frozen=True)

    constituency: str
    constituency_hi: str
    state: str
    state_hi: str
    part_number: int = Field(ge=1)
    station_name: str
    station_name_hi: str
    address: str
    address_hi: str
    pin_code: str
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)

    @field_validator("pin_code")
    @classmethod
    def _pin(cls, value: str) -> str:
        pin = normalize_pin(value)
        if pin is None:
            raise ValueError(f"not a 6-digit PIN code: {value!r}")
        return pin

    @property
    def map_link(self) -> str:
        """A link that opens the station's location in a maps app."""
        return f"https://www.google.com/maps/search/?api=1&query={self.latitude},{self.longitude}"

    def name_in(self, language: str) -> str:
        return self.station_name_hi if language == "hi" else self.station_name

    def address_in(self, language: str) -> str:
        return self.address_hi if language == "hi" else self.address

    def constituency_in(self, language: str) -> str:
        return self.constituency_hi if language == "hi" else self.constituency


class Elector(BaseModel):
    """One elector on the roll."""

    model_config = ConfigDict(frozen=True)

    epic_number: str
    name: str
    name_hi: str
    constituency: str
    part_number: int = Field(ge=1)
    serial_number: int = Field(ge=1)

    @field_validator("epic_number")
    @classmethod
    def _epic(cls, value: str) -> str:
        epic = normalize_epic(value)
        if epic is None:
            raise ValueError(f"not an EPIC number: {value!r}")
        return epic

    def name_in(self, language: str) -> str:
        return self.name_hi if language == "hi" else self.name


class DataFileError(ValueError):
    """A data file is missing or has a bad row; the message names the file and line."""


def _read_csv(path: Path) -> tuple[list[tuple[int, dict[str, str]]], bool]:
    """Rows with their line numbers, and whether the file is marked as sample data."""
    if not path.is_file():
        raise DataFileError(f"{path}: file not found")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = handle.read().splitlines()
    sample = any(line.startswith("#") and SAMPLE_MARK in line.upper() for line in lines)
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(line for _, line in numbered)
    rows = [(numbered[i + 1][0], row) for i, row in enumerate(reader)]
    return rows, sample


_Row = TypeVar("_Row", PollingStation, Elector)


def _parse(model: type[_Row], path: Path) -> tuple[list[_Row], bool]:
    rows, sample = _read_csv(path)
    items: list[_Row] = []
    for line, row in rows:
        try:
            items.append(model.model_validate({k.strip(): (v or "").strip() for k, v in row.items() if k}))
        except ValidationError as exc:
            raise DataFileError(f"{path}:{line}: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from exc
    return items, sample


class ElectoralRoll:
    """Polling stations and electors, with the look-ups the assistant needs."""

    def __init__(self, stations: list[PollingStation], electors: list[Elector], *, sample: bool = False) -> None:
        self.stations = stations
        self.sample = sample
        self._electors = {e.epic_number: e for e in electors}
        self._stations = {(s.constituency, s.part_number): s for s in stations}
        for elector in electors:
            if (elector.constituency, elector.part_number) not in self._stations:
                raise DataFileError(
                    f"elector {mask(elector.epic_number)}: no polling station for "
                    f"{elector.constituency!r} part {elector.part_number}"
                )

    @classmethod
    def load(cls, data_dir: Path | str) -> ElectoralRoll:
        """Read ``polling_stations.csv`` and ``electors.csv`` from ``data_dir``."""
        data_dir = Path(data_dir)
        stations, sample_stations = _parse(PollingStation, data_dir / STATIONS_FILE)
        electors, sample_electors = _parse(Elector, data_dir / ELECTORS_FILE)
        return cls(stations, electors, sample=sample_stations or sample_electors)

    def elector(self, epic_number: str | None) -> Elector | None:
        """The elector with this EPIC number (any case, Devanagari digits allowed), or None."""
        epic = normalize_epic(epic_number)
        return self._electors.get(epic) if epic else None

    def station_for(self, elector: Elector) -> PollingStation | None:
        """The polling station where ``elector`` votes."""
        return self._stations.get((elector.constituency, elector.part_number))

    def stations_by_pin(self, pin_code: str | None) -> list[PollingStation]:
        """Polling stations in a PIN code area, in part-number order."""
        pin = normalize_pin(pin_code)
        found = [s for s in self.stations if s.pin_code == pin] if pin else []
        return sorted(found, key=lambda s: (s.constituency, s.part_number))

    def constituencies(self) -> list[PollingStation]:
        """One station per constituency (carries both-script names of it and its state)."""
        seen: dict[str, PollingStation] = {}
        for station in self.stations:
            seen.setdefault(station.constituency, station)
        return list(seen.values())


def iter_place_names(roll: ElectoralRoll) -> Iterator[tuple[str, str, str]]:
    """``(entity, canonical name, spelling)`` for every constituency and state in the roll."""
    for station in roll.constituencies():
        for spelling in (station.constituency, station.constituency_hi):
            yield "constituency", station.constituency, spelling
        for spelling in (station.state, station.state_hi):
            yield "state", station.state, spelling


def add_lookups_arguments(lookups: argparse.ArgumentParser) -> None:
    """`python -m bot electoral lookups [--data-dir DIR] [--out FILE] [--check]`."""
    root = Path(__file__).resolve().parent.parent
    lookups.add_argument("--data-dir", type=Path, default=root / "data")
    lookups.add_argument("--out", type=Path, default=root / "nlu" / "entities.yml")
    lookups.add_argument("--check", action="store_true", help="exit 1 if the file is out of date")


def run_lookups(args: argparse.Namespace) -> int:
    from bot import nlu_lookups

    try:
        changed = nlu_lookups.update_file(args.data_dir, args.out, check=args.check)
    except DataFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check and changed:
        print(f"{args.out} is out of date: run `python -m bot electoral lookups`", file=sys.stderr)
        return 1
    print(f"{args.out}: {'updated' if changed else 'up to date'}")
    return 0


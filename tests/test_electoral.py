"""bot/electoral.py: normalising what voters type, the CSV data module, and the look-up generator."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot import nlu_lookups
from bot.cli import main
from bot.electoral import (
    DataFileError,
    ElectoralRoll,
    find_epic,
    find_phone,
    find_pin,
    mask,
    normalize_epic,
    normalize_pin,
    to_ascii_digits,
)
from bot.settings import ROOT

DATA = ROOT / "data"
STATIONS_HEADER = (
    "constituency,constituency_hi,state,state_hi,part_number,station_name,station_name_hi,"
    "address,address_hi,pin_code,latitude,longitude"
)
STATION_ROW = "Gaya,गया,Bihar,बिहार,1,School,स्कूल,Road,रोड,{pin},24.79,85.00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ABC1234567", "ABC1234567"),
        ("abc1234567", "ABC1234567"),
        ("abc 123 4567", "ABC1234567"),
        ("ABC-1234567", "ABC1234567"),
        ("xyz७६५४३२१", "XYZ7654321"),
        ("UP/01/234/1234567", "UP/01/234/1234567"),  # the older state format, still on old cards
        ("up / 01 / 234 / 1234567", "UP/01/234/1234567"),
        ("UP/01/234", None),
        ("AB1234567", None),
        ("ABCD1234567", None),
        ("ABC123456", None),
        ("ABC12345678", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_epic(text: str | None, expected: str | None) -> None:
    assert normalize_epic(text) == expected


def test_find_epic_in_a_sentence() -> None:
    assert find_epic("mera EPIC xyz७६५४३२१ hai, booth batao") == "XYZ7654321"
    assert find_epic("मेरा वोटर कार्ड नंबर ABC 1234567 है") == "ABC1234567"
    assert find_epic("xyz७६५४३२१०") is None  # eight digits is not an EPIC number
    assert find_epic("call 9876543210") is None
    assert find_epic("purana card hai, number up/01/234/1234567") == "UP/01/234/1234567"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("800001", "800001"), ("800 001", "800001"), ("८००००१", "800001"), ("080001", None), ("80001", None)],
)
def test_normalize_pin(text: str, expected: str | None) -> None:
    assert normalize_pin(text) == expected


def test_find_pin_ignores_phone_and_epic_digits() -> None:
    assert find_pin("mera pin 800 001 hai") == "800001"
    assert find_pin("पिन कोड २२१००५") == "221005"
    assert find_pin("9876543210") is None
    assert find_pin("ABC1234567") is None


@pytest.mark.parametrize(
    "text", ["9876543210", "+91 98765 43210", "+919876543210", "09876543210", "९८७६५४३२१०", "98765-43210"]
)
def test_find_phone(text: str) -> None:
    assert find_phone(text) == "9876543210"


@pytest.mark.parametrize("text", ["5876543210", "987654321", "12345", ""])
def test_find_phone_rejects(text: str) -> None:
    assert find_phone(text) is None


def test_to_ascii_digits_and_mask() -> None:
    assert to_ascii_digits("२०२९") == "2029"
    assert mask("ABC1234567") == "ABC*****67"
    assert "1234" not in mask("ABC1234567")


def test_sample_roll_loads_and_is_marked_as_sample() -> None:
    roll = ElectoralRoll.load(DATA)
    assert roll.sample is True
    elector = roll.elector("abc1234567")
    assert elector is not None
    assert (elector.name, elector.name_hi) == ("Ramesh Kumar", "रमेश कुमार")
    station = roll.station_for(elector)
    assert station is not None and station.part_number == elector.part_number
    assert station.map_link.startswith("https://www.google.com/maps/search/?api=1&query=")
    assert station.name_in("hi") == station.station_name_hi and station.name_in("en") == station.station_name


def test_every_sample_elector_has_a_station_and_names_in_both_scripts() -> None:
    roll = ElectoralRoll.load(DATA)
    for elector in roll._electors.values():
        assert roll.station_for(elector) is not None
        assert re.search(r"[\u0900-\u097F]", elector.name_hi) and re.search(r"[A-Za-z]", elector.name)


def test_stations_by_pin() -> None:
    roll = ElectoralRoll.load(DATA)
    assert [s.part_number for s in roll.stations_by_pin("221 001")] == [101, 102]
    assert roll.stations_by_pin("110001") == []
    assert roll.stations_by_pin("not a pin") == []
    assert {s.constituency for s in roll.constituencies()} == {"Patna Sahib", "Gaya", "Varanasi", "Lucknow"}


def _write_roll(tmp_path: Path, pin: str = "823001", *, sample: bool = False, part: int = 1) -> Path:
    comment = "# SAMPLE DATA for a test\n" if sample else "# a campaign's own file\n"
    (tmp_path / "polling_stations.csv").write_text(
        comment + STATIONS_HEADER + "\n" + STATION_ROW.format(pin=pin) + "\n", encoding="utf-8"
    )
    (tmp_path / "electors.csv").write_text(
        f"epic_number,name,name_hi,constituency,part_number,serial_number\nGYA0000001,Asha,आशा,Gaya,{part},1\n",
        encoding="utf-8",
    )
    return tmp_path


def test_a_campaign_file_without_the_sample_mark(tmp_path: Path) -> None:
    roll = ElectoralRoll.load(_write_roll(tmp_path))
    assert roll.sample is False
    assert roll.elector("GYA0000001") is not None


def test_a_bad_row_names_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"polling_stations\.csv:3: .*pin_code"):
        ElectoralRoll.load(_write_roll(tmp_path, pin="82300"))


def test_an_elector_without_a_station_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="no polling station"):
        ElectoralRoll.load(_write_roll(tmp_path, part=2))


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="file not found"):
        ElectoralRoll.load(tmp_path)


def _patterns(entity: str) -> list[str]:
    doc = yaml.safe_load((ROOT / "nlu" / "entities.yml").read_text(encoding="utf-8"))
    return [
        line[2:]
        for block in doc["nlu"]
        if block.get("regex") == entity
        for line in block["examples"].splitlines()
        if line.startswith("- ")
    ]


def _extract(entity: str, text: str) -> list[str]:
    """What Rasa's RegexEntityExtractor would find (it uses `re`, case-insensitive)."""
    return [m.group() for p in _patterns(entity) for m in re.finditer(p, text, flags=re.IGNORECASE)]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("वाराणसी में वोटिंग कब है", ["वाराणसी"]),
        ("banaras me booth", ["banaras"]),
        ("Patna Sahib ka chunav", ["Patna Sahib"]),
        ("गया में चुनाव कब है", ["गया"]),
        ("election date in Gaya?", ["Gaya"]),
        ("gaya", ["gaya"]),
        ("mera card kho gaya", []),
        ("मेरा नाम लिस्ट से कट गया की नहीं", []),
    ],
)
def test_generated_constituency_patterns(text: str, found: list[str]) -> None:
    assert _extract("constituency", text) == found


@pytest.mark.parametrize(
    ("entity", "text", "found"),
    [
        ("epic_number", "my epic is xyz७६५४३२१ ok", ["xyz७६५४३२१"]),
        ("epic_number", "ABC 1234567", ["ABC 1234567"]),
        ("epic_number", "purana card UP/01/234/1234567 hai", ["UP/01/234/1234567"]),
        ("epic_number", "date 12/05/2024", []),
        ("pin_code", "pin 800 001", ["800 001"]),
        ("pin_code", "9876543210", []),
        ("phone_number", "call +91 98765 43210", ["+91 98765 43210"]),
        ("language", "हिंदी में बोलो", ["हिंदी"]),
        ("language", "angrezi me batao", ["angrezi"]),
        ("state", "उत्तर प्रदेश में कब", ["उत्तर प्रदेश"]),
    ],
)
def test_entity_patterns(entity: str, text: str, found: list[str]) -> None:
    assert _extract(entity, text) == found


def test_entities_file_is_up_to_date_with_the_data(tmp_path: Path) -> None:
    assert main(["electoral", "lookups", "--check"]) == 0


def test_lookup_generator_rewrites_only_its_section(tmp_path: Path) -> None:
    target = tmp_path / "entities.yml"
    target.write_text('version: "3.1"\nnlu:\n- regex: pin_code\n  examples: |\n    - [0-9]{6}\n', encoding="utf-8")
    assert main(["electoral", "lookups", "--out", str(target), "--check"]) == 1
    assert main(["electoral", "lookups", "--out", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith('version: "3.1"\nnlu:\n- regex: pin_code')
    assert nlu_lookups.BEGIN in text and nlu_lookups.END in text
    assert "- synonym: Varanasi" in text and "    - बनारस" in text
    assert main(["electoral", "lookups", "--out", str(target), "--check"]) == 0  # idempotent
    assert yaml.safe_load(text)["nlu"]

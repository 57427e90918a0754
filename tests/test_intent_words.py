"""The words that overrule the intent classifier (rasa_ext/intent_words.py, used by rasa_ext/intent_routing.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.settings import ROOT
from rasa_ext.intent_words import asks_for_a_person, form_numbers, is_bare_answer, read_places, words


@pytest.mark.parametrize(
    "text",
    [
        "मेरा नाम वोटर लिस्ट में नहीं है, मुझे किसी इंसान से बात करनी है",
        "मुझे किसी व्यक्ति से बात करनी है",
        "किसी कर्मचारी से जोड़ दीजिए",
        "mera naam list me nahi hai, kisi insaan se baat karao",
        "koi banda hai jisse baat ho sake",
        "where is my booth? I want to talk to a real person",
        "connect me to a human",
        "human please",
    ],
)
def test_a_request_for_a_person_is_seen_in_every_language(text: str) -> None:
    assert asks_for_a_person(text)


@pytest.mark.parametrize(
    "text",
    [
        "someone is calling voters and offering money",
        "talk to me about the booth",
        "वोटर लिस्ट में नाम कैसे देखें",
        "party agent ne booth pe jhagda kiya",
        "bat and ball",
        "क्या मैं सच में इंसान से बात कर रही हूं",
        "kya mai kisi real insaan se chat kar rahi hu",
        "is there a human behind this chat",
        "am i talking to a person or a bot",
    ],
)
def test_a_topic_alone_is_not_a_request_for_a_person(text: str) -> None:
    assert not asks_for_a_person(text)


@pytest.mark.parametrize(
    ("text", "forms"),
    [
        ("form 8 kya hota hai", {"8"}),
        ("फॉर्म 8 कैसे भरें", {"8"}),
        ("फार्म नंबर ८ कहाँ मिलेगा", {"8"}),
        ("Form-6 online", {"6"}),
        ("what is form no. 12D", {"12d"}),
        ("फॉर्म 12डी", {"12d"}),
        ("form 6a bharna hai", {"6a"}),
        ("form 6 or form 8?", {"6", "8"}),
        ("uniform 6 size", set()),
        ("format 8", set()),
        ("mera form bhar do", set()),
    ],
)
def test_form_numbers_in_english_hindi_and_hinglish(text: str, forms: set[str]) -> None:
    assert form_numbers(text) == forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lkjh poiu mnbv", ["lkjh", "poiu", "mnbv"]),
        ("मेरा बूथ कहाँ है।", ["मेरा", "बूथ", "कहाँ", "है"]),
        ("ABC1234567", []),
        ("xyz७६५४३२१", []),
        ("pin 800 001", ["pin"]),
        ("🙏🙏", []),
    ],
)
def test_words_are_letters_only(text: str, expected: list[str]) -> None:
    """A message with no known word falls back (rasa_ext/intent_routing.py); codes and numbers never count."""
    assert words(text) == expected


def _answer_patterns() -> list[re.Pattern[str]]:
    """The entity regexes the routing component learns from nlu/entities.yml (its ``answer_entities``)."""
    blocks = yaml.safe_load((ROOT / "nlu" / "entities.yml").read_text(encoding="utf-8"))["nlu"]
    wanted = {"epic_number", "pin_code", "phone_number", "constituency", "state"}
    return [
        re.compile(line.strip()[2:], re.IGNORECASE)
        for block in blocks
        if block.get("regex") in wanted
        for line in block["examples"].splitlines()
        if line.strip().startswith("- ")
    ]


@pytest.mark.parametrize(
    "text",
    ["ABC1234567", "it's abc 1234567", "मेरा एपिक नंबर XYZ७६५४३२१ है", "mera pin code 800001 hai", "pin 800 001",
     "+91 98765 43210", "Varanasi", "main lucknow se hu", "मैं वाराणसी में रहता हूँ", "bihar"],
)  # fmt: skip
def test_a_bare_answer_is_recognised(text: str) -> None:
    assert is_bare_answer(text, _answer_patterns())


@pytest.mark.parametrize(
    "text",
    ["yes", "my epic number", "ABC1234567 ka status kya hai", "where is the booth in varanasi", "form 6",
     "call 1950", "पटना में वोटिंग कब है", "lucknow ka mausam kaisa hai", ""],
)  # fmt: skip
def test_a_question_with_a_value_in_it_is_not_a_bare_answer(text: str) -> None:
    assert not is_bare_answer(text, _answer_patterns())


def test_a_bare_place_name_from_the_places_file_is_an_answer(tmp_path: Path) -> None:
    places_file = tmp_path / "places.txt"
    places_file.write_text("Jaipur\ngorakhpur   sadar\nगोरखपुर\n", encoding="utf-8")
    places = read_places(places_file)
    assert places == {"jaipur", "gorakhpur sadar", "गोरखपुर"}
    for text in ["jaipur", "Gorakhpur Sadar", "main jaipur se hu", "मेरा गाँव गोरखपुर में है", "jaipur 302017"]:
        assert is_bare_answer(text, _answer_patterns(), places), text
    for text in ["jaipur me booth kahan hai", "gorakhpur", "sadar", "jaipur ka mausam"]:
        assert not is_bare_answer(text, _answer_patterns(), places), text

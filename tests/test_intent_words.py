"""The words that overrule the intent classifier (rasa_ext/intent_words.py, used by rasa_ext/intent_routing.py)."""

from __future__ import annotations

import pytest

from rasa_ext.intent_words import asks_for_a_person, form_numbers, words


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

"""The words behind rasa_ext/intent_routing.py: a plain request for a person, and a named form number.

Pure Python (no Rasa import), so the gateway's tests can check them.  The regexes are linear (no nested
quantifiers) and see at most the first 300 characters.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

MAX_CHARS = 300

# Someone to talk to, in the three ways voters write it.
_PERSON = (
    r"human|humans|person|real person|someone|somebody|agent|live agent|operator|executive|staff|"
    r"representative|customer care|helpdesk person|"
    r"insaan|insan|insaano|aadmi|admi|vyakti|banda|bande|koi banda|kisi se|kisi insaan|kisi vyakti|"
    r"इंसान|इन्सान|आदमी|व्यक्ति|एजेंट|कर्मचारी|किसी से|बंदे|बंदा|मनुष्य|ह्यूमन"
)
_TALK = (
    r"talk|speak|chat|connect|transfer|put me through|"
    r"baat|bat|baatchit|connect karo|jod|jodo|jodiye|milao|milaiye|"
    r"बात|जोड़|जोड़ो|जोड़िए|जोड़ें|मिलाओ|मिलाइए|कनेक्ट|संपर्क"
)
_PERSON_REQUEST = re.compile(
    rf"(?:^|[^\w])(?:{_PERSON})(?:$|[^\w]).{{0,40}}?(?:^|[^\w])(?:{_TALK})"
    rf"|(?:^|[^\w])(?:{_TALK})(?:$|[^\w]).{{0,30}}?(?:^|[^\w])(?:{_PERSON})(?:$|[^\w])"
    r"|(?:^|[^\w])(?:human|insaan|इंसान|real person|असली इंसान|asli insaan)\s*(?:please|plz|pls|chahiye|चाहिए)",
)

# "Am I talking to a human?" asks what the assistant is, it does not ask for a person.
_ASKS_WHAT_IT_IS = re.compile(
    r"(?:^|[^\w])(?:am i|are you|is (?:this|there|it)|kya (?:main|mai|me|mein|ye|yeh|aap|tum)|"
    r"क्या (?:मैं|मै|ये|यह|आप|तुम))(?:$|[^\w]).{0,40}?"
    r"(?:talking|chatting|speaking|behind|baat kar (?:raha|rahi)|chat kar (?:raha|rahi)|"
    r"बात कर (?:रहा|रही)|चैट कर (?:रहा|रही)|human\?|इंसान हो|insaan ho)",
)

# "form 8", "Form-6", "फॉर्म 8", "फार्म नंबर ८", "form no. 12D"
_FORM = re.compile(
    r"(?:^|[^\w])(?:form|forms|farm|fourm|फॉर्म|फ़ॉर्म|फार्म|फ़ार्म|फोर्म|फॉम)"
    r"\s*(?:no\.?|number|num|नंबर|संख्या|न\.)?\s*[-#:.]?\s*([0-9०-९]{1,2})\s*-?\s*(a|b|c|d|ए|बी|सी|डी|)(?=$|[^\w])",
)
_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
_DEVANAGARI_LETTERS = {"ए": "a", "बी": "b", "सी": "c", "डी": "d"}


def _normalized(text: str) -> str:
    return unicodedata.normalize("NFC", text[:MAX_CHARS]).casefold()


def asks_for_a_person(text: str) -> bool:
    normalized = _normalized(text)
    return _PERSON_REQUEST.search(normalized) is not None and _ASKS_WHAT_IT_IS.search(normalized) is None


def form_numbers(text: str) -> set[str]:
    """Every form named in the text, as "6", "8", "12d"..."""
    found = set()
    for match in _FORM.finditer(_normalized(text)):
        number = match.group(1).translate(_DEVANAGARI_DIGITS).lstrip("0")
        letter = _DEVANAGARI_LETTERS.get(match.group(2), match.group(2))
        found.add(number + letter)
    return found


# Words that may wrap a bare answer ("my pin is 800001", "मेरा एपिक नंबर ABC1234567 है", "jaipur se hu").
ANSWER_WORDS = frozenset(
    """my mine is its it's it the a am i im i'm in at from of here this that number no num code pin pincode
    epic voter id card phone mobile contact constituency seat area district city village town state live stay
    s ok okay yes sure please pls plz and or
    mera meri mere hai h he hain hu hoon hun main mai mein me se ka ki ke ye yeh wo woh rehta rehti rahta rahti
    ji haan han number nambar nmbr hamara hamari apna apni gaon gao shahar jila zila ilaka kshetra wala wali
    मेरा मेरी मेरे है हैं हूँ हूं मैं में से का की के ये यह वो वह रहता रहती रहते जी हाँ हां नंबर नम्बर
    पिन कोड पिनकोड एपिक वोटर आईडी कार्ड फोन फ़ोन मोबाइल हमारा हमारी अपना अपनी गाँव गांव शहर ज़िला जिला
    इलाका क्षेत्र विधानसभा सीट वाला वाली""".split()
)


def is_bare_answer(text: str, patterns: list[re.Pattern[str]], places: frozenset[str] = frozenset()) -> bool:
    """True when the text is only answer values (EPIC, PIN, phone, a place...) and words that wrap an answer.

    ``patterns`` are entity regexes; ``places`` are place names (lower case, words separated by one space)
    of up to three words.
    """
    normalized = _normalized(text)
    rest, found = normalized, False
    for pattern in patterns:
        rest, count = pattern.subn(" ", rest)
        found = found or count > 0
    tokens = [t for t in _SEPARATORS.split(rest) if t]
    i = 0
    while i < len(tokens):
        for size in (3, 2, 1):
            if " ".join(tokens[i : i + size]) in places:
                found, i = True, i + size
                break
        else:
            if tokens[i] not in ANSWER_WORDS:
                return False
            i += 1
    return found


def read_places(path: str | Path) -> frozenset[str]:
    """Place names from a file, one a line, normalised as ``is_bare_answer`` compares them."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return frozenset(" ".join(t for t in _SEPARATORS.split(_normalized(line)) if t) for line in lines if line.strip())


_SEPARATORS = re.compile(r"[\s.,!?।;:'\"()/\\\-]+")


def words(text: str) -> list[str]:
    """The words of a text, letters only (a token with a digit, like an EPIC or PIN code, is not a word here)."""
    tokens = _SEPARATORS.split(_normalized(text))
    return [t for t in tokens if t and any(c.isalpha() for c in t) and not any(c.isdigit() for c in t)]

"""Which language a voter wrote in: Hindi (Devanagari or romanized) or English.

Runs on every inbound message, so everything heavy is built once at import:
compiled regexes and one token -> (hindi weight, english weight) table.
"""

from __future__ import annotations

import re
from enum import Enum


class Language(str, Enum):
    HI = "hi"
    EN = "en"


# Devanagari letters, vowel signs and nasal marks; not its digits, not the dandas.
_DEVANAGARI = re.compile(r"[\u0900-\u0963\u0971-\u097F\uA8E0-\uA8FF]+")
_LATIN = re.compile(r"[A-Za-z]+")
# A Latin word standing alone: glued digits or Devanagari make it an id, not a word.
_WORD = re.compile(r"(?<![^\W_])[A-Za-z]+(?:['\u2019][A-Za-z]+)*(?![^\W_])")
# Things that contain letters but say nothing about the language. Linear: a link or an address is
# taken from where it starts to the next space without backtracking, and an address (any word with an
# @, "name@host.in" or "@handle") only from the start of its word: `\S+@\S+\.\S+` was tried at every
# character of a long word and took seconds on 60,000 of them.
_NOISE = re.compile(
    r"https?://\S*|www\.\S*|(?<!\S)[^\s@]*@\S*"
    r"|(?<![^\W_])[A-Za-z]{3}\s?[0-9\u0966-\u096F]{7}(?![^\W_])"  # EPIC number
)
_RUN3 = re.compile(r"(.)\1{2,}")
_TRAILING_DOUBLE = re.compile(r"(.)\1$")
# Spellings that only romanized Hindi produces; checked for words not in the lexicon.
_HINDI_SHAPE = re.compile(
    r"^(?:bh|dh|kh|jh)|jh|chh|aa"
    r"|(?:iye|ega|egi|(?<!ll)(?<!v)enge|unga|ungi|oge|ogi|wana|wane|wani|vana)$"
)

# The language of a message shows in its beginning; the rest is not read (every voter's message passes here).
MAX_DETECT_CHARS = 4096

_DEVANAGARI_SHARE = 0.3
_HI_MIN = 0.8
_EN_MIN = 0.5
_SHAPE_WEIGHT = 0.5

# fmt: off
# Romanized Hindi words that are not English words.
_HINGLISH = frozenset(
    {
        # to be
        "hai", "hain", "hein", "hy", "haina", "hu", "hoon", "hun", "hoo", "hua", "hui", "hue",
        "hona", "hone", "hota", "hoti", "hote", "hoga", "hogi", "honge", "hogaya", "hogya", "tha",
        "thi",
        # questions
        "kya", "kyaa", "kia", "kyu", "kyun", "kyon", "kyo", "kyuki", "kyunki", "kyoki", "kaise",
        "kese", "kaisa", "kaisi", "kesa", "kesi", "kaha", "kahan", "kahaan", "kahaa", "kha",
        "kahin", "kahi", "kidhar", "kidhr", "kidar", "idhar", "udhar", "kab", "kaun", "kon",
        "koun", "konsa", "kaunsa", "konsi", "kaunsi", "konse", "kaunse", "kitna", "kitne", "kitni",
        "kis", "kisi", "kisko", "kise", "kiska", "kiski", "kiske",
        # pronouns
        "mera", "meri", "mra", "mri", "mre", "mujhe", "mjhe", "muje", "mujhko", "mujhse", "hamara",
        "hamari", "hamare", "humara", "humari", "humare", "hmara", "hmari", "hame", "hume",
        "hamein", "humein", "tumhara", "tumhari", "tera", "teri", "tujhe", "aap", "aapka", "aapki",
        "aapke", "apka", "apki", "apke", "apna", "apni", "apne", "uska", "uski", "uske", "unka",
        "unki", "unke", "iska", "iski", "iske", "inka", "inki", "unko", "isko", "usko", "inko",
        "usse", "isse", "unse", "mai", "mei", "mein", "maine", "mene", "humne", "ye", "yeh", "yah",
        "wo", "woh", "vo", "voh", "tum", "tu",
        # yes, no, people
        "naam", "nam", "nahi", "nahin", "nhi", "nai", "nahee", "nhin", "haan", "haa", "hanji",
        "haanji", "hnji", "bhaisahab", "dost", "sahab", "saheb",
        # verbs
        "karo", "kro", "karu", "kru", "karna", "krna", "karne", "krne", "karni", "krni", "karenge",
        "karega", "karegi", "karunga", "karungi", "kare", "kre", "karte", "krte", "karta", "krta",
        "karti", "krti", "kiye", "kijiye", "kijie", "karwana", "karwa", "krwana", "karana",
        "karke", "krke", "kar", "kr", "kardo", "krdo", "kardijiye", "krdijiye", "kardena",
        "krdena", "karado", "karwado", "krwado", "chahiye", "chaiye", "chahie", "chahiya",
        "chahiyee", "chahta", "chahti", "chahte", "chahata", "batao", "btao", "bataye", "bataiye",
        "btaiye", "batado", "btado", "batana", "btana", "bata", "bta", "batayiye", "batayein",
        "sakta", "sakti", "sakte", "skta", "skti", "skte", "sakenge", "sakega", "sakegi", "raha",
        "rahi", "rahe", "rha", "rhi", "rhe", "rahta", "rehta", "rahna", "rehna", "rehne", "rahne",
        "dena", "dene", "dedo", "dijiye", "diya", "diye", "dete", "deta", "deti", "denge", "dega",
        "degi", "dunga", "lena", "lene", "liya", "liye", "lie", "lekar", "leke", "lete", "leta",
        "leti", "lenge", "lega", "legi", "lunga", "jao", "jau", "jaun", "jana", "jaana", "jaane",
        "jane", "jaye", "jaaye", "jata", "jati", "jate", "jayega", "jaega", "jayegi", "jaenge",
        "jayenge", "jakar", "jake", "gayi", "gaye", "gai", "gya", "gyi", "gye", "aao", "aaya",
        "aayi", "aaye", "aya", "ayi", "aana", "aata", "aati", "aate", "aayega", "aaega", "ayega",
        "aayegi", "aaenge", "mil", "mila", "mili", "milega", "milegi", "milta", "milti", "milte",
        "milna", "milne", "milenge", "dekh", "dekho", "dekhna", "dekhe", "dekha", "dekhen",
        "dikha", "dikhao", "dikhana", "dikhaye", "dikhau", "samjh", "samajh", "samjhao", "samjha",
        "samjhe", "samjhaiye", "bolo", "bolna", "boliye", "bola", "bole", "chalo", "chalega",
        "chalegi", "chalta", "chalti", "chalenge", "laga", "lagi", "lage", "lagta", "lagti",
        "lagega", "lagegi", "lagao", "lagana", "rakh", "rakho", "rakhna", "rakhe", "bhej", "bhejo",
        "bhejna", "bhejiye", "bheja", "bhejdo", "padega", "padegi", "padta", "padti", "daal",
        "dalna", "dalne", "daalna", "daalne", "dalte", "dalta", "dalti", "dala", "dali", "dalunga",
        "dalenge", "daalenge", "kho", "khoya", "khoyi", "badal", "badalna", "badalwana", "badlna",
        "badlo", "badalni", "banao", "banwana", "banwa", "banega", "banegi", "banta", "banti",
        "banna", "banne", "bhar", "bharna", "bharo", "bhare", "bharne", "bhara", "bhari", "sudhar",
        "sudharna", "sudhaar", "hatana", "hatao", "hatwana", "puchna", "pucho", "poochna", "socho",
        "ruko", "rukiye", "suniye",
        # little words
        "aur", "bhi", "sirf", "abhi", "kabhi", "sabhi", "tabhi", "fir", "phir", "firse", "phirse",
        "jaldi", "jldi", "bahut", "bohot", "bhot", "bohut", "bahot", "bht", "zyada", "jyada",
        "jada", "kam", "thoda", "thodi", "thode", "sahi", "shi", "galat", "glt", "theek", "thik",
        "thk", "acha", "accha", "achha", "acchha", "achchha", "achi", "acchi", "ache", "acche",
        "achhe", "bilkul", "lekin", "magar", "pe", "tak", "wala", "wali", "wale", "vala", "vali",
        "vale", "saath", "sath", "bina", "baad", "pehle", "pahle", "phle", "upar", "neeche",
        "niche", "andar", "bahar", "paas", "taraf", "jagah", "ka", "ki", "ke", "ko", "se", "agar",
        "agr", "toh", "jabki", "sab", "sabko", "sabka", "saare", "sare", "dono", "kuch", "kuchh",
        "koi", "yaha", "yahan", "yahaan", "waha", "wahan", "vaha", "vahan",
        # nouns
        "aaj", "parso", "subah", "sham", "shaam", "raat", "saal", "mahina", "mahine", "hafta",
        "tarikh", "tareekh", "samay", "waqt", "baar", "naya", "nayi", "naye", "purana", "purani",
        "purane", "ghar", "gaon", "gaaon", "sheher", "shehar", "mohalla", "gali", "logo", "logon",
        "paisa", "paise", "rupaye", "pata", "pta", "matlab", "matlb", "kaam", "baat", "insaan",
        "insan", "aadmi", "haal", "galti", "madad", "dikkat", "pareshani", "chutti", "bheed",
        "khada", "khadi", "khade", "ek", "teen", "paanch", "maa", "pitaji", "mataji", "beta",
        "beti", "biwi", "pati", "patni", "chacha", "dada", "dadi", "nana", "nani",
        # elections
        "matdata", "matdaata", "matdan", "matdaan", "chunav", "chunaav", "pehchan", "pehchaan",
        "patra", "suchi", "soochi", "kendra", "sabha", "vidhan", "neta", "sarkar", "sarkari",
        "sarkaari", "umar", "umr", "janam",
        # courtesy
        "kripya", "krupya", "kripaya", "jarur", "zaroor", "zarur", "jaroor", "dhanyawad",
        "dhanyavad", "dhanyabad", "dhanywad", "dhanyvad", "shukriya", "sukriya", "shukria",
        "meharbani", "namaste", "namaskar", "namashkar", "namaskaar", "pranam", "pranaam", "adaab",
        "aadab", "salaam", "salam", "suprabhat", "shubh", "ratri", "raatri", "akal", "radhe",
        "alvida", "khuda", "hafiz",
    }
)

# English words that romanized Hindi rarely uses.
_ENGLISH = frozenset(
    {
        # verbs
        "is", "am", "are", "was", "were", "be", "been", "being", "does", "did", "doing", "done",
        "have", "has", "had", "having", "can", "can't", "cant", "could", "couldn't", "will",
        "won't", "wont", "would", "wouldn't", "shall", "should", "shouldn't", "may", "might",
        "must", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "aren't",
        "wasn't", "haven't", "hasn't", "want", "wants", "wanted", "need", "needs", "needed",
        "tell", "told", "know", "knows", "knew", "get", "gets", "got", "getting", "give", "given",
        "find", "found", "make", "made", "take", "taken", "go", "going", "gone", "went", "come",
        "coming", "came", "see", "seen", "saw", "look", "let", "like", "able",
        # pronouns
        "i", "i'm", "im", "i'd", "i've", "i'll", "my", "mine", "myself", "you", "you're", "your",
        "yours", "yourself", "she", "her", "hers", "him", "his", "it", "it's", "its", "we",
        "we're", "our", "ours", "they", "they're", "their", "them", "this", "that", "these",
        "those", "there", "here", "someone", "anyone", "anything", "something", "nothing",
        # questions
        "what", "what's", "whats", "where", "where's", "wheres", "when", "which", "who", "whom",
        "whose", "why", "how",
        # little words
        "the", "a", "an", "of", "at", "for", "from", "with", "without", "about", "into", "onto",
        "by", "than", "then", "if", "because", "but", "not", "and", "any", "some", "every", "each",
        "all", "also", "just", "only", "very", "much", "many", "more", "most", "other", "another",
        "same", "such", "own", "yet", "still", "already", "again", "ever", "never", "always",
        "too", "now", "today", "tomorrow", "yesterday", "near", "after", "before", "until", "yes",
        "yeah", "yep", "yup", "nope", "goodbye", "welcome", "great",
    }
)

# Words that are short, chatty or spelled alike in both: (hindi, english) weights.
_SHARED: dict[str, tuple[float, float]] = {
    # Chat English that Hinglish writers use as freely as English writers do.
    **dict.fromkeys(("please", "thanks", "thank", "thankyou", "thanku", "tysm"), (0.0, 0.6)),
    **dict.fromkeys(("sorry", "hello", "hey", "hi", "bye", "u", "so", "till"), (0.0, 0.6)),
    **dict.fromkeys(("thx", "thnx", "thanx", "tnx", "ty", "good", "morning"), (0.0, 0.5)),
    **dict.fromkeys(("evening", "night"), (0.0, 0.5)),
    **dict.fromkeys(("pls", "plz", "r"), (0.0, 0.4)),
    **dict.fromkeys(("up", "n", "y"), (0.0, 0.3)),
    "off": (0.0, 0.5),  # else squeezed to "of"; Hinglish says "off kardo"
    "no": (0.0, 0.8),
    # English words that are also romanized Hindi ("list me naam", "booth to bata do").
    "the": (0.3, 1.0), "is": (0.3, 1.0), "in": (0.2, 0.8), "on": (0.2, 0.8),
    "to": (0.5, 0.6), "do": (0.5, 0.6), "he": (0.5, 0.6), "me": (0.5, 0.4),
    "us": (0.4, 0.6), "or": (0.4, 0.6), "age": (0.3, 0.5), "per": (0.4, 0.4),
    "pass": (0.4, 0.4), "door": (0.4, 0.4), "log": (0.5, 0.3), "sake": (0.5, 0.3),
    "main": (0.6, 0.2), "mere": (0.8, 0.2), "par": (0.7, 0.1), "mile": (0.6, 0.2),
    "bar": (0.5, 0.2), "sun": (0.4, 0.2), "sat": (0.3, 0.2), "din": (0.5, 0.1),
    "band": (0.5, 0.1),
    # Hindi, but short or also a name ("Gaya" is a constituency): not enough alone.
    **dict.fromkeys(("gaya", "mat", "jab", "bas", "sri", "ve", "aye", "q"), (0.5, 0.0)),
    **dict.fromkeys(("tab", "m", "v"), (0.4, 0.0)),
    **dict.fromkeys(("aa", "de", "le", "lag", "ham"), (0.6, 0.0)),
    **dict.fromkeys(("lo", "ja"), (0.7, 0.0)),
    **dict.fromkeys(("h", "ho", "na", "ab", "ha", "hn", "ni", "hum", "dal"), (0.8, 0.0)),
    **dict.fromkeys(("bol", "chal", "kal", "bana", "kiya"), (0.8, 0.0)),
    # Forms of address mark a Hindi speaker even inside English ("thank u bhai").
    **dict.fromkeys(("ji", "jee", "bhai", "bhaiya", "bhaiyya", "didi", "yaar"), (1.5, 0.0)),
    "yr": (1.0, 0.0),
}

# Words that carry no language signal: fillers, acronyms, ids, place names.
_NEUTRAL = frozenset(
    {
        # fillers
        "ok", "okay", "okey", "okk", "k", "kk", "hmm", "hm", "haha", "hahaha", "hehe", "lol",
        "lmao", "xd", "oh", "ohh", "ah", "aha", "umm", "um", "uh", "huh", "wow", "yo", "gn", "sir",
        "madam", "maam", "mam",
        # acronyms and ids
        "evm", "vvpat", "epic", "eci", "nvsp", "ero", "blo", "aero", "deo", "ceo", "otp", "pin",
        "nota", "sms", "id", "ids", "pdf", "app", "url", "www", "pan", "dl", "aadhar", "aadhaar",
        "adhar",
        # names of places and languages
        "patna", "sahib", "varanasi", "banaras", "benaras", "kashi", "lucknow", "bihar", "uttar",
        "pradesh", "jharkhand", "delhi", "hindi", "english", "angrezi",
    }
)
# fmt: on


_WEIGHTS: dict[str, tuple[float, float]] = {
    **{word: (0.0, 1.0) for word in _ENGLISH},
    **{word: (1.0, 0.0) for word in _HINGLISH},
    **_SHARED,
    **{word: (0.0, 0.0) for word in _NEUTRAL},
}


def _lookup(word: str) -> tuple[float, float] | None:
    """The weights of a lower-case word, forgiving stretched spellings (kyaaa, nahiii, okk)."""
    weights = _WEIGHTS.get(word)
    if weights is None and len(word) > 2:
        squeezed = _RUN3.sub(r"\1\1", word)
        weights = _WEIGHTS.get(squeezed) or _WEIGHTS.get(_RUN3.sub(r"\1", word))
        if weights is None:
            weights = _WEIGHTS.get(_TRAILING_DOUBLE.sub(r"\1", squeezed))
    return weights


def _is_acronym(raw: str) -> bool:
    """EVM, BLO, ERO: short capitals name a thing, not a language."""
    return raw.isupper() and len(raw) <= 3


def _latin_verdict(text: str) -> Language | None:
    """Decide on the Latin-script words of ``text`` alone."""
    hindi = english = 0.0
    has_plain_word = False
    for match in _WORD.finditer(text):
        raw = match.group()
        word = raw.lower().replace("\u2019", "'")
        weights = _lookup(word)
        if weights is None:
            if "'" in word:
                english += 1.0  # contractions are an English habit
            elif _HINDI_SHAPE.search(word):
                hindi += _SHAPE_WEIGHT
            elif len(word) >= 3 and not _is_acronym(raw) and any(v in word for v in "aeiou"):
                has_plain_word = True
            continue
        hindi += weights[0]
        english += weights[1]
    # A tie is no evidence: "transfer me to support" scores both sides equally.
    if hindi >= _HI_MIN and hindi > english:
        return Language.HI
    if english >= _EN_MIN and english > hindi:
        return Language.EN
    return Language.EN if has_plain_word else None


def _letter_counts(text: str) -> tuple[int, int]:
    devanagari = sum(len(run) for run in _DEVANAGARI.findall(text))
    latin = sum(len(run) for run in _LATIN.findall(text))
    return devanagari, latin


def detect(text: str) -> Language | None:
    """The language a voter wrote in.

    Devanagari -> HI, romanized Hindi (Hinglish) -> HI, English -> EN, and None when
    the text carries no language signal (empty, emoji only, digits/EPIC/PIN only,
    punctuation, a bare "ok"). Only the first `MAX_DETECT_CHARS` characters are read.
    """
    text = _NOISE.sub(" ", text[:MAX_DETECT_CHARS])
    devanagari, latin = _letter_counts(text)
    if devanagari and devanagari >= _DEVANAGARI_SHARE * (devanagari + latin):
        return Language.HI
    verdict = _latin_verdict(text) if latin else None
    if verdict is None and devanagari:
        return Language.HI
    return verdict


def is_hinglish(text: str) -> bool:
    """Whether ``text`` is Hindi written in Latin letters (read as far as `detect` reads)."""
    text = _NOISE.sub(" ", text[:MAX_DETECT_CHARS])
    devanagari, latin = _letter_counts(text)
    if not latin or devanagari >= _DEVANAGARI_SHARE * (devanagari + latin):
        return False
    return _latin_verdict(text) is Language.HI

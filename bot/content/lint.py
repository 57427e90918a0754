"""The content lint behind ``make check``: what a bilingual assistant needs and Rasa does not check.

Run ``python -m bot content check`` (``--rasa`` also runs ``rasa data validate``; ``--fix`` rewrites
NFC and removes invisible characters).  Every problem names a file and line and says what to do;
``docs/content.md`` explains each check by its name (the ``[name]`` at the end of a message).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import yaml
from yaml.nodes import Node

from bot.content import bilingual, pairs, provenance, style
from bot.content.sources import LANGS, Content, Example, Problem, line_of, load, mapping, sequence, string
from bot.content.text import (
    annotated_entities,
    describe,
    has_devanagari,
    has_letters,
    normalize,
    stray_characters,
    without_entities,
)
from bot.settings import ROOT

LANG_NAMES = {"en": "English", "hi": "Hindi (Devanagari)", "hinglish": "Hinglish (Hindi in Latin letters)"}
RESPONSE_LANGS = ("hi", "en")
RULES_FILE = "content_rules.yml"
# Rasa's own default actions send these responses (action_default_fallback sends utter_default).
RASA_DEFAULT_RESPONSES = frozenset({"utter_default"})
# Actions Rasa runs without a rule: the session start override.
RASA_DEFAULT_ACTIONS = frozenset({"action_session_start"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_RESPONSE_IN_CODE = re.compile(r"[\"'](utter_\w+)[\"']")


# ------------------------------------------------------------------ the checks


def load_rules(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """Per-intent minimum example counts: ``{"*": default, intent: override}`` from content_rules.yml."""
    path = root / RULES_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rules = {"*": {lang: int(data["min_examples"][lang]) for lang in LANGS}}
        for intent, override in (data.get("min_examples_by_intent") or {}).items():
            rules[intent] = {lang: int(override.get(lang, rules["*"][lang])) for lang in LANGS}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SystemExit(f"{RULES_FILE}: cannot read the example thresholds ({exc!r}); see docs/content.md") from exc
    return rules


def check_example_counts(content: Content, rules: dict[str, dict[str, int]]) -> Iterator[Problem]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for example in content.examples:
        if example.lang:
            counts[(example.intent, example.lang)] += 1
    for intent in sorted(set(content.domain_intents) | set(content.intent_blocks)):
        minimum = rules.get(intent, rules["*"])
        for lang in LANGS:
            have, need = counts[(intent, lang)], minimum[lang]
            if have >= need:
                continue
            if (intent, lang) in content.blocks:
                path, line = content.blocks[(intent, lang)]
                yield Problem(
                    path,
                    line,
                    "few-examples",
                    f"intent '{intent}' has {have} {LANG_NAMES[lang]} examples; {RULES_FILE} asks for at least "
                    f"{need}. Add {need - have} more, different in wording, the way voters type",
                )
            else:
                path, line = content.intent_blocks.get(intent) or ("domain.yml", content.domain_intents[intent])
                yield Problem(
                    path,
                    line,
                    "few-examples",
                    f"intent '{intent}' has no {LANG_NAMES[lang]} examples: add a block with `metadata:` / "
                    f"`lang: {lang}` and at least {need} examples",
                )


def check_scripts(content: Content) -> Iterator[Problem]:
    for ex in content.examples:
        # Entity values (EPIC numbers, PIN codes) say nothing about the language; an example that is
        # only such a value ("[ABC1234567](epic_number)") fits any block.
        words = without_entities(ex.text)
        devanagari = has_devanagari(words)
        if ex.lang == "hi" and not devanagari and has_letters(words):
            yield Problem(
                ex.path,
                ex.line,
                "wrong-script",
                f"'{ex.text}' is in a `lang: hi` block but has no Devanagari letters: move it to the intent's "
                "`lang: hinglish` (Hindi in Latin letters) or `lang: en` block",
            )
        elif ex.lang in ("en", "hinglish") and devanagari:
            yield Problem(
                ex.path,
                ex.line,
                "wrong-script",
                f"'{ex.text}' is in a `lang: {ex.lang}` block but contains Devanagari: move it to the intent's "
                "`lang: hi` block, or write it in Latin letters",
            )


def check_duplicates(content: Content) -> Iterator[Problem]:
    first: dict[str, Example] = {}
    for ex in content.examples:
        key = normalize(ex.text)
        seen = first.setdefault(key, ex)
        if seen is ex:
            continue
        same = "the same example" if seen.text == ex.text else f"a near-duplicate of '{seen.text}'"
        if seen.intent != ex.intent:
            yield Problem(
                ex.path,
                ex.line,
                "duplicate-example",
                f"'{ex.text}' (intent '{ex.intent}') is {same} under intent '{seen.intent}' ({seen.path}:{seen.line}); "
                "one text under two intents confuses the model: keep it under the right intent only",
            )
        else:
            yield Problem(
                ex.path,
                ex.line,
                "repeated-example",
                f"'{ex.text}' is {same} at {seen.path}:{seen.line} (same intent; case, punctuation and spaces do "
                "not count): delete one, or reword it into a really different example",
            )


def _language_of(variation: Node) -> str | None:
    for condition in sequence(mapping(variation).get("condition")):
        fields = mapping(condition)
        if string(fields.get("type")) == "slot" and string(fields.get("name")) == "language":
            return string(fields.get("value"))
    return None


def check_responses(content: Content) -> Iterator[Problem]:
    for name, (line, variations) in content.responses.items():
        by_lang: dict[str, list[Node]] = defaultdict(list)
        for variation in variations:
            lang = _language_of(variation)
            if lang not in RESPONSE_LANGS:
                yield Problem(
                    "domain.yml",
                    line_of(variation),
                    "response-languages",
                    f"a variation of '{name}' has no language condition: start it with "
                    "`- condition: [{type: slot, name: language, value: hi}]` (or `en`)",
                )
                continue
            by_lang[lang].append(variation)
        for lang, label in (("hi", "Hindi"), ("en", "English")):
            if not by_lang[lang]:
                yield Problem(
                    "domain.yml",
                    line,
                    "response-languages",
                    f"response '{name}' has no {label} variation: add one with `value: {lang}` in its condition, "
                    "with the same buttons and {placeholders}",
                )
            for extra in by_lang[lang][1:]:
                yield Problem(
                    "domain.yml",
                    line_of(extra),
                    "response-languages",
                    f"response '{name}' has a second {label} variation here: keep one per language",
                )
        if by_lang["hi"] and by_lang["en"]:
            yield from _compare_variations(name, by_lang["hi"][0], by_lang["en"][0])


def _compare_variations(name: str, hi: Node, en: Node) -> Iterator[Problem]:
    hi_fields, en_fields = mapping(hi), mapping(en)
    hi_text, en_text = string(hi_fields.get("text")) or "", string(en_fields.get("text")) or ""
    payloads = {
        lang: [string(mapping(b).get("payload")) or "" for b in sequence(fields.get("buttons"))]
        for lang, fields in (("hi", hi_fields), ("en", en_fields))
    }
    if payloads["hi"] != payloads["en"]:
        yield Problem(
            "domain.yml",
            line_of(hi_fields.get("buttons") or hi),
            "button-mismatch",
            f"the buttons of '{name}' differ: Hindi sends {payloads['hi']}, English sends {payloads['en']}; "
            "use the same payloads in the same order in both, and translate only the titles",
        )
    hi_slots, en_slots = set(_PLACEHOLDER.findall(hi_text)), set(_PLACEHOLDER.findall(en_text))
    if hi_slots != en_slots:
        only = [f"{{{s}}} only in Hindi" for s in sorted(hi_slots - en_slots)]
        only += [f"{{{s}}} only in English" for s in sorted(en_slots - hi_slots)]
        yield Problem(
            "domain.yml",
            line_of(hi),
            "placeholder-mismatch",
            f"'{name}' has {', '.join(only)}; both languages need the same {{placeholders}}, spelled exactly the "
            "same (an action fills them in)",
        )
    if hi_text and (not has_devanagari(hi_text) or hi_text == en_text):
        yield Problem(
            "domain.yml",
            line_of(hi),
            "untranslated",
            f"the Hindi variation of '{name}' is not in Hindi (no Devanagari, or the same as the English): "
            "write it in plain Hindi",
        )


def check_whatsapp_buttons(content: Content) -> Iterator[Problem]:
    """Buttons WhatsApp cannot show whole: more than 10 options, or titles past its limits."""
    from bot.channels.whatsapp_send import BUTTON_TITLE, LIST_ROWS, REPLY_BUTTONS, ROW_TITLE

    for name, (_, variations) in content.responses.items():
        for variation in variations:
            buttons = sequence(mapping(variation).get("buttons"))
            limit, kind = (BUTTON_TITLE, "reply button") if len(buttons) <= REPLY_BUTTONS else (ROW_TITLE, "list row")
            if len(buttons) > LIST_ROWS:
                yield Problem(
                    "domain.yml",
                    line_of(buttons[LIST_ROWS]),
                    "whatsapp-buttons",
                    f"'{name}' has {len(buttons)} buttons; a WhatsApp list shows {LIST_ROWS}: "
                    "keep at most 10, or split the question",
                )
            for button in buttons:
                title = string(mapping(button).get("title")) or ""
                if len(title) > limit:
                    yield Problem(
                        "domain.yml",
                        line_of(button),
                        "whatsapp-buttons",
                        f"the title '{title}' of '{name}' has {len(title)} characters; a WhatsApp {kind} "
                        f"shows {limit}: shorten it (with {len(buttons)} buttons they are {kind}s)",
                    )


def responses_used_outside_stories(content: Content) -> set[str]:
    """Responses that custom actions send by name, form questions, and Rasa's own defaults."""
    used = set(RASA_DEFAULT_RESPONSES)
    for path in sorted((content.root / "bot" / "actions").glob("*.py")):
        used |= set(_RESPONSE_IN_CODE.findall(path.read_text(encoding="utf-8")))
    for form, (_, slots) in content.forms.items():
        used |= {f"utter_ask_{slot}" for slot in slots} | {f"utter_ask_{form}_{slot}" for slot in slots}
    return used


def check_usage(content: Content) -> Iterator[Problem]:
    for intent, line in content.domain_intents.items():
        if intent not in content.story_intents:
            yield Problem(
                "domain.yml",
                line,
                "unused-intent",
                f"intent '{intent}' is in no rule or story, so the assistant never answers it: add a rule in "
                "stories/ (or remove the intent and its examples)",
            )
    for intent in sorted(set(content.intent_blocks) - set(content.domain_intents)):
        path, line = content.intent_blocks[intent]
        yield Problem(
            path,
            line,
            "undeclared-intent",
            f"intent '{intent}' has examples but is not listed under `intents:` in domain.yml: add it there",
        )
    outside = responses_used_outside_stories(content)
    for name, (line, _) in content.responses.items():
        if name not in content.story_actions and name not in outside:
            yield Problem(
                "domain.yml",
                line,
                "unused-response",
                f"response '{name}' is never sent: no rule or story has `- action: {name}`, no action in "
                "bot/actions/ sends it, and it is not a form question (utter_ask_<slot>); use it or remove it",
            )
    used = content.story_actions | content.slot_actions | RASA_DEFAULT_ACTIONS
    used |= {f"validate_{form}" for form in content.forms if form in content.story_actions}
    for name, line in content.domain_actions.items():
        if name not in used:
            yield Problem(
                "domain.yml",
                line,
                "unused-action",
                f"action '{name}' is in no rule, story or slot mapping (a validate_<form> action needs its form in "
                "a rule): use it or remove it from `actions:`",
            )
    for form, (line, _) in content.forms.items():
        if form not in content.story_actions:
            yield Problem(
                "domain.yml",
                line,
                "unused-action",
                f"form '{form}' is in no rule or story: add a rule that starts it, or remove it",
            )


def check_entities(content: Content) -> Iterator[Problem]:
    known = ", ".join(sorted(content.domain_entities))
    for ex in content.examples:
        for entity in annotated_entities(ex.text):
            if entity not in content.domain_entities:
                yield Problem(
                    ex.path,
                    ex.line,
                    "unknown-entity",
                    f"'{ex.text}' marks entity '{entity}', which is not under `entities:` in domain.yml "
                    f"(known: {known}): fix the name, or add the entity to the domain",
                )
    for name, path, line in content.entity_blocks:
        if name not in content.domain_entities:
            yield Problem(
                path,
                line,
                "unknown-entity",
                f"regex/lookup '{name}' is not an entity under `entities:` in domain.yml, so nothing uses what it "
                f"finds (known: {known}): rename it or add the entity",
            )


def text_files(root: Path = ROOT) -> list[Path]:
    """Every file whose text reaches the model or the voter."""
    files = [root / name for name in ("domain.yml", "gateway_texts.yml", "canned_responses.yml", "sources.yml")]
    for folder in ("nlu", "stories", "tests/conversations", "campaigns"):
        files += sorted((root / folder).glob("*.yml"))
    return [path for path in files if path.exists()]


def check_text(content: Content) -> Iterator[Problem]:
    for path in text_files(content.root):
        rel = content.rel(path)
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
            if not unicodedata.is_normalized("NFC", line):
                word = next(w for w in line.split() if not unicodedata.is_normalized("NFC", w))
                yield Problem(
                    rel,
                    number,
                    "not-nfc",
                    f"'{word}' is not NFC-normalized (the same letters can be stored two ways, e.g. ड़ as one "
                    "character or as ड + ़); run `python -m bot content check --fix`, which rewrites it",
                )
            for column, ch in stray_characters(line):
                yield Problem(
                    rel,
                    number,
                    "stray-character",
                    f"invisible character {describe(ch)} at column {column}: delete it (often pasted from a "
                    "web page or a word processor); `python -m bot content check --fix` removes it",
                )


def lint(root: Path = ROOT) -> list[Problem]:
    """Every problem in the content under ``root``, sorted by file and line."""
    rules = load_rules(root)
    content = load(root)
    problems = list(content.problems)
    checks = (check_scripts, check_duplicates, check_responses, check_usage, check_entities, check_text)
    for check in (*checks, check_whatsapp_buttons):
        problems += check(content)
    problems += check_example_counts(content, rules)
    texts = bilingual.pairs(content)
    problems += style.check(texts, root) + pairs.check(texts)
    if (root / provenance.SOURCES).exists():
        problems += provenance.check(content, texts)[0]
    return sorted(set(problems))


def warnings(root: Path = ROOT) -> list[Problem]:
    """What `make check` reports without failing: answers without a source, sources not re-checked lately."""
    if not (root / provenance.SOURCES).exists():
        return []
    content = load(root)
    return sorted(set(provenance.check(content, bilingual.pairs(content))[1]))


# ------------------------------------------------------------------ fixing, Rasa, the command line


def fix_text(text: str) -> str:
    """NFC, and the invisible characters :func:`stray_characters` reports removed."""
    lines = []
    for line in unicodedata.normalize("NFC", text).split("\n"):
        stray = {column - 1 for column, _ in stray_characters(line)}
        lines.append("".join(ch for i, ch in enumerate(line) if i not in stray))
    return "\n".join(lines)


def fix(root: Path = ROOT) -> list[Path]:
    changed = []
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        fixed = fix_text(text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")
            changed.append(path)
    return changed


_RASA_WARNING = re.compile(r"(?:UserWarning|FutureWarning): (?P<msg>.*)|\b(?:WARNING|ERROR)\b\s+(?P<log>rasa.*)")
_RASA_UNUSED = re.compile(r"The (?:utterance|intent) '(\w+)' is not used in any story or rule")
_QUOTED = re.compile(r"'([^']+)'")


def rasa_validate(root: Path = ROOT) -> tuple[int, list[str]]:
    """Run ``rasa data validate``; its exit code and its warnings and errors, located where possible.

    Warnings about unused intents and responses are left out: the lint reports those with their
    line, and knows the responses that actions and forms send, which Rasa cannot see.
    """
    rasa = root / ".venv-rasa" / "bin" / "rasa"
    if not rasa.exists():
        return 2, ["Rasa is not installed in .venv-rasa: run `make setup`"]
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    cmd = [str(rasa), "data", "validate", "--data", "nlu", "stories"]
    cmd += ["--domain", "domain.yml", "--config", "config.yml"]
    result = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)
    stories = load(root).story_names
    messages: list[str] = []
    continuing = False
    for line in (result.stdout + result.stderr).splitlines():
        match = _RASA_WARNING.search(line)
        if match:
            continuing = bool(match.group("log"))
            if not _RASA_UNUSED.search(line):
                messages.append((match.group("msg") or match.group("log")).strip())
        elif continuing and line.startswith("  ") and line.strip():
            # A story conflict: the stories and rules involved follow, indented.
            where = [f"{p}:{n}" for p, n in (stories.get(q) for q in _QUOTED.findall(line)) if p]  # type: ignore[misc]
            messages.append(line.strip() + (f" (see {', '.join(where)})" if where else ""))
        else:
            continuing = False
    if result.returncode and not messages:
        messages = (result.stdout + result.stderr).strip().splitlines()[-15:]
    return result.returncode, messages


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`python -m bot content check`."""
    parser.add_argument("--rasa", action="store_true", help="also run `rasa data validate`")
    parser.add_argument("--fix", action="store_true", help="rewrite files: NFC, invisible characters removed")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    if args.fix:
        for path in fix(args.root):
            print(f"fixed {path.relative_to(args.root)}")
    problems = lint(args.root)
    for problem in problems:
        print(problem)
    failed = bool(problems)
    cautions = warnings(args.root)
    for caution in cautions:
        print(f"warning: {caution}")
    if args.rasa:
        print("running rasa data validate (about 20 s)...", flush=True)
        code, messages = rasa_validate(args.root)
        for message in messages:
            print(f"rasa data validate: {message}")
        failed = failed or code != 0 or bool(messages)
    summary = f"{len(problems)} content problem(s)" if problems else "content lint: no problems"
    summary += f", {len(cautions)} warning(s)" if cautions else ""
    print(summary + ("" if not args.rasa else "; rasa data validate: " + ("failed" if failed else "clean")))
    return 1 if failed else 0


"""The content lint (``make check``): each check catches its problem in a small content tree and
names the file and line; the real content passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.content.lint import fix, lint
from bot.settings import ROOT

RULES = "min_examples: {en: 2, hi: 2, hinglish: 2}\nmin_examples_by_intent: {}\n"
DOMAIN = """\
version: "3.1"
intents:
  - greet
  - find_booth
entities:
  - pin_code
actions:
  - action_find_booth
responses:
  utter_greet:
    - condition: [{type: slot, name: language, value: hi}]
      text: "नमस्ते {org_name}! क्या मदद करूँ?"
      buttons:
        - title: "मेरा बूथ"
          payload: /find_booth
    - condition: [{type: slot, name: language, value: en}]
      text: "Namaste from {org_name}! How can I help?"
      buttons:
        - title: "My booth"
          payload: /find_booth
"""
STORIES = """\
version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: booth
  steps:
  - intent: find_booth
  - action: action_find_booth
"""
NLU = """\
version: "3.1"
nlu:
- intent: greet
  metadata:
    lang: en
  examples: |
    - hello
    - hi there
- intent: greet
  metadata:
    lang: hi
  examples: |
    - नमस्ते
    - प्रणाम जी
- intent: greet
  metadata:
    lang: hinglish
  examples: |
    - namaste ji
    - kaise ho
- intent: find_booth
  metadata:
    lang: en
  examples: |
    - where is my polling booth
    - booth for pin [800001](pin_code)
- intent: find_booth
  metadata:
    lang: hi
  examples: |
    - मेरा बूथ कहाँ है
    - पड़ोस में बूथ कहां है
- intent: find_booth
  metadata:
    lang: hinglish
  examples: |
    - mera booth kaha hai
    - booth kidhar hai
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    for name, text in {
        "content_rules.yml": RULES,
        "domain.yml": DOMAIN,
        "stories/rules.yml": STORIES,
        "nlu/main.yml": NLU,
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(root: Path, name: str, needle: str, nth: int = 1) -> int:
    """The line number of the nth line of ``name`` that contains ``needle``."""
    hits = [i for i, line in enumerate((root / name).read_text(encoding="utf-8").split("\n"), 1) if needle in line]
    return hits[nth - 1]


def only(root: Path, check: str) -> list[str]:
    """Every problem, as printed; asserting that all of them come from ``check``."""
    problems = lint(root)
    assert problems and {p.check for p in problems} == {check}, [str(p) for p in problems]
    return [str(p) for p in problems]


def test_the_fixture_is_clean(content: Path) -> None:
    assert lint(content) == []


def test_the_real_content_passes() -> None:
    assert [str(p) for p in lint(ROOT)] == []


def test_too_few_examples_in_one_language(content: Path) -> None:
    edit(content, "nlu/main.yml", "    - booth kidhar hai\n", "")
    [message] = only(content, "few-examples")
    line = line_of(content, "nlu/main.yml", "- intent: find_booth", nth=3)
    assert message.startswith(f"nlu/main.yml:{line}: intent 'find_booth' has 1 Hinglish")
    assert "at least 2. Add 1 more" in message


def test_a_language_without_a_block(content: Path) -> None:
    edit(
        content,
        "nlu/main.yml",
        "    lang: hinglish\n  examples: |\n    - namaste ji",
        "    lang: en\n  examples: |\n    - namaste ji",
    )
    messages = only(content, "few-examples")
    assert any(f"nlu/main.yml:{line_of(content, 'nlu/main.yml', '- intent: greet')}: intent 'greet' has no Hinglish"
               in m for m in messages), messages  # fmt: skip


def test_a_block_without_a_language(content: Path) -> None:
    edit(content, "nlu/main.yml", "  metadata:\n    lang: en\n  examples: |\n    - hello", "  examples: |\n    - hello")
    problems = lint(content)
    assert f"nlu/main.yml:3: this block of intent 'greet' has no metadata lang" in str(problems[0])  # noqa: F541
    assert {p.check for p in problems} == {"block-lang", "few-examples"}


def test_threshold_overrides_come_from_the_rules_file(content: Path) -> None:
    (content / "content_rules.yml").write_text(
        "min_examples: {en: 2, hi: 2, hinglish: 2}\nmin_examples_by_intent:\n  greet: {hi: 3}\n", encoding="utf-8"
    )
    [message] = only(content, "few-examples")
    assert "intent 'greet' has 2 Hindi (Devanagari) examples" in message and "at least 3" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    - प्रणाम जी", "    - pranam ji", "is in a `lang: hi` block but has no Devanagari letters"),
        ("    - kaise ho", "    - कैसे हो", "is in a `lang: hinglish` block but contains Devanagari"),
        ("    - hi there", "    - hi there दोस्त", "is in a `lang: en` block but contains Devanagari"),
    ],
)
def test_an_example_in_the_wrong_script(content: Path, old: str, new: str, expected: str) -> None:
    edit(content, "nlu/main.yml", old, new)
    [message] = only(content, "wrong-script")
    assert message.startswith(f"nlu/main.yml:{line_of(content, 'nlu/main.yml', new.strip()[2:])}: ")
    assert expected in message


def test_an_entity_value_alone_fits_any_block(content: Path) -> None:
    edit(
        content,
        "nlu/main.yml",
        "    - प्रणाम जी\n",
        "    - प्रणाम जी\n    - [८००००१](pin_code)\n    - [800 001](pin_code)\n",
    )
    assert lint(content) == []


def test_a_response_without_its_english_variation(content: Path) -> None:
    edit(content, "domain.yml", 'value: en}]\n      text: "Namaste', 'value: hi}]\n      text: "Namaste')
    messages = only(content, "response-languages")
    assert f"domain.yml:{line_of(content, 'domain.yml', 'utter_greet:')}: response 'utter_greet' has no English" in (
        "\n".join(messages)
    )
    assert any("has a second Hindi variation here" in m for m in messages)


def test_buttons_that_differ_between_languages(content: Path) -> None:
    edit(content, "domain.yml", "        - title: \"My booth\"\n          payload: /find_booth",
         "        - title: \"My booth\"\n          payload: /greet")  # fmt: skip
    [message] = only(content, "button-mismatch")
    assert message.startswith(f"domain.yml:{line_of(content, 'domain.yml', 'मेरा बूथ')}: the buttons of 'utter_greet'")
    assert "['/find_booth']" in message and "['/greet']" in message


def test_placeholders_that_differ_between_languages(content: Path) -> None:
    edit(content, "domain.yml", "Namaste from {org_name}!", "Namaste from {org}!")
    [message] = only(content, "placeholder-mismatch")
    assert message.startswith(f"domain.yml:{line_of(content, 'domain.yml', 'value: hi')}: ")
    assert "{org_name} only in Hindi, {org} only in English" in message


def test_a_hindi_variation_in_english(content: Path) -> None:
    edit(content, "domain.yml", "नमस्ते {org_name}! क्या मदद करूँ?", "Namaste from {org_name}! How can I help?")
    [message] = only(content, "untranslated")
    assert "the Hindi variation of 'utter_greet' is not in Hindi" in message


def test_the_same_example_under_two_intents(content: Path) -> None:
    edit(content, "nlu/main.yml", "    - hi there", "    - Where is my   polling-booth?")
    [message] = only(content, "duplicate-example")
    first = line_of(content, "nlu/main.yml", "where is my polling booth")
    assert message.startswith(f"nlu/main.yml:{first}: 'where is my polling booth' (intent 'find_booth') is a near-dup")
    assert f"under intent 'greet' (nlu/main.yml:{line_of(content, 'nlu/main.yml', 'Where is my')})" in message


def test_an_annotated_example_is_the_same_as_its_text(content: Path) -> None:
    edit(content, "nlu/main.yml", "    - hi there", "    - booth for pin 800001")
    [message] = only(content, "duplicate-example")
    assert "'booth for pin [800001](pin_code)' (intent 'find_booth') is a near-duplicate of 'booth for pin 800001'" in (
        message
    )


def test_a_repeated_example_in_one_intent(content: Path) -> None:
    edit(content, "nlu/main.yml", "    - hi there", "    - hi there\n    - HELLO!")
    [message] = only(content, "repeated-example")
    assert message.startswith(f"nlu/main.yml:{line_of(content, 'nlu/main.yml', 'HELLO!')}: 'HELLO!' is a near-dup")
    assert f"at nlu/main.yml:{line_of(content, 'nlu/main.yml', '- hello')}" in message


def test_an_intent_in_no_rule(content: Path) -> None:
    edit(content, "stories/rules.yml", "  - intent: find_booth\n", "  - intent: greet\n")
    [message] = only(content, "unused-intent")
    assert message.startswith(f"domain.yml:{line_of(content, 'domain.yml', '- find_booth')}: intent 'find_booth'")


def test_an_intent_missing_from_the_domain(content: Path) -> None:
    edit(content, "domain.yml", "  - find_booth\n", "")
    edit(content, "stories/rules.yml", "  - intent: find_booth\n", "  - intent: greet\n")
    [message] = only(content, "undeclared-intent")
    assert message.startswith(f"nlu/main.yml:{line_of(content, 'nlu/main.yml', 'intent: find_booth')}: ")


def test_a_response_nobody_sends(content: Path) -> None:
    edit(content, "domain.yml", "responses:\n", 'responses:\n  utter_lost:\n    - text: "x"\n')
    problems = lint(content)
    unused = [str(p) for p in problems if p.check == "unused-response"]
    assert unused[0].startswith(
        f"domain.yml:{line_of(content, 'domain.yml', 'utter_lost:')}: response 'utter_lost' is "
    )
    assert {p.check for p in problems} == {"unused-response", "response-languages"}


def test_responses_sent_by_actions_and_forms_are_used(content: Path) -> None:
    variations = ('    - condition: [{type: slot, name: language, value: hi}]\n      text: "पिन कोड?"\n'
                  '    - condition: [{type: slot, name: language, value: en}]\n      text: "PIN code?"\n')  # fmt: skip
    edit(content, "domain.yml", "responses:\n", f"forms:\n  booth_form:\n    required_slots:\n      - pin_code\n"
         f"responses:\n  utter_ask_pin_code:\n{variations}  utter_from_code:\n{variations}")  # fmt: skip
    edit(content, "stories/rules.yml", "  - action: action_find_booth", "  - action: booth_form")
    (content / "bot" / "actions").mkdir(parents=True)
    (content / "bot" / "actions" / "x.py").write_text('dispatcher.utter_message(response="utter_from_code")\n')
    [message] = only(content, "unused-action")  # only action_find_booth, now in no rule
    assert message.startswith(f"domain.yml:{line_of(content, 'domain.yml', '- action_find_booth')}: action 'action_f")


def test_an_annotated_entity_missing_from_the_domain(content: Path) -> None:
    edit(content, "nlu/main.yml", "[800001](pin_code)", '[800001]{"entity": "pincode"}')
    [message] = only(content, "unknown-entity")
    assert message.startswith(f"nlu/main.yml:{line_of(content, 'nlu/main.yml', '800001')}: ")
    assert "marks entity 'pincode', which is not under `entities:`" in message


def test_devanagari_not_nfc(content: Path) -> None:
    edit(content, "nlu/main.yml", "पड़ोस", "\u092a\u095c\u094b\u0938")  # precomposed ड़ (U+095C)
    [message] = only(content, "not-nfc")
    assert message.startswith(f"nlu/main.yml:{line_of(content, 'nlu/main.yml', 'में बूथ कहां')}: ")


def test_stray_invisible_characters(content: Path) -> None:
    edit(content, "nlu/main.yml", "    - hi there", "    - hi\u200b there")
    edit(content, "domain.yml", "क्या मदद", "\u00adक्या मदद")
    messages = only(content, "stray-character")
    assert messages == [
        f"domain.yml:{line_of(content, 'domain.yml', 'क्या मदद')}: invisible character U+00AD SOFT HYPHEN at column 33: "
        "delete it (often pasted from a web page or a word processor); `python -m bot content check --fix` removes it "
        "[stray-character]",
        f"nlu/main.yml:{line_of(content, 'nlu/main.yml', 'hi')}: invisible character U+200B ZERO WIDTH SPACE at "
        "column 9: delete it (often pasted from a web page or a word processor); `python -m bot content check --fix` "
        "removes it [stray-character]",
    ]


def test_zwj_and_zwnj_inside_devanagari_words_are_fine(content: Path) -> None:
    edit(content, "nlu/main.yml", "    - प्रणाम जी", "    - प्रणाम जी क्\u200dष\n    - नमस्कार जी क्\u200cष")
    assert lint(content) == []


def test_fix_rewrites_nfc_and_removes_invisible_characters(content: Path) -> None:
    edit(content, "nlu/main.yml", "पड़ोस", "\u092a\u095c\u094b\u0938")
    edit(content, "nlu/main.yml", "    - hi there", "    - hi\u200b there\ufeff")
    assert [p.name for p in fix(content)] == ["main.yml"]
    assert lint(content) == []
    assert "    - hi there\n" in (content / "nlu" / "main.yml").read_text(encoding="utf-8")


def test_a_yaml_error_is_located(content: Path) -> None:
    edit(content, "stories/rules.yml", "  - action: utter_greet", "  - action: utter_greet\n   - bad: [")
    problems = lint(content)
    assert any(p.check == "yaml" and p.path == "stories/rules.yml" for p in problems), problems


def test_the_command_exits_non_zero_and_prints_file_and_line(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check", "--root", str(content)]) == 0
    edit(content, "nlu/main.yml", "    - kaise ho", "    - कैसे हो")
    assert main(["content", "check", "--root", str(content)]) == 1
    out = capsys.readouterr().out
    assert f"nlu/main.yml:{line_of(content, 'nlu/main.yml', 'कैसे हो')}: 'कैसे हो' is in a `lang: hinglish`" in out
    assert "1 content problem(s)" in out


def test_buttons_that_would_not_fit_whatsapp(content: Path) -> None:
    edit(content, "domain.yml", '        - title: "My booth"', '        - title: "Where is my polling booth, please"')
    [message] = only(content, "whatsapp-buttons")
    line = line_of(content, "domain.yml", "Where is my polling booth")
    assert message.startswith(f"domain.yml:{line}: the title 'Where is my polling booth, please' of 'utter_greet'")
    assert "reply button shows 20" in message
    eleven = "".join(f'        - title: "विकल्प {n}"\n          payload: /find_booth\n' for n in range(11))
    edit(content, "domain.yml", '        - title: "मेरा बूथ"\n          payload: /find_booth\n', eleven)
    messages = lint(content)
    assert {p.check for p in messages} >= {"whatsapp-buttons"}
    assert any("has 11 buttons; a WhatsApp list shows 10" in str(p) for p in messages)

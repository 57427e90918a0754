"""The style guide, the EN/HI pair checks and the sources checks of `make check`: each rule catches its
problem in a small content tree, names the file and line, and the real content passes."""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.content.lint import lint, run, warnings
from bot.settings import ROOT
from tests.test_content_lint import DOMAIN, NLU, RULES, STORIES, edit, line_of

GLOSSARY = """\
terms:
  - {concept: polling booth, lang: hi, use: बूथ, not: [मतदान केंद्र, पोलिंग बूथ]}
  - {concept: polling booth, lang: en, use: polling booth, not: [polling station]}
nukta: [तारीख़, ग़लती]
"""
GATEWAY = """\
texts:
  help:
    hi: "आप मुझसे बूथ के बारे में पूछ सकते हैं। मदद: 1950।"
    en: "You can ask me about your booth. Help: 1950."
"""
CANNED = """\
canned:
  - title: Greeting
    hi: "नमस्ते, बताइए क्या मदद करूँ?"
    en: "Hello, how can I help?"
"""
CAMPAIGN = """\
name: check
election_material: false
message:
  hi: "वोटर लिस्ट में नाम देखिए: voters.eci.gov.in"
  en: "Check your name on the voter list: voters.eci.gov.in"
window: {start: 2029-01-01 09:00, end: 2029-02-01 09:00}
"""
SOURCES = """\
max_age_days: 180
pages:
  portal: {url: "https://voters.eci.gov.in/", title: {hi: "पोर्टल", en: "Portal"}, checked: 2026-12-01}
answers:
  domain.yml:
    utter_greet: [portal]
  gateway_texts.yml:
    help: [portal]
  campaigns/check.yml:
    message: [portal]
no_facts:
  canned_responses.yml: [Greeting]
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    files = {
        "content_rules.yml": RULES + "max_sentence_words: 12\n",
        "domain.yml": DOMAIN,
        "stories/rules.yml": STORIES,
        "nlu/main.yml": NLU,
        "glossary.yml": GLOSSARY,
        "gateway_texts.yml": GATEWAY,
        "canned_responses.yml": CANNED,
        "campaigns/check.yml": CAMPAIGN,
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(root: Path, check: str) -> list[str]:
    found = [p for p in lint(root) if p.check == check]
    assert found, [str(p) for p in lint(root)]
    return [str(p) for p in found]


def test_the_fixture_is_clean(content: Path) -> None:
    assert [str(p) for p in lint(content)] == []


def test_the_real_content_passes_and_every_answer_has_a_source() -> None:
    assert [str(p) for p in lint(ROOT)] == []
    assert [str(w) for w in warnings(ROOT) if w.check == "no-source"] == []


# ------------------------------------------------------------------ the style guide


def test_a_word_the_glossary_replaces_is_reported_where_it_is(content: Path) -> None:
    edit(content, "domain.yml", "नमस्ते {org_name}! क्या मदद करूँ?", "नमस्ते {org_name}! मतदान केंद्र कहाँ है?")
    [message] = problems(content, "glossary-term")
    assert message.startswith(f"domain.yml:{line_of(content, 'domain.yml', 'मतदान केंद्र')}: ")
    assert "'बूथ'" in message


def test_the_same_button_named_two_ways_is_caught_in_a_campaign_and_the_menu(content: Path) -> None:
    edit(content, "domain.yml", 'title: "मेरा बूथ"', 'title: "मेरा पोलिंग बूथ"')
    edit(content, "campaigns/check.yml", "window:", 'buttons:\n  - title: {hi: "मेरा मतदान केंद्र", en: "My booth"}\n'
         "    payload: /find_booth\nwindow:")  # fmt: skip
    found = problems(content, "glossary-term")
    assert any(m.startswith("domain.yml:") and "पोलिंग बूथ" in m for m in found)
    assert any(m.startswith("campaigns/check.yml:") and "मतदान केंद्र" in m for m in found)


def test_english_terms_are_checked_in_gateway_texts(content: Path) -> None:
    edit(content, "gateway_texts.yml", "about your booth", "about your polling station")
    [message] = problems(content, "glossary-term")
    assert message.startswith("gateway_texts.yml:4: 'help' says 'polling station'")


def test_a_missing_nukta_is_reported_but_the_nukta_spelling_passes(content: Path) -> None:
    edit(content, "canned_responses.yml", "बताइए क्या मदद करूँ?", "कोई गलती हुई तो बताइए।")
    [message] = problems(content, "nukta")
    assert message.startswith("canned_responses.yml:3: 'Greeting' writes 'गलती' without the nukta: write 'ग़लती'")
    edit(content, "canned_responses.yml", "गलती", "ग़लती")
    assert [p for p in lint(content) if p.check == "nukta"] == []


def test_a_hindi_sentence_ending_with_a_full_stop(content: Path) -> None:
    edit(content, "gateway_texts.yml", "पूछ सकते हैं।", "पूछ सकते हैं.")
    [message] = problems(content, "danda")
    assert message.startswith("gateway_texts.yml:3: ")


def test_a_long_sentence_is_reported_on_its_own_line_of_a_block(content: Path) -> None:
    long = "You can ask me about your booth, your name, your card, the dates, the forms and the helpline too."
    edit(content, "domain.yml", '      text: "Namaste from {org_name}! How can I help?"',
         f'      text: |-\n        Namaste from {{org_name}}!\n        {long}')  # fmt: skip
    [message] = problems(content, "long-sentence")
    assert message.startswith(f"domain.yml:{line_of(content, 'domain.yml', 'You can ask me about your booth')}: ")
    assert "a sentence of 19 words" in message and "keep it under 13" in message


def test_a_24_hour_clock_time_in_hindi(content: Path) -> None:
    edit(content, "domain.yml", "क्या मदद करूँ?", "वोटिंग 18:00 बजे बंद होगी।")
    [message] = problems(content, "clock-time")
    assert "'18:00'" in message and "शाम 6 बजे" in message


# ------------------------------------------------------------------ Hindi and English say the same


def test_a_number_in_one_language_only(content: Path) -> None:
    edit(content, "gateway_texts.yml", "Help: 1950.", "Help: 1951.")
    [message] = problems(content, "pair-numbers")
    assert message.startswith(
        "gateway_texts.yml:3: 'help': the numbers differ; only in Hindi: 1950; only in English: 1951"
    )


def test_devanagari_digits_are_the_same_numbers(content: Path) -> None:
    edit(content, "gateway_texts.yml", "मदद: 1950।", "मदद: १९५०।")
    assert [p for p in lint(content) if p.check == "pair-numbers"] == []


def test_a_link_in_one_language_only(content: Path) -> None:
    edit(content, "campaigns/check.yml", 'list: voters.eci.gov.in"', 'list: electoralsearch.eci.gov.in"')
    [message] = problems(content, "pair-links")
    assert message.startswith("campaigns/check.yml:4: 'message': the links differ")
    assert "only in English: electoralsearch.eci.gov.in" in message


def test_lists_of_different_lengths(content: Path) -> None:
    edit(content, "domain.yml", '      text: "नमस्ते {org_name}! क्या मदद करूँ?"',
         "      text: |-\n        नमस्ते {org_name}! ये पूछ सकते हैं:\n        - बूथ\n        - वोटर लिस्ट")  # fmt: skip
    edit(content, "domain.yml", '      text: "Namaste from {org_name}! How can I help?"',
         "      text: |-\n        Namaste from {org_name}! Ask me about:\n        - your booth")  # fmt: skip
    [message] = problems(content, "pair-lists")
    assert "the Hindi has 2 list items, the English 1" in message


# ------------------------------------------------------------------ sources


def write_sources(root: Path, text: str = SOURCES) -> None:
    (root / "sources.yml").write_text(text, encoding="utf-8")


def test_without_a_sources_file_nothing_is_said_about_sources(content: Path) -> None:
    assert warnings(content) == []


def test_an_answer_without_a_source_is_a_warning_not_a_failure(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_sources(content, SOURCES.replace("  canned_responses.yml: [Greeting]\n", ""))
    [warning] = [str(w) for w in warnings(content)]
    assert warning.startswith("canned_responses.yml:3: 'Greeting' has no source") and "[no-source]" in warning
    code = run(argparse.Namespace(root=content, fix=False, rasa=False))
    assert code == 0 and "warning: canned_responses.yml:3" in capsys.readouterr().out


def test_a_page_checked_over_180_days_ago_is_a_warning(content: Path) -> None:
    write_sources(content, SOURCES.replace("checked: 2026-12-01", f"checked: {date.today() - timedelta(days=181)}"))
    [warning] = [str(w) for w in warnings(content)]
    assert warning.startswith("sources.yml:3: page 'portal'") and "[stale-source]" in warning


def test_a_page_checked_recently_is_fine(content: Path) -> None:
    write_sources(content, SOURCES.replace("checked: 2026-12-01", f"checked: {date.today()}"))
    assert warnings(content) == []


def test_an_unknown_page_or_answer_fails(content: Path) -> None:
    write_sources(content, SOURCES.replace("utter_greet: [portal]", "utter_greet: [portl]\n    utter_gone: [portal]"))
    found = {p.check: str(p) for p in lint(content)}
    assert found.keys() == {"unknown-page", "unknown-answer"}
    assert "'utter_greet' cites page 'portl'" in found["unknown-page"]
    assert "domain.yml has no answer 'utter_gone'" in found["unknown-answer"]


def test_docs_content_md_shows_every_glossary_term() -> None:
    import yaml

    docs = (ROOT / "docs" / "content.md").read_text(encoding="utf-8")
    glossary = yaml.safe_load((ROOT / "glossary.yml").read_text(encoding="utf-8"))
    for term in glossary["terms"]:
        assert term["use"] in docs, f"docs/content.md's glossary lacks {term['use']!r} (glossary.yml)"

"""One module finds and masks EPIC, phone, PIN and Aadhaar-like numbers: whatever a parser accepts is hidden."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from hypothesis import given
from hypothesis import strategies as st

from bot import electoral, identifiers, keys, logs
from bot.content import review
from bot.identifiers import Kind
from tests.helpers.fuzz import finishes

DEVANAGARI = "०१२३४५६७८९"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("my card ABC-1234567", Kind.EPIC, "ABC1234567"),
        ("ABC  1234567", Kind.EPIC, "ABC1234567"),
        ("abc 123 4567", Kind.EPIC, "ABC1234567"),
        ("UP/01/234/1234567 purana card", Kind.EPIC_OLD, "UP/01/234/1234567"),
        ("call 09876543210", Kind.PHONE, "9876543210"),
        ("+91 98765-43210", Kind.PHONE, "9876543210"),
        ("0091 9876543210", Kind.PHONE, "9876543210"),
        ("९८७६५४३२१०", Kind.PHONE, "9876543210"),
        ("pin 800 001", Kind.PIN, "800001"),
        ("aadhaar 2345 6789 0123", Kind.AADHAAR, "234567890123"),
        ("aadhaar 2345-6789-0123", Kind.AADHAAR, "234567890123"),
    ],
)
def test_each_format_is_found_and_masked(text: str, kind: Kind, value: str) -> None:
    assert identifiers.find(text, kind) == value
    masked = identifiers.mask(text)
    assert value not in identifiers.compact(masked).upper()
    assert "***" in masked


@pytest.mark.parametrize("text", ["ABC-1234567", "ABC  1234567", "09876543210", "UP/01/234/1234567"])
async def test_the_log_processor_and_the_review_stream_hide_the_formats_that_leaked(
    text: str, redis: aioredis.Redis
) -> None:
    """bot/logs.mask missed these, and they reached the review stream in clear."""
    digits = identifiers.compact(text)[-7:-2]
    assert digits not in identifiers.compact(logs.mask(f"mera number {text} hai"))
    await review.record(
        redis,
        text=f"mera number {text} hai",
        intent="nlu_fallback",
        confidence=0.3,
        reason=review.Reason.FALLBACK,
        language="hi",
    )
    [(_, fields)] = await redis.xrange(keys.REVIEW)
    assert digits not in identifiers.compact(fields["text"])


def test_text_without_identifiers_is_left_alone() -> None:
    text = "mera booth kahan hai? 2024 me vote diya, ward 12"
    assert identifiers.mask(text) == text


def _digits(draw: st.DrawFn, count: int, first: str = "0123456789") -> str:
    chars = [draw(st.sampled_from(first))] + [draw(st.sampled_from("0123456789")) for _ in range(count - 1)]
    out = []
    for char in chars:
        if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
            char = DEVANAGARI[int(char)]
        out.append(char)
        if draw(st.integers(0, 6)) == 0:
            out.append(draw(st.sampled_from([" ", "-"])))
    return "".join(out).rstrip(" -")


@st.composite
def identifier_like(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["epic", "phone", "pin", "aadhaar", "old"]))
    if kind == "epic":
        letters = draw(st.text("ABCXYZabcxyz", min_size=3, max_size=3))
        return letters + draw(st.sampled_from(["", " ", "  ", "-", " - "])) + _digits(draw, 7)
    if kind == "phone":
        prefix = draw(st.sampled_from(["", "0", "+91", "+91 ", "91", "91-", "0091 ", "+ 91 "]))
        return prefix + _digits(draw, 10, "6789")
    if kind == "pin":
        return _digits(draw, 6, "123456789")
    if kind == "aadhaar":
        return _digits(draw, 12, "23456789")
    return f"{draw(st.sampled_from(['UP', 'BR', 'dl']))}/{_digits(draw, 2)}/{_digits(draw, 3)}/{_digits(draw, 7)}"


voter_text = st.lists(
    st.one_of(identifier_like(), st.text(max_size=12), st.sampled_from([" ", "mera ", "number ", ", ", "\n"])),
    max_size=8,
).map("".join)


@given(voter_text)
def test_whatever_a_parser_accepts_the_masker_hides(text: str) -> None:
    masked = identifiers.mask(text)
    for parse in (electoral.find_epic, electoral.find_phone, electoral.find_pin):
        if parse(text) is not None:
            assert parse(masked) is None, (parse.__name__, text, masked)


@given(voter_text)
def test_masking_is_idempotent_and_never_grows_what_it_finds(text: str) -> None:
    once = identifiers.mask(text)
    assert identifiers.mask(once) == once
    assert list(identifiers.find_all(once)) == []


@given(st.text(max_size=300))
def test_the_identifiers_module_never_fails_on_any_text(text: str) -> None:
    identifiers.mask(text)
    for kind in Kind:
        identifiers.find(text, kind)


def test_a_megabyte_of_near_identifiers_is_masked_in_linear_time() -> None:
    """Long runs of what almost matches (digits, separators, letters) must not make a pattern backtrack."""
    finishes(
        """
        from bot import identifiers
        n = 1_000_000
        for text in ("9 " * (n // 2), "1-" * (n // 2), "ABC" + " " * n, "a1" * (n // 2), "UP/1/" * (n // 5),
                     "9" * n, "+91 " * (n // 4), "abc-" * (n // 4)):
            identifiers.mask(text)
        """
    )

"""parse_extension: valid extensions round-trip; other text gets a diagnosis naming its damage."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.core.extensions import ExtensionProblem, is_extension, parse_extension

extensions = st.integers(0, 999).map(lambda n: f"{n:03d}")
padding = st.text(alphabet=" \t\u00a0\u3000", max_size=3)
non_ascii_digit = st.characters(categories=["Nd"]).filter(lambda c: not c.isascii())
# Letters other than e/E, which scientific notation legitimately contains.
letter = st.sampled_from("abcdfghijklmnopqrstuvwxyzABCDFGHIJKLMNOPQRSTUVWXYZ")


def problem(text: str) -> ExtensionProblem:
    result = parse_extension(text)
    assert isinstance(result, ExtensionProblem), f"{text!r} was accepted as {result!r}"
    return result


@given(extensions, padding, padding)
def test_valid_extension_round_trips_with_padding(ext: str, left: str, right: str) -> None:
    assert parse_extension(left + ext + right) == ext


@given(extensions, padding, padding)
def test_excel_text_form_is_accepted(ext: str, left: str, right: str) -> None:
    assert parse_extension(f'{left}="{ext}"{right}') == ext


@given(st.text())
def test_any_text_is_an_extension_or_a_diagnosis(text: str) -> None:
    result = parse_extension(text)
    if isinstance(result, str):
        assert is_extension(result)
        assert parse_extension(result) == result
    else:
        assert result.text == text
        assert result.reason
        assert len(result.message) < 250
        assert result.suggestion is None or is_extension(result.suggestion)


@given(st.integers(0, 99))
def test_leading_zeros_lost_suggests_the_padded_value(n: int) -> None:
    found = problem(str(n))
    assert found.code == "leading-zeros-lost"
    assert found.suggestion == f"{n:03d}"
    assert f"did you mean {n:03d}?" in found.message


@pytest.mark.parametrize(("text", "guess"), [("7", "007"), ("07", "007"), ("42", "042")])
def test_leading_zeros_examples(text: str, guess: str) -> None:
    found = problem(text)
    assert (found.code, found.suggestion) == ("leading-zeros-lost", guess)
    assert "leading zeros lost" in found.message


@given(st.integers(0, 999), st.sampled_from([".", ","]))
def test_decimal_with_zero_fraction_suggests_the_integer(n: int, sep: str) -> None:
    found = problem(f"{n}{sep}0")
    assert (found.code, found.suggestion) == ("decimal", f"{n:03d}")
    assert "decimal" in found.message


def test_decimal_with_fraction_has_no_guess() -> None:
    found = problem("101.5")
    assert (found.code, found.suggestion) == ("decimal", None)


@given(st.integers(1, 999), st.sampled_from(["E", "e"]))
def test_scientific_notation_suggests_the_integer(n: int, e: str) -> None:
    text = f"{n:.2E}".replace("E", e)  # 101 -> 1.01E+02, exact with 3 significant digits
    found = problem(text)
    assert (found.code, found.suggestion) == ("scientific", f"{n:03d}")
    assert "scientific notation" in found.message


@pytest.mark.parametrize("text", ["1.01E+02", "1,01E+02", "1E+02"])
def test_scientific_examples(text: str) -> None:
    found = problem(text)
    assert found.code == "scientific"
    assert found.suggestion in {"101", "100"}


def test_huge_exponent_is_diagnosed_without_a_guess() -> None:
    found = problem("1E+999999999999999999999")
    assert (found.code, found.suggestion) == ("scientific", None)


@given(st.from_regex(r"[0-9]{4,30}", fullmatch=True))
def test_four_or_more_digits(text: str) -> None:
    found = problem(text)
    assert found.code == "too-many-digits"
    assert f"{len(text)} digits" in found.message


@given(st.text(alphabet="0123456789", max_size=3), letter, st.text(alphabet="0123456789"))
def test_letters_are_not_digits(before: str, char: str, after: str) -> None:
    found = problem(before + char + after)
    assert found.code == "not-digits"
    assert "exactly 3 digits" in found.message


@given(padding)
def test_empty_or_blank(text: str) -> None:
    assert problem(text).code == "empty"
    assert problem(f'="{text}"').code == "empty"


@given(extensions, st.integers(1, 2), st.text(alphabet=" \t\u00a0", min_size=1, max_size=2))
def test_inner_whitespace_is_damage(ext: str, cut: int, gap: str) -> None:
    found = problem(ext[:cut] + gap + ext[cut:])
    assert (found.code, found.suggestion) == ("whitespace", ext)
    assert "whitespace" in found.message


@given(st.lists(non_ascii_digit, min_size=3, max_size=3))
def test_non_ascii_digits_are_named_with_their_ascii_reading(chars: list[str]) -> None:
    import unicodedata

    found = problem("".join(chars))
    assert found.code == "non-ascii-digits"
    assert found.suggestion == "".join(str(unicodedata.decimal(c)) for c in chars)
    assert "non-ASCII digits" in found.message


def test_full_width_digits_example() -> None:
    assert problem("\uff11\uff10\uff11")  # full-width 101.suggestion == "101"


def test_damage_inside_the_excel_form_is_still_diagnosed() -> None:
    found = problem('="7"')
    assert (found.code, found.suggestion) == ("leading-zeros-lost", "007")


def test_spreadsheet_advice_only_for_spreadsheet_damage() -> None:
    assert "format the column as text" in problem("7").message
    assert "format the column as text" not in problem("7").reason
    assert "format the column as text" not in problem("abc").message


def test_long_text_is_shortened_in_the_message() -> None:
    found = problem("x" * 10_000)
    assert len(found.message) < 200
    assert found.text == "x" * 10_000

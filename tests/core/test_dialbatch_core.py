"""Batch file parsing: cells checked one by one, named FILE:LINE:COLUMN, read like any CSV."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.core.dialbatch import Batch, parse_batch, read_dial_batch
from aircall_ext.errors import EXIT_USAGE, UsageError


def batch(text: str) -> Batch:
    return parse_batch(text, "calls.csv")


def usage_error(text: str) -> str:
    with pytest.raises(UsageError) as caught:
        batch(text)
    assert caught.value.exit_code == EXIT_USAGE
    assert "\n" not in caught.value.message
    return caught.value.message


# -- parsing ------------------------------------------------------------------------------


def test_columns_are_matched_by_name_in_any_case_and_order() -> None:
    parsed = batch(" Stage ,DIGITS,Number,Expect\nivr,101,Paris,rings-user\n")
    [request] = parsed.requests
    assert (request.number, request.digits, request.stage) == ("Paris", "101", "ivr")
    assert (request.api_transfer, request.expect, request.line) == (False, "rings-user", 2)
    assert request.columns == {"stage": 1, "digits": 2, "number": 3, "expect": 4}


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_files_are_sniffed(delimiter: str) -> None:
    text = (
        delimiter.join(["number", "digits", "stage"])
        + "\n"
        + delimiter.join(["Paris", "007", "waiting"])
    )
    [request] = batch(text).requests
    assert (request.number, request.digits, request.stage) == ("Paris", "007", "waiting")


def test_lines_are_physical_lines_of_the_file() -> None:
    text = 'number,digits,stage\r\n\r\n"Paris\nOffice",101,ivr\r\nParis,102,ivr\r\n'
    assert [r.line for r in batch(text).requests] == [3, 5]


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        ("true", True),
        ("YES", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("0", False),
        ("", False),
    ],
)
def test_api_transfer_values(cell: str, flag: bool) -> None:
    [request] = batch(f"number,digits,stage,api_transfer\nParis,101,ivr,{cell}\n").requests
    assert request.api_transfer is flag


def test_digits_stay_text_and_excel_text_form_keeps_zeros() -> None:
    parsed = batch('number,digits,stage\nParis,007,ivr\nParis,"=""007""",ivr\nParis,7,ivr\n')
    assert [r.digits for r in parsed.requests] == ["007", "007", "7"]


def test_unknown_columns_are_noted_and_ignored() -> None:
    parsed = batch("number,digits,stage,comment\nParis,101,ivr,hello\n")
    assert parsed.notes and "'comment'" in parsed.notes[0]
    assert len(parsed.requests) == 1


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("number,digits\nParis,101\n", "calls.csv:1:", "missing column stage"),
        ("digits\n101\n", "calls.csv:1:", "missing columns number, stage"),
        ("number,digits,stage,Number\n", "calls.csv:1:4:", "appears twice"),
        ("number,digits,stage\nParis,101,lobby\n", "calls.csv:2:3:", "'lobby'"),
        ("stage,number,digits\n\nivr,,101\n", "calls.csv:3:2:", "number is empty"),
        ("number,digits,stage,api_transfer\nParis,101,ivr,maybe\n", "calls.csv:2:4:", "'maybe'"),
        ("number,digits,stage,expect\nParis,101,ivr,ring\n", "calls.csv:2:4:", "'ring'"),
        ("number,digits,stage\nParis,101,ivr,extra\n", "calls.csv:2:4:", "4 fields"),
        ("", "calls.csv:", "empty file"),
    ],
)
def test_bad_files_are_one_line_usage_errors_naming_the_cell(
    text: str, where: str, words: str
) -> None:
    message = usage_error(text)
    assert message.startswith(where + " ")
    assert words in message


def test_trailing_empty_fields_are_tolerated() -> None:
    assert len(batch("number,digits,stage\nParis,101,ivr,,\n").requests) == 1


@given(st.text(max_size=60))
def test_any_text_parses_or_raises_a_usage_error(text: str) -> None:
    try:
        parsed = batch("number,digits,stage,api_transfer,expect\n" + text)
    except UsageError as err:
        assert err.message.startswith("calls.csv:")
    else:
        assert all(r.line is not None and r.line >= 2 for r in parsed.requests)


# -- read like any CSV (core/csvtable) ----------------------------------------------------


def read(data: bytes) -> Batch:
    return read_dial_batch(data, source="calls.csv")


def test_utf16_with_a_bom_is_read_without_a_note() -> None:
    text = "number\tdigits\tstage\r\nStandard Genève\t007\tivr\r\n"
    parsed = read(text.encode("utf-16"))
    assert parsed.notes == ()
    assert [(r.number, r.digits, r.line) for r in parsed.requests] == [
        ("Standard Genève", "007", 2)
    ]


def test_cp1252_fallback_is_noted() -> None:
    parsed = read("number,digits,stage\nStandard Genève,101,ivr\n".encode("cp1252"))
    assert parsed.requests[0].number == "Standard Genève"
    assert parsed.notes == ("calls.csv is not UTF-8; read as cp1252",)


def test_excel_sep_hint_sets_the_delimiter_and_lines_stay_physical() -> None:
    parsed = batch("sep=;\nnumber;digits;stage\nParis, Office;101;ivr\n")
    [request] = parsed.requests
    assert (request.number, request.line) == ("Paris, Office", 3)
    assert usage_error("sep=;\nnumber;digits\n").startswith("calls.csv:2: missing column stage")


def test_the_delimiter_is_the_one_that_splits_the_header_into_known_names() -> None:
    # As many commas as semicolons on the header line: the known names decide, not counts.
    parsed = batch('number;digits;stage;"notes, a, b, c"\nParis;101;ivr;x, y\n')
    [request] = parsed.requests
    assert (request.number, request.digits, request.stage) == ("Paris", "101", "ivr")


def test_blank_lines_before_the_header_are_skipped_and_counted() -> None:
    parsed = batch("\n\nnumber,digits,stage\nParis,101,ivr\n")
    assert [r.line for r in parsed.requests] == [4]
    assert usage_error("\n \nnumber,digits\n").startswith("calls.csv:3: missing column stage")


def test_a_cell_longer_than_the_csv_module_default_limit_is_read() -> None:
    name = "P" * 200_000
    [request] = batch(f"number,digits,stage\n{name},101,ivr\n").requests
    assert request.number == name

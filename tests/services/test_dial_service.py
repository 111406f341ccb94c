"""Dial service: batch files checked cell by cell, expectations, one account read per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import Number, User
from aircall_ext.errors import EXIT_USAGE, UsageError
from aircall_ext.services.dial import (
    Batch,
    DialRequest,
    dial,
    dial_batch,
    parse_batch,
    read_batch,
    summarize,
)


class FakeClient:
    """The two listings the service needs, counting how often the account is read."""

    def __init__(self) -> None:
        self.users = [
            User(id=1, name="Ann", email="ann@example.com", extension="101"),
            User(id=2, name="Bob", email="bob@example.com", extension="007", available=False),
        ]
        self.numbers = [
            Number.model_validate(
                {
                    "id": 10,
                    "name": "Paris",
                    "digits": "+33 1 76 36 06 95",
                    "flow_editor_enabled": True,
                    "users": [{"id": 2, "email": "bob@example.com"}],
                }
            ),
            Number.model_validate(
                {"id": 11, "name": "Classic", "digits": "+33 1 00 00 00 11", "users": []}
            ),
        ]
        self.listings = 0

    def list_users(self) -> list[User]:
        self.listings += 1
        return self.users

    def list_numbers(self) -> list[Number]:
        return self.numbers


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


# -- reading ------------------------------------------------------------------------------


def test_read_batch_accepts_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes("\ufeffnumber,digits,stage\nParis,101,ivr\n".encode())
    parsed = read_batch(str(path))
    assert parsed.notes == () and parsed.requests[0].number == "Paris"


def test_read_batch_falls_back_to_cp1252_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_bytes("number,digits,stage\nStandard Genève,101,ivr\n".encode("cp1252"))
    parsed = read_batch(str(path))
    assert parsed.requests[0].number == "Standard Genève"
    assert any("cp1252" in note for note in parsed.notes)


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_batch(str(tmp_path / "missing.csv"))
    assert "cannot read" in caught.value.message and "missing.csv" in caught.value.message


# -- running ------------------------------------------------------------------------------


def run_batch(text: str, client: FakeClient | None = None) -> Any:
    return dial_batch(client or FakeClient(), batch(text))  # type: ignore[arg-type]


def test_a_row_passes_on_its_expectation_or_by_reaching_a_user() -> None:
    runs = run_batch(
        "number,digits,stage,expect\n"
        "Paris,101,ivr,\n"  # rings: passes without expect
        "Paris,007,ivr,\n"  # unavailable: fails without expect
        "Paris,007,ivr,user-unavailable\n"  # expected: passes
        "Paris,101,ringing,rings-user\n"  # expectation not met
    )
    assert [r.result.outcome for r in runs] == [
        "rings-user",
        "user-unavailable",
        "user-unavailable",
        "stage-not-accepting",
    ]
    assert [r.passed for r in runs] == [True, False, True, False]
    assert summarize(runs) == {"rows": 4, "passed": 2, "failed": 2, "reaching_user": 1}


def test_a_batch_reads_the_account_once() -> None:
    client = FakeClient()
    run_batch("number,digits,stage\nParis,101,ivr\n10,101,audio\nClassic,101,welcome\n", client)
    assert client.listings == 1


def test_an_unknown_number_in_a_row_names_its_cell() -> None:
    with pytest.raises(UsageError) as caught:
        run_batch("digits,number,stage\n101,Paris,ivr\n101,Lyon,ivr\n")
    assert caught.value.message.startswith("calls.csv:3:2: NUMBER 'Lyon'")
    assert caught.value.hint is not None and "10 'Paris'" in caught.value.hint


def test_a_batch_result_document_carries_line_expect_and_passed() -> None:
    [run] = run_batch("number,digits,stage,expect\nParis,101,ivr,rings-user\n")
    doc = run.to_json()
    assert (doc["line"], doc["expect"], doc["passed"]) == (2, "rings-user", True)
    assert doc["missed_call_notified"] == [{"id": 2, "email": "bob@example.com", "name": "Bob"}]


def test_dial_one_finds_the_number_by_digits() -> None:
    request = DialRequest("33176360695", "101", "waiting")
    run = dial(FakeClient(), request)  # type: ignore[arg-type]
    assert run.result.number.id == 10 and run.passed and run.request.line is None

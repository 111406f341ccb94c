"""Dial service: batch files read from disk or stdin, expectations, one account read per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aircall_ext.api.client import Listing
from aircall_ext.api.models import Number, User
from aircall_ext.core.dialbatch import Batch, DialRequest, parse_batch
from aircall_ext.errors import Remedy, UsageError, write_hint
from aircall_ext.services.dial import RowError, dial, dial_batch, read_batch, summarize


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
                {
                    "id": 11,
                    "name": "Classic",
                    "digits": "+33 1 00 00 00 11",
                    "flow_editor_enabled": False,
                    "is_ivr": False,
                    "users": [],
                }
            ),
        ]
        self.listings = 0
        self.details: list[int] = []
        self.listed_without_users = False

    def list_users(self) -> Listing[User]:
        self.listings += 1
        return Listing(tuple(self.users))

    def list_numbers(self) -> Listing[Number]:
        if self.listed_without_users:  # as the live API lists them
            return Listing(tuple(n.model_copy(update={"users": None}) for n in self.numbers))
        return Listing(tuple(self.numbers))

    def get_number(self, number_id: int) -> Number:
        self.details.append(number_id)
        return next(n for n in self.numbers if n.id == number_id)


def batch(text: str) -> Batch:
    return parse_batch(text, "calls.csv")


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
    assert summarize(runs) == {
        "rows": 4,
        "passed": 2,
        "failed": 2,
        "errors": 0,
        "reaching_user": 1,
    }


def test_a_batch_reads_the_account_once() -> None:
    client = FakeClient()
    run_batch("number,digits,stage\nParis,101,ivr\n10,101,audio\nClassic,101,welcome\n", client)
    assert client.listings == 1
    assert client.details == []  # the listing carried every distribution


def test_numbers_listed_without_users_are_read_once_each_by_id() -> None:
    client = FakeClient()
    client.listed_without_users = True
    runs = run_batch(
        "number,digits,stage\nParis,101,ivr\n10,101,audio\nClassic,101,welcome\n", client
    )
    assert client.details == [10, 11]  # each dialed number once, whatever the row count
    assert runs[1].to_json()["missed_call_notified"][0]["id"] == 2  # from the number's record


def test_an_unknown_number_fails_its_row_naming_its_cell_and_the_rest_runs() -> None:
    paris, lyon, again = run_batch("digits,number,stage\n101,Paris,ivr\n101,Lyon,ivr\n101,10,ivr\n")
    assert isinstance(lyon, RowError)
    assert lyon.error.startswith("calls.csv:3:2: NUMBER 'Lyon'")
    assert "10 'Paris'" in write_hint(lyon.hint) and Remedy("numbers") in lyon.hint
    assert (lyon.passed, lyon.to_json()["error"], lyon.to_json()["line"]) == (False, lyon.error, 3)
    assert paris.passed and again.passed and paris.to_json()["error"] is None
    assert summarize([paris, lyon, again])["errors"] == 1


def test_a_batch_result_document_carries_line_expect_and_passed() -> None:
    [run] = run_batch("number,digits,stage,expect\nParis,101,ivr,rings-user\n")
    doc = run.to_json()
    assert (doc["line"], doc["expect"], doc["passed"]) == (2, "rings-user", True)
    assert doc["missed_call_notified"] == [{"id": 2, "email": "bob@example.com", "name": "Bob"}]


def test_dial_one_finds_the_number_by_digits() -> None:
    request = DialRequest("33176360695", "101", "waiting")
    run = dial(FakeClient(), request)  # type: ignore[arg-type]
    assert run.result.number.id == 10 and run.passed and run.request.line is None

"""csvcheck: reading FILE or stdin, validate_file and diff_file over a fake client."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest

from aircall_ext.api.client import ApiClient, Listing
from aircall_ext.api.models import User
from aircall_ext.errors import EXIT_USAGE, UsageError
from aircall_ext.services.csvcheck import diff_file, read_source, validate_file
from tests.conftest import Unprivileged


class FakeClient:
    """The one listing the checks need, counting how often the account is read."""

    def __init__(self, *users: User) -> None:
        self.users = list(users)
        self.listings = 0

    def list_users(self) -> Listing[User]:
        self.listings += 1
        return Listing(tuple(self.users))


def as_client(fake: FakeClient) -> ApiClient:
    return fake  # type: ignore[return-value]


def user(user_id: int, extension: str | None, **extra: Any) -> User:
    return User(id=user_id, email=f"u{user_id}@example.com", extension=extension, **extra)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "team.csv"
    path.write_text(text, encoding="utf-8")
    return path


# -- reading --------------------------------------------------------------------------


def test_missing_file_is_a_usage_error_naming_path_and_reason(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_source(tmp_path / "nope.csv")
    assert caught.value.exit_code == EXIT_USAGE
    assert "nope.csv" in caught.value.message
    assert "No such file" in caught.value.message


def test_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="directory"):
        read_source(tmp_path)


def test_unreadable_file_is_a_usage_error(unprivileged: Unprivileged) -> None:
    path = write(unprivileged.directory, "user_id,extension\n")
    path.chmod(0)

    def check() -> None:
        with pytest.raises(UsageError, match="Permission denied"):
            read_source(path)

    unprivileged.run(check)


def test_dash_reads_stdin_as_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b"\xef\xbb\xbfuser_id;extension\r\n1;007\r\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    csv_file = read_source("-").parse()
    assert (csv_file.source, csv_file.encoding, csv_file.delimiter) == ("<stdin>", "utf-8-sig", ";")
    assert csv_file.rows[0].extension == "007"


# -- validate_file --------------------------------------------------------------------


def test_validate_file_sorts_errors_first_then_by_line(tmp_path: Path) -> None:
    fake = FakeClient(user(1, "101"), user(2, "102"), user(3, None, outgoing_only=True))
    path = write(tmp_path, "user_id,extension\n1,101\n3,201\n99,300\n2,7\n")
    found = [(f.code, f.line) for f in validate_file(as_client(fake), path)]
    assert found == [
        ("unknown-user", 4),
        ("invalid-extension", 5),
        ("outgoing-only", 3),
        ("no-change", 2),
    ]
    assert fake.listings == 1


def test_file_without_usable_rows_does_not_read_the_account(tmp_path: Path) -> None:
    fake = FakeClient(user(1, "101"))
    found = validate_file(as_client(fake), write(tmp_path, "name,team\nAnn,x\n"))
    assert [f.code for f in found] == ["bad-header"]
    assert fake.listings == 0


# -- diff_file ------------------------------------------------------------------------


def test_drift_is_every_non_blank_cell_that_differs(tmp_path: Path) -> None:
    fake = FakeClient(user(1, "101"), user(2, "102"), user(3, None), user(4, "104"), user(5, "5"))
    # 1 in sync, 2 drifted, 3 has none yet, 4 blank (not drift), 5 absent (not drift).
    path = write(tmp_path, "user_id,extension\n1,101\n2,202\n3,103\n4,\n")
    report = diff_file(as_client(fake), path)
    assert [d.to_json() for d in report.drift] == [
        {"line": 3, "user_id": 2, "email": "u2@example.com", "expected": "202", "actual": "102"},
        {"line": 4, "user_id": 3, "email": "u3@example.com", "expected": "103", "actual": None},
    ]
    assert (report.in_sync, report.blank) == (1, 1)
    assert report.findings == ()  # infos (no-change, blank) are left out
    assert report.to_json()["summary"] == {"drifted": 2, "in_sync": 1, "blank": 1}


def test_diff_keeps_errors_and_compares_the_rows_it_can(tmp_path: Path) -> None:
    fake = FakeClient(user(1, "101"), user(2, "102"))
    path = write(tmp_path, "user_id,extension\n1,101\n99,200\n2,7\n")
    report = diff_file(as_client(fake), path)
    assert report.has_errors
    assert [(f.code, f.line) for f in report.findings] == [
        ("unknown-user", 3),
        ("invalid-extension", 4),
    ]
    assert (len(report.drift), report.in_sync) == (0, 1)


# -- one pipeline ---------------------------------------------------------------------


def test_one_wording_for_an_unreadable_file(tmp_path: Path) -> None:
    """validate FILE, diff and import (and --resume) read through this one reader."""
    missing = tmp_path / "nope.csv"
    with pytest.raises(UsageError) as caught:
        read_source(str(missing))
    assert caught.value.message == f"cannot read {missing}: No such file or directory"


def test_drift_rows_keep_the_diff_document_keys_in_order(tmp_path: Path) -> None:
    fake = FakeClient(user(1, "101"))
    report = diff_file(as_client(fake), write(tmp_path, "user_id,extension\n1,201\n"))
    assert [list(d.to_json()) for d in report.drift] == [
        ["line", "user_id", "email", "expected", "actual"]
    ]
    assert report.drift[0].to_json()["expected"] == "201"
    assert report.drift[0].to_json()["actual"] == "101"

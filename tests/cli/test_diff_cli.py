"""``diff FILE`` through the in-process sandbox: drift in every format, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.scenes import WriteState, team


@pytest.fixture(autouse=True)
def account(write_state: WriteState) -> Path:
    return write_state(team({1: "101", 2: "102", 3: None, 4: "007"}))


def csv_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "desired.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


DRIFTING = "user_id,email,extension\n1,,101\n2,,202\n,cy@example.com,103\n4,,\n"


def test_in_sync_exits_0_with_nothing_on_stdout(run_cli: RunCli, tmp_path: Path) -> None:
    # User 3 is absent and user 4's cell is blank: neither is drift.
    result = run_cli("--sandbox", "diff", csv_file(tmp_path, "email,ext\nann@example.com,101\n"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "no drift: 0 drifted, 1 in sync, 0 blank" in result.stderr


def test_drift_table_exits_1(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "diff", csv_file(tmp_path, DRIFTING))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "line    user    email            expected    actual",
        "------  ------  ---------------  ----------  --------",
        "3       2       bob@example.com  202         102",
        "4       3       cy@example.com   103",
    ]
    assert "2 drifted, 1 in sync, 1 blank" in result.stderr


def test_drift_json_document(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "diff", "-o", "json", csv_file(tmp_path, DRIFTING))
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "drift": [
            {
                "line": 3,
                "user_id": 2,
                "email": "bob@example.com",
                "expected": "202",
                "actual": "102",
            },
            {"line": 4, "user_id": 3, "email": "cy@example.com", "expected": "103", "actual": None},
        ],
        "summary": {"drifted": 2, "in_sync": 1, "blank": 1},
        "findings": [],
    }


def test_drift_csv_keeps_extensions_as_text(run_cli: RunCli, tmp_path: Path) -> None:
    path = csv_file(tmp_path, "user_id,extension\n4,070\n")
    result = run_cli("--sandbox", "-o", "csv", "diff", path)
    assert result.exit_code == 1
    assert result.stdout == "line,user_id,email,expected,actual\n2,4,dee@example.com,070,007\n"


def test_stdin(run_cli: RunCli) -> None:
    result = run_cli(
        "--sandbox", "diff", "-o", "json", "-", input=b"user_id;extension\r\n2;202\r\n"
    )
    assert result.exit_code == 1
    assert [d["line"] for d in json.loads(result.stdout)["drift"]] == [2]


def test_errors_in_the_file_are_shown_and_exit_1_even_without_drift(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = csv_file(tmp_path, "user_id,extension\n1,101\n99,300\n2,7\n")
    result = run_cli("--sandbox", "diff", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors == [
        f"error: {path}:3:1: no user with id 99",
        f"error: {path}:4:2: extension: '7' has 1 digit: leading zeros lost? did you mean 007? "
        "(format the column as text)",
    ]
    assert "no drift among the rows compared" in result.stderr

    doc = json.loads(run_cli("--sandbox", "diff", "-o", "json", path).stdout)
    assert [(f["code"], f["line"], f["column"]) for f in doc["findings"]] == [
        ("unknown-user", 3, 1),
        ("invalid-extension", 4, 2),
    ]


def test_bad_header_exits_1(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "diff", csv_file(tmp_path, "name,team\nAnn,x\n"))
    assert result.exit_code == 1
    assert "bad" not in result.stdout
    assert "expected a header naming user_id and/or email, and extension" in result.stderr


def test_missing_file_is_a_usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "diff", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "nope.csv" in result.stderr and "No such file" in result.stderr


def test_drift_appears_after_an_assign(run_cli: RunCli, tmp_path: Path) -> None:
    path = str(tmp_path / "snapshot.csv")
    assert run_cli("--sandbox", "export", path).exit_code == 0
    assert run_cli("--sandbox", "assign", "1", "201").exit_code == 0
    result = run_cli("--sandbox", "diff", "-o", "json", path)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["drift"] == [
        {"line": 3, "user_id": 1, "email": "ann@example.com", "expected": "101", "actual": "201"}
    ]

"""`dial` end to end through the in-process sandbox, on a small account of our own."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli
from tests.scenes import (
    DIAL_CHECKS,
    DIAL_NUMBERS,
    DIAL_USERS,
    PARIS,
    WriteState,
    api_number,
    api_user,
)


@pytest.fixture(autouse=True)
def account(write_state: WriteState) -> None:
    write_state(DIAL_USERS, DIAL_NUMBERS)


def dial_json(run_cli: RunCli, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("--sandbox", "-o", "json", "dial", *args)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


# -- one dry-run --------------------------------------------------------------------------


def test_json_document_of_a_ringing_call(run_cli: RunCli) -> None:
    code, doc = dial_json(run_cli, "Paris Support", "101", "--stage", "waiting")
    assert code == 0
    assert doc["number"] == {"id": 10, "name": "Paris Support", "digits": PARIS}
    assert (doc["routing"], doc["stage"], doc["digits"]) == ("smartflows", "waiting", "101")
    assert (doc["outcome"], doc["reaches_user"]) == ("rings-user", True)
    assert doc["user"]["id"] == 1 and doc["user"]["extension"] == "101"
    assert [u["id"] for u in doc["missed_call_notified"]] == [1, 2]
    assert [c["check"] for c in doc["trace"]] == DIAL_CHECKS


@pytest.mark.parametrize("text", ["10", "paris support", "33176360695", PARIS, "+33176360695"])
def test_number_by_id_name_or_digits(run_cli: RunCli, text: str) -> None:
    _code, doc = dial_json(run_cli, text, "101", "--stage", "ivr")
    assert doc["number"]["id"] == 10


def test_an_unknown_number_is_a_usage_error_naming_candidates(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "json", "dial", "Marseille", "101", "--stage", "ivr")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "'Marseille'" in line and "10 'Paris Support'" in line and "12 'NYC IVR'" in line


def test_an_ambiguous_number_is_a_usage_error(run_cli: RunCli, write_state: WriteState) -> None:
    twelve = api_number(13, "12", "+33 9 00 00 00 13", "smartflows", [])
    write_state(DIAL_USERS, [*DIAL_NUMBERS, twelve])
    result = run_cli("--sandbox", "dial", "12", "101", "--stage", "ivr")
    assert result.exit_code == 2
    assert "ambiguous" in result.stderr and "13 '12'" in result.stderr


@pytest.mark.parametrize(
    ("args", "outcome", "code"),
    [
        (["NYC IVR", "007", "--stage", "ivr"], "user-unavailable", 1),
        (["NYC IVR", "102", "--stage", "welcome"], "user-unavailable", 1),
        (["NYC IVR", "104", "--stage", "welcome"], "rings-user", 0),
        (["NYC IVR", "103", "--stage", "welcome"], "extension-does-not-exist", 1),
        (["Lyon Classic", "104", "--stage", "welcome"], "not-in-distribution", 1),
        (["Lyon Classic", "101", "--stage", "ivr"], "stage-not-accepting", 1),
        (["Lyon Classic", "7", "--stage", "welcome"], "invalid-sequence", 1),
        (["Paris Support", "101", "--stage", "ivr", "--api-transfer"], "api-transfer", 1),
    ],
)
def test_exit_code_says_whether_the_call_reaches_a_user(
    run_cli: RunCli, args: list[str], outcome: str, code: int
) -> None:
    exit_code, doc = dial_json(run_cli, *args)
    assert (doc["outcome"], exit_code) == (outcome, code)


@pytest.mark.parametrize(
    ("expect", "code"), [("user-unavailable", 0), ("rings-user", 1), ("invalid-sequence", 1)]
)
def test_expect_decides_the_exit_code(run_cli: RunCli, expect: str, code: int) -> None:
    exit_code, doc = dial_json(run_cli, "12", "007", "--stage", "ivr", "--expect", expect)
    assert exit_code == code
    assert doc["expect"] == expect and doc["passed"] is (code == 0)


def test_stage_and_expect_are_case_insensitive_choices(run_cli: RunCli) -> None:
    code, doc = dial_json(run_cli, "10", "101", "--stage", "WAITING", "--expect", "Rings-User")
    assert (code, doc["stage"]) == (0, "waiting")


@pytest.mark.parametrize(
    "args",
    [
        ["10", "101", "--stage", "lobby"],
        ["10", "101", "--stage", "ivr", "--expect", "rings"],
        ["10", "101"],
        ["10"],
        ["--batch", "x.csv", "10"],
        ["--batch", "x.csv", "--stage", "ivr"],
    ],
)
def test_bad_invocations_are_usage_errors(run_cli: RunCli, args: list[str]) -> None:
    result = run_cli("--sandbox", "dial", *args)
    assert result.exit_code == 2
    assert result.stdout == ""


def test_the_trace_for_people_ends_with_the_verdict(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "dial", "Lyon Classic", "104", "--stage", "welcome")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Dialing 104 on Lyon Classic")
    assert "legacy routing, classic" in result.stdout
    numbered = [line.strip() for line in lines if line.strip()[:2] in {"1.", "6."}]
    assert numbered[0].startswith("1. ok   api-transfer:")
    assert numbered[1].startswith("6. FAIL distribution:")
    assert "7. " not in result.stdout
    assert lines[-1].startswith("Verdict: not-in-distribution")


def test_csv_output_of_one_dry_run(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "csv", "dial", "10", "007", "--stage", "audio")
    [row] = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (row["number_id"], row["digits"], row["outcome"]) == ("10", "007", "user-unavailable")
    assert row["user_email"] == "user2@example.com"


def test_a_collision_is_warned_about(run_cli: RunCli, write_state: WriteState) -> None:
    write_state([*DIAL_USERS, api_user(9, "101")], DIAL_NUMBERS)
    code, doc = dial_json(run_cli, "10", "101", "--stage", "ivr")
    assert code == 0 and doc["user"]["id"] == 1
    assert [u["id"] for u in doc["collision"]] == [1, 9]
    result = run_cli("--sandbox", "-o", "json", "dial", "10", "101", "--stage", "ivr")
    assert "warning: extension 101 is held by 2 users" in result.stderr


# -- batches ------------------------------------------------------------------------------

BATCH = (
    "number,digits,stage,api_transfer,expect\n"
    "Paris Support,101,waiting,,rings-user\n"
    f'"{PARIS}",007,ivr,no,user-unavailable\n'
    "11,104,welcome,,not-in-distribution\n"
    "NYC IVR,104,ivr,yes,api-transfer\n"
)


def write_batch(tmp_path: Path, text: str) -> str:
    path = tmp_path / "calls.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_batch_json_reports_every_row(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "-o", "json", "dial", "--batch", write_batch(tmp_path, BATCH))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [(r["line"], r["outcome"], r["passed"]) for r in doc["results"]] == [
        (2, "rings-user", True),
        (3, "user-unavailable", True),
        (4, "not-in-distribution", True),
        (5, "api-transfer", True),
    ]
    assert doc["summary"] == {
        "rows": 4,
        "passed": 4,
        "failed": 0,
        "errors": 0,
        "reaching_user": 1,
    }


def test_batch_fails_when_an_expectation_fails(run_cli: RunCli, tmp_path: Path) -> None:
    text = BATCH + "Lyon Classic,101,waiting,,rings-user\n"
    result = run_cli("--sandbox", "dial", "--batch", write_batch(tmp_path, text))
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.rstrip().endswith("FAIL")]
    assert len(failed) == 1 and failed[0].startswith("6 ")
    assert "5 row(s): 4 passed, 1 failed" in result.stderr


def test_a_row_without_expect_must_reach_a_user(run_cli: RunCli, tmp_path: Path) -> None:
    text = "number,digits,stage\n10,101,ivr\n10,007,ivr\n"
    result = run_cli("--sandbox", "-o", "csv", "dial", "--batch", write_batch(tmp_path, text))
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["line"], r["passed"]) for r in rows] == [("2", "true"), ("3", "false")]


def test_batch_from_stdin(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "json", "dial", "--batch", "-", input=BATCH)
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]) == 4


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("number,digits,stage\n10,101,lobby\n", "calls.csv:2:3: stage 'lobby'"),
        ("number,digits\n10,101\n", "calls.csv:1: missing column stage"),
    ],
)
def test_a_bad_batch_row_is_a_usage_error_naming_the_cell(
    run_cli: RunCli, tmp_path: Path, text: str, where: str
) -> None:
    result = run_cli("--sandbox", "-o", "json", "dial", "--batch", write_batch(tmp_path, text))
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert where in line


UNKNOWN = "digits,stage,number\n101,ivr,10\n101,ivr,Marseille\n007,ivr,10\n"
UNKNOWN_ERROR = (
    "calls.csv:3:3: NUMBER 'Marseille' is not a number of this account (by id, name or digits)"
)


def test_an_unknown_number_fails_its_row_and_the_other_rows_run(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = write_batch(tmp_path, UNKNOWN)
    table = run_cli("--sandbox", "dial", "--batch", path)
    assert table.exit_code == 1
    assert [line.split()[-1] for line in table.stdout.splitlines()[2:]] == [
        "pass",
        "ERROR",
        "FAIL",
    ]
    assert table.stdout.splitlines()[3].split()[:2] == ["3", "Marseille"]
    assert f"{path[: -len('calls.csv')]}{UNKNOWN_ERROR}" in table.stderr
    assert "3 row(s): 1 passed, 2 failed (1 could not be dry-run)" in table.stderr

    doc = json.loads(run_cli("--sandbox", "-o", "json", "dial", "--batch", path).stdout)
    assert [(r["line"], r["outcome"], r["passed"]) for r in doc["results"]] == [
        (2, "rings-user", True),
        (3, None, False),
        (4, "user-unavailable", False),
    ]
    assert doc["results"][1]["error"].endswith(UNKNOWN_ERROR)
    assert doc["results"][0]["error"] is None
    assert (doc["summary"]["failed"], doc["summary"]["errors"]) == (2, 1)

    csv_out = run_cli("--sandbox", "-o", "csv", "dial", "--batch", path)
    assert csv_out.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(csv_out.stdout)))
    assert [(r["line"], r["number"], r["passed"]) for r in rows] == [
        ("2", "Paris Support", "true"),
        ("3", "Marseille", "false"),
        ("4", "Paris Support", "false"),
    ]
    assert rows[1]["error"].endswith(UNKNOWN_ERROR) and rows[0]["error"] == ""


def test_every_row_of_a_batch_document_has_the_same_keys(run_cli: RunCli, tmp_path: Path) -> None:
    """A row that could not be dry-run has the keys of one that was, null or empty, so a
    script reads every row alike."""
    path = write_batch(tmp_path, UNKNOWN)
    doc = json.loads(run_cli("--sandbox", "-o", "json", "dial", "--batch", path).stdout)
    ran, error, _ = doc["results"]
    assert list(error) == list(ran)
    assert {key: error[key] for key in ("routing_assumed", "verdict", "collision")} == {
        "routing_assumed": None,
        "verdict": None,
        "collision": [],
    }
    assert (error["stage"], error["digits"], error["api_transfer"]) == ("ivr", "101", False)


def test_a_batch_with_no_rows_fails_a_ci_gate(run_cli: RunCli, tmp_path: Path) -> None:
    path = write_batch(tmp_path, BATCH.splitlines()[0] + "\n\n")
    result = run_cli("--sandbox", "-o", "json", "dial", "--batch", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{path}: a header but no rows: nothing to dry-run" in result.stderr


def test_a_missing_batch_file_is_a_usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "dial", "--batch", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "cannot read" in result.stderr

"""``validate`` (no FILE) through the in-process sandbox: findings, formats, exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli
from tests.scenes import WriteState, api_user, team


def findings(run_cli: RunCli, *options: str) -> tuple[int, list[dict[str, Any]], dict[str, int]]:
    result = run_cli("--sandbox", "validate", "-o", "json", *options)
    doc = json.loads(result.stdout)
    return result.exit_code, doc["findings"], doc["summary"]


@pytest.fixture
def damaged(write_state: WriteState) -> Path:
    holdings = {1: "101", 2: "101", 3: "101", 4: "7", 5: "1.01E+02", 6: None, 7: "300"}
    return write_state(team({**holdings, 8: None, 9: "200"}, outgoing_only={7, 8}))


def test_every_finding_of_a_damaged_account(run_cli: RunCli, damaged: Path) -> None:
    code, found, summary = findings(run_cli)
    assert code == 1
    assert sorted((f["code"], f["user_id"]) for f in found) == [
        ("duplicate-extension", 1),
        ("duplicate-extension", 2),
        ("duplicate-extension", 3),
        ("invalid-extension", 4),
        ("invalid-extension", 5),
        ("missing-extension", 6),
        ("outgoing-only", 7),
    ]
    assert [f["severity"] for f in found] == ["error"] * 5 + ["warning"] * 2
    assert summary == {"errors": 5, "warnings": 2, "infos": 0}
    by_user = {f["user_id"]: f for f in found}
    for holder in (1, 2, 3):
        assert all(e in by_user[holder]["message"] for e in ("ann@", "bob@", "cy@"))
        assert by_user[holder]["extension"] == "101"
    assert "did you mean 007?" in by_user[4]["message"]
    assert "scientific notation" in by_user[5]["message"]
    assert "This extension does not exist" in by_user[7]["message"]
    assert set(found[0]) >= {"code", "severity", "message", "user_id", "email", "extension"}
    assert "line" not in found[0]


def test_warnings_alone_pass_unless_strict(run_cli: RunCli, write_state: WriteState) -> None:
    write_state([api_user(1, "101"), api_user(2, None), api_user(3, "102", outgoing_only=True)])
    code, found, summary = findings(run_cli)
    assert (code, summary) == (0, {"errors": 0, "warnings": 2, "infos": 0})
    assert {f["code"] for f in found} == {"missing-extension", "outgoing-only"}
    assert findings(run_cli, "--strict")[0] == 1


def test_clean_account(run_cli: RunCli, write_state: WriteState) -> None:
    write_state([api_user(1, "101"), api_user(2, "007")])
    result = run_cli("--sandbox", "validate", "--strict")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "no findings" in result.stderr
    assert findings(run_cli) == (0, [], {"errors": 0, "warnings": 0, "infos": 0})


def test_more_users_than_extensions(run_cli: RunCli, write_state: WriteState) -> None:
    write_state([api_user(i + 1, f"{i:03d}") for i in range(1000)] + [api_user(1001, None)])
    code, found, summary = findings(run_cli)
    assert code == 0
    assert [f["code"] for f in found] == ["missing-extension", "extension-space-exhausted"]
    assert found[1]["severity"] == "info"
    assert "1,001 users" in found[1]["message"]
    assert summary == {"errors": 0, "warnings": 1, "infos": 1}


# The findings table as people read it: one finding a line, sorted by extension text.
FINDINGS_TABLE = """\
severity    code                 user    email            ext       message
----------  -------------------  ------  ---------------  --------  -------------------------------------------------------------------------------------------------------------------------------------------------
error       invalid-extension    5       eve@example.com  1.01E+02  '1.01E+02' is scientific notation, damaged by a spreadsheet: did you mean 101?
error       duplicate-extension  1       ann@example.com  101       extension 101 is held by 3 users: user 1 (ann@example.com), user 2 (bob@example.com), user 3 (cy@example.com); give all but one another extension
error       duplicate-extension  2       bob@example.com  101       extension 101 is held by 3 users: user 1 (ann@example.com), user 2 (bob@example.com), user 3 (cy@example.com); give all but one another extension
error       duplicate-extension  3       cy@example.com   101       extension 101 is held by 3 users: user 1 (ann@example.com), user 2 (bob@example.com), user 3 (cy@example.com); give all but one another extension
error       invalid-extension    4       dee@example.com  7         '7' has 1 digit: leading zeros lost? did you mean 007?
warning     missing-extension    6       fay@example.com            no extension: callers cannot dial this user
warning     outgoing-only        7       gus@example.com  300       outgoing-only user: extension 300 is dead, callers who dial it hear "This extension does not exist"
"""  # noqa: E501


def test_table_for_people(run_cli: RunCli, damaged: Path) -> None:
    result = run_cli("--sandbox", "validate")
    assert result.exit_code == 1
    assert result.stdout == FINDINGS_TABLE
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["severity", "code", "user", "email", "ext", "message"]
    dee = next(line for line in lines if "dee@" in line)
    assert dee.split()[:5] == ["error", "invalid-extension", "4", "dee@example.com", "7"]
    assert "5 errors, 2 warnings, 0 infos" in result.stderr


def test_csv_is_neutralised_and_has_a_fixed_header(
    run_cli: RunCli, write_state: WriteState
) -> None:
    write_state([api_user(1, "=1+2", email="ann@example.com")])
    result = run_cli("--sandbox", "-o", "csv", "validate")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == [
        "severity",
        "code",
        "user_id",
        "email",
        "extension",
        "message",
        "line",
        "column",
    ]
    assert rows[0]["code"] == "invalid-extension"
    assert rows[0]["extension"] == "'=1+2"


def test_quiet_keeps_data_and_exit_code(run_cli: RunCli, damaged: Path) -> None:
    result = run_cli("--sandbox", "-q", "validate")
    assert result.exit_code == 1
    assert "duplicate-extension" in result.stdout
    assert result.stderr == ""


def test_missing_file_is_a_usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "validate", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2
    assert "nope.csv" in result.stderr


def test_demo_account_every_damage_found(run_cli: RunCli) -> None:
    """No state file: the seeded demo. Expected findings are derived from `list`, not typed in."""
    listed = json.loads(run_cli("--sandbox", "-o", "json", "list").stdout)["users"]
    valid = re.compile(r"[0-9]{3}")
    held = Counter(u["extension"] for u in listed if valid.fullmatch(u["extension"] or ""))
    expected = {
        *(("duplicate-extension", u["id"]) for u in listed if held[u["extension"]] > 1),
        *(
            ("invalid-extension", u["id"])
            for u in listed
            if u["extension"] and not valid.fullmatch(u["extension"])
        ),
        *(
            ("missing-extension", u["id"])
            for u in listed
            if not u["extension"] and not u["outgoing_only"]
        ),
        *(("outgoing-only", u["id"]) for u in listed if u["extension"] and u["outgoing_only"]),
    }
    code, found, _summary = findings(run_cli)
    assert {(f["code"], f["user_id"]) for f in found} == expected
    assert {c for c, _ in expected} >= {"duplicate-extension", "missing-extension", "outgoing-only"}
    assert code == 1

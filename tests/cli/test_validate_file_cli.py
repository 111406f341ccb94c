"""``validate FILE`` end to end through the in-process sandbox: every CSV finding, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli
from tests.scenes import WriteState, team


@pytest.fixture(autouse=True)
def account(write_state: WriteState) -> Path:
    return write_state(team({1: "101", 2: "102", 3: "103", 4: None, 5: "105"}, outgoing_only={4}))


def write(tmp_path: Path, data: str | bytes) -> str:
    path = tmp_path / "team.csv"
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return str(path)


def validate(run_cli: RunCli, path: str, *options: str) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli("--sandbox", "validate", path, "-o", "json", *options)
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_every_account_finding_with_line_and_column(run_cli: RunCli, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "user_id,email,extension\n"
        "1,,102\n"  # 2: a swap with line 3: fine
        "2,,101\n"
        "3,,105\n"  # 4: 105 is held by 5, who stays
        "4,,200\n"  # 5: outgoing-only: dead extension
        "99,,300\n"  # 6: unknown user
        "5,cy@example.com,\n"  # 7: id and email disagree
        ",ANN@example.com,\n"  # 8: user 1 again
        ",nobody@example.com,\n"  # 9: unknown email
        "2,,\n",  # 10: user 2 again
    )
    code, found = validate(run_cli, path)
    assert code == 1
    assert [(f["code"], f["severity"], f["line"], f["column"]) for f in found] == [
        ("extension-taken", "error", 4, 3),
        ("unknown-user", "error", 6, 1),
        ("identity-mismatch", "error", 7, 2),
        ("duplicate-user-in-file", "error", 8, 2),
        ("unknown-user", "error", 9, 2),
        ("duplicate-user-in-file", "error", 10, 1),
        ("outgoing-only", "warning", 5, 3),
        ("blank-extension", "info", 7, 3),
        ("blank-extension", "info", 8, 3),
        ("blank-extension", "info", 9, 3),
        ("blank-extension", "info", 10, 3),
    ]
    by_line = {f["line"]: f for f in found if f["severity"] != "info"}
    assert "user 5 (eve@example.com)" in by_line[4]["message"]
    assert "already on line 2" in by_line[8]["message"]
    assert all(f["message"].startswith(f"{path}:{f['line']}:") for f in found)


def test_duplicate_extension_in_file_names_both_lines(run_cli: RunCli, tmp_path: Path) -> None:
    code, found = validate(run_cli, write(tmp_path, "user_id,extension\n1,300\n2,300\n"))
    assert code == 1
    [error] = [f for f in found if f["severity"] == "error"]
    assert (error["code"], error["line"], error["column"]) == ("duplicate-extension-in-file", 3, 2)
    assert "lines 2 and 3" in error["message"]


def test_spreadsheet_damage_is_named(run_cli: RunCli, tmp_path: Path) -> None:
    text = 'user_id;extension\r\n1;7\r\n2;1.02E+02\r\n3;="103"\r\n'
    code, found = validate(run_cli, write(tmp_path, text))
    assert code == 1
    assert [(f["code"], f["line"], f["column"]) for f in found] == [
        ("invalid-extension", 2, 2),
        ("invalid-extension", 3, 2),
        ("no-change", 4, 2),
    ]
    assert "did you mean 007?" in found[0]["message"]
    assert "scientific notation" in found[1]["message"]


def test_clean_file_exits_0_and_warnings_fail_only_with_strict(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = write(tmp_path, "email,extension\nann@example.com,201\ndee@example.com,204\n")
    code, found = validate(run_cli, path)
    assert (code, [f["code"] for f in found]) == (0, ["outgoing-only"])
    assert validate(run_cli, path, "--strict")[0] == 1


def test_table_output_names_line_and_column(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("--sandbox", "validate", write(tmp_path, "user_id,extension\n99,300\n"))
    assert result.exit_code == 1
    header, _rule, row = result.stdout.splitlines()
    assert header.split()[:4] == ["line", "column", "severity", "code"]
    assert row.split()[:4] == ["2", "1", "error", "unknown-user"]


def test_stdin_and_encoding_fallback(run_cli: RunCli) -> None:
    data = "user_id,name,extension\n1,Zoé,201\n".encode("cp1252")
    result = run_cli("--sandbox", "validate", "-", "-o", "json", input=data)
    assert result.exit_code == 0
    found = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["line"]) for f in found] == [("encoding-fallback", 2)]
    assert found[0]["message"].startswith("<stdin>:2: ")


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "bad-header"), (b"id,name\n1,x\n", "bad-header"), (b"user_id,extension\n", "no-rows")],
)
def test_unusable_files_are_findings_not_crashes(
    run_cli: RunCli, tmp_path: Path, data: bytes, code: str
) -> None:
    exit_code, found = validate(run_cli, write(tmp_path, data))
    assert exit_code == 1
    assert [(f["code"], f["line"]) for f in found] == [(code, 1)]


def test_binary_file_is_a_finding(run_cli: RunCli, tmp_path: Path) -> None:
    exit_code, found = validate(run_cli, write(tmp_path, bytes(range(256)) * 4))
    assert exit_code == 1
    assert "bad-header" in [f["code"] for f in found]

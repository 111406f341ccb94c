"""``-o github`` end to end through the in-process sandbox: the workflow commands of each of
the five reports, the step summary, the same exit codes as the other formats, and the
commands that refuse it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunCli
from tests.scenes import DIAL_NUMBERS, WriteState, team

USERS = team({1: "101", 2: "102", 3: "103", 4: "104", 5: None}, outgoing_only={4})


@pytest.fixture(autouse=True)
def account(write_state: WriteState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_state(USERS, DIAL_NUMBERS)
    monkeypatch.chdir(tmp_path)  # files are named relative, as a workflow names them


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def extensions(run_cli: RunCli) -> dict[int, Any]:
    result = run_cli("--sandbox", "-o", "json", "list")
    return {user["id"]: user["extension"] for user in json.loads(result.stdout)["users"]}


# -- each command ---------------------------------------------------------------------------


def test_validate_the_account(run_cli: RunCli, write_state: WriteState) -> None:
    write_state([*USERS, *team({6: "101"})], DIAL_NUMBERS)
    result = run_cli("--sandbox", "-o", "github", "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error title=duplicate-extension::user 1 (ann@example.com): extension 101 is held by "
        "2 users: user 1 (ann@example.com), user 6 (fay@example.com); give all but one another "
        "extension",
        "::error title=duplicate-extension::user 6 (fay@example.com): extension 101 is held by "
        "2 users: user 1 (ann@example.com), user 6 (fay@example.com); give all but one another "
        "extension",
        "::warning title=missing-extension::user 5 (eve@example.com): no extension: callers "
        "cannot dial this user",
        "::warning title=outgoing-only::user 4 (dee@example.com): outgoing-only user: extension "
        '104 is dead, callers who dial it hear "This extension does not exist"',
    ]


def test_validate_a_clean_account_prints_nothing_and_exits_0(
    run_cli: RunCli, write_state: WriteState
) -> None:
    write_state(USERS[:3], DIAL_NUMBERS)
    result = run_cli("--sandbox", "validate", "-o", "github")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no findings" in result.stderr


BAD = "user_id,email,extension\n1,,300\n2,,300\n9,,301\n3,cy@example.com,\n"


def test_a_file_in_a_directory_keeps_its_relative_path(run_cli: RunCli) -> None:
    Path("config").mkdir()
    path = write("config/extensions.csv", "user_id,extension\n9,301\n")
    result = run_cli("--sandbox", "-o", "github", "validate", "./" + path)
    assert result.stdout.startswith("::error file=config/extensions.csv,line=2,col=1,")


def test_property_values_are_escaped(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "github", "validate", write("a,b:c.csv", BAD))
    assert result.stdout.splitlines()[1] == (
        "::error file=a%2Cb%3Ac.csv,line=4,col=1,title=unknown-user::a,b:c.csv:4:1: "
        "no user with id 9"
    )


def test_a_line_break_or_percent_in_a_cell_cannot_break_the_line(run_cli: RunCli) -> None:
    Path("cells.csv").write_bytes(b'user_id,email,extension\n1,"ann\r\n@x%.com",101\n')
    result = run_cli("--sandbox", "-o", "github", "validate", "cells.csv")
    assert result.stdout == (
        "::error file=cells.csv,line=2,col=2,title=identity-mismatch::cells.csv:2:2: user_id 1 "
        "is user 1 (ann@example.com), but email ann%0D%0A@x%25.com is no user\n"
    )


def test_standard_input_has_no_file_to_point_at(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "-o", "github", "validate", "-", input=BAD)
    assert result.stdout.splitlines()[1] == (
        "::error title=unknown-user::<stdin>:4:1: no user with id 9"
    )


PLAN = "user_id,extension\n1,102\n2,101\n5,105\n3,\n4,140\n"


def test_import_dry_run_of_a_file_with_errors(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "import", write("team.csv", BAD), "--dry-run", "-o", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "::error file=team.csv,line=3,col=3,title=duplicate-extension-in-file::"
        "team.csv:3:3: extension 300 is wanted on lines 2 and 3"
    )
    assert "nothing was written" in result.stderr


DRIFT = "user_id,email,extension\n1,,101\n2,,202\n,eve@example.com,105\n3,,\n"


def test_diff_in_sync(run_cli: RunCli) -> None:
    result = run_cli(
        "--sandbox", "diff", "-o", "github", write("desired.csv", "user_id,ext\n1,101\n")
    )
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no drift: 0 drifted, 1 in sync, 0 blank" in result.stderr


def test_diff_reports_errors_in_the_file_too(run_cli: RunCli) -> None:
    result = run_cli(
        "--sandbox", "-o", "github", "diff", write("desired.csv", "user_id,ext\n9,101\n")
    )
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=desired.csv,line=2,col=1,title=unknown-user::desired.csv:2:1: "
        "no user with id 9\n"
    )


BATCH = (
    "number,digits,stage,api_transfer,expect\n"
    "Paris Support,101,ivr,,rings-user\n"
    "Paris Support,101,welcome,,rings-user\n"
    "Paris Support,104,ivr,,\n"
)


# -- each report as workflow commands -------------------------------------------------------

# id → (command on {file}, the file's name and text, exit code, the lines printed)
REPORTS = {
    "validate-a-file": ("validate {file}", "extensions.csv", BAD, 1, [
        "::error file=extensions.csv,line=3,col=3,title=duplicate-extension-in-file::"
        "extensions.csv:3:3: extension 300 is wanted on lines 2 and 3",
        "::error file=extensions.csv,line=4,col=1,title=unknown-user::"
        "extensions.csv:4:1: no user with id 9",
        "::notice file=extensions.csv,line=5,col=3,title=blank-extension::"
        "extensions.csv:5:3: extension is blank: no change",
    ]),
    "import-dry-run": ("import {file} --dry-run", "team.csv", PLAN, 0, [
        "::warning file=team.csv,line=6,col=2,title=outgoing-only::team.csv:6:2: user 4 "
        '(dee@example.com) is outgoing-only: callers dialing 140 will hear "This extension '
        'does not exist"',
        "::notice file=team.csv,line=5,col=2,title=blank-extension::team.csv:5:2: extension is "
        "blank: no change",
        "::notice title=import plan::0 unchanged, 1 assign, 3 change, 1 skip; 5 writes "
        "(1 cycle via parking 100)",
    ]),
    "diff": ("diff {file}", "desired.csv", DRIFT, 1, [
        "::error file=desired.csv,line=3,title=drift::user 2 (bob@example.com) has 102, the file "
        "wants 202",
        "::error file=desired.csv,line=4,title=drift::user 5 (eve@example.com) has no extension, "
        "the file wants 105",
    ]),
    "dial-batch": ("dial --batch {file}", "must-ring.csv", BATCH, 1, [
        "::error file=must-ring.csv,line=3,col=5,title=dial-expectation::dialing 101 on Paris "
        "Support during welcome: expected rings-user, got stage-not-accepting",
        "::error file=must-ring.csv,line=4,title=dial-expectation::dialing 104 on Paris Support "
        "during ivr: expected the call to reach a user, got extension-does-not-exist",
        "::notice title=dial --batch::3 row(s): 1 passed, 2 failed",
    ]),
}  # fmt: skip


@pytest.mark.parametrize(
    ("command", "name", "text", "code", "lines"), REPORTS.values(), ids=REPORTS.keys()
)
def test_each_report(
    run_cli: RunCli, command: str, name: str, text: str, code: int, lines: list[str]
) -> None:
    before = extensions(run_cli)
    words = command.format(file=write(name, text)).split()
    result = run_cli("--sandbox", "-o", "github", *words)
    assert result.exit_code == code, result.stderr
    assert result.stdout.splitlines() == lines
    assert extensions(run_cli) == before  # none of them writes


def test_dial_batch_annotates_an_unknown_number_on_its_row_and_goes_on(run_cli: RunCli) -> None:
    text = BATCH.split("\n", 1)[0] + "\nMarseille,101,ivr,,\nParis Support,101,ivr,,\n"
    result = run_cli("--sandbox", "-o", "github", "dial", "--batch", write("must-ring.csv", text))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=must-ring.csv,line=2,col=1,title=dial-row::must-ring.csv:2:1: NUMBER "
        "'Marseille' is not a number of this account (by id, name or digits)",
        "::notice title=dial --batch::2 row(s): 1 passed, 1 failed (1 could not be dry-run)",
    ]
    assert result.stderr == ""


def test_dial_batch_all_passing(run_cli: RunCli) -> None:
    path = write("must-ring.csv", BATCH.split("\n", 2)[0] + "\nParis Support,101,ivr,,\n")
    result = run_cli("--sandbox", "dial", "--batch", path, "-o", "github")
    assert (result.exit_code, result.stdout) == (
        0,
        "::notice title=dial --batch::1 row(s): 1 passed, 0 failed\n",
    )


# -- exit codes: those of the other formats --------------------------------------------------

CASES = [
    ["validate"],
    ["validate", "--strict"],
    ["validate", "bad.csv"],
    ["validate", "plan.csv"],
    ["validate", "plan.csv", "--strict"],
    ["import", "bad.csv", "--dry-run"],
    ["import", "plan.csv", "--dry-run"],
    ["import", "plan.csv", "--dry-run", "--strict"],
    ["diff", "drift.csv"],
    ["diff", "sync.csv"],
    ["dial", "--batch", "batch.csv"],
    ["dial", "--batch", "pass.csv"],
]


@pytest.mark.parametrize("words", CASES, ids=[" ".join(w) for w in CASES])
def test_exit_codes_are_those_of_the_other_formats(run_cli: RunCli, words: list[str]) -> None:
    write("bad.csv", BAD)
    write("plan.csv", PLAN)
    write("drift.csv", DRIFT)
    write("sync.csv", "user_id,ext\n1,101\n")
    write("batch.csv", BATCH)
    write("pass.csv", "number,digits,stage\nParis Support,101,ivr\n")
    codes = {fmt: run_cli("--sandbox", "-o", fmt, *words).exit_code for fmt in ("table", "json")}
    github = run_cli("--sandbox", "-o", "github", *words).exit_code
    assert codes == {"table": github, "json": github}


# -- the step summary ----------------------------------------------------------------------


def test_step_summary_is_appended(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("# earlier step\n\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    path = write("extensions.csv", BAD)
    for _ in range(2):
        assert run_cli("--sandbox", "-o", "github", "validate", path).exit_code == 1
    block = (
        "### aircall-ext validate extensions.csv\n"
        "\n"
        "Findings: 2 errors, 0 warnings, 1 info\n"
        "\n"
        "| severity | code | line | col | user | email | message |\n"
        "|---|---|---|---|---|---|---|\n"
        "| error | duplicate-extension-in-file | 3 | 3 | 2 |  | extensions.csv:3:3: extension "
        "300 is wanted on lines 2 and 3 |\n"
        "| error | unknown-user | 4 | 1 | 9 |  | extensions.csv:4:1: no user with id 9 |\n"
        "\n"
    )
    assert summary.read_text(encoding="utf-8") == "# earlier step\n\n" + block + block


def test_step_summary_of_each_command(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("AIRCALL_API_TOKEN", "s3cret-token-never-shown")
    run_cli("--sandbox", "-o", "github", "validate", "--strict")
    run_cli("--sandbox", "-o", "github", "import", write("team.csv", PLAN), "--dry-run")
    run_cli("--sandbox", "-o", "github", "diff", write("desired.csv", DRIFT))
    run_cli("--sandbox", "-o", "github", "dial", "--batch", write("must-ring.csv", BATCH))
    text = summary.read_text(encoding="utf-8")
    assert [line for line in text.splitlines() if line.startswith("#")] == [
        "### aircall-ext validate --strict",
        "### aircall-ext import team.csv --dry-run",
        "### aircall-ext diff desired.csv",
        "### aircall-ext dial --batch must-ring.csv",
    ]
    for line in [
        "Findings: 0 errors, 2 warnings, 0 infos",
        "Plan: 0 unchanged, 1 assign, 3 change, 1 skip; 5 writes (1 cycle via parking 100)",
        "| 2 | 1 | ann@example.com | 101 | 102 | change |",
        "Drift: 2 drifted, 1 in sync, 1 blank",
        "| 4 | 5 | eve@example.com | 105 |  |",
        "Dial: 3 row(s): 1 passed, 2 failed",
        "| 3 | Paris Support | 101 | welcome | no | stage-not-accepting | rings-user |",
    ]:
        assert line in text.splitlines()
    assert "s3cret" not in text


def test_no_step_summary_without_the_variable(run_cli: RunCli, tmp_path: Path) -> None:
    run_cli("--sandbox", "-o", "github", "validate", write("extensions.csv", BAD))
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".md") == []


def test_an_unwritable_step_summary_is_a_warning(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path))  # a directory
    result = run_cli("--sandbox", "-o", "github", "validate", write("extensions.csv", BAD))
    assert result.exit_code == 1
    assert result.stdout.count("::error") == 2
    assert "warning: cannot append the step summary to" in result.stderr


# -- where it is refused -------------------------------------------------------------------

REFUSED = [
    ["-o", "github", "list"],
    ["list", "-o", "github"],
    ["-o", "github", "show", "1"],
    ["-o", "github", "numbers"],
    ["-o", "github", "next-free"],
    ["next-free", "-o", "github"],
    ["-o", "github", "assign", "5", "150"],
    ["-o", "github", "export"],
    ["-o", "github", "sandbox", "show"],
    ["sandbox", "show", "-o", "github"],
    ["-o", "github", "auth", "status"],
    ["-o", "github", "completion", "bash"],
    ["-o", "github", "import", "team.csv", "--yes"],
    ["import", "team.csv", "--yes", "-o", "github"],
    ["-o", "github", "dial", "Paris Support", "101", "--stage", "ivr"],
    ["dial", "Paris Support", "101", "--stage", "ivr", "-o", "github"],
]


@pytest.mark.parametrize("words", REFUSED, ids=[" ".join(w) for w in REFUSED])
def test_refused_elsewhere_saying_where_it_works(run_cli: RunCli, words: list[str]) -> None:
    write("team.csv", PLAN)
    before = extensions(run_cli)
    result = run_cli("--sandbox", *words)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "-o github is only for validate, import --dry-run, diff and dial --batch" in (
        result.stderr
    )
    assert len(result.stderr.splitlines()) == 1
    assert extensions(run_cli) == before


def test_report_to_stdout_is_refused_with_github(run_cli: RunCli) -> None:
    path = write("team.csv", PLAN)
    result = run_cli("--sandbox", "-o", "github", "import", path, "--dry-run", "--report", "-")
    assert result.exit_code == 2
    assert "-o github" in result.stderr and result.stdout == ""

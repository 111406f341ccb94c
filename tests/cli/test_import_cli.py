"""``import`` through the in-process sandbox: plan, dry-run, confirmation, stop and resume."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shlex
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aircall_ext.errors import ApiError
from aircall_ext.services.journal import read_journal
from tests.conftest import RunCli
from tests.scenes import (
    IMPORT_BEFORE,
    IMPORT_CSV,
    IMPORT_DESIRED,
    WriteState,
    api_user,
    extensions,
    fail_on_write,
    on_terminal,
    read_report,
    record_writes,
    run_with_failing_write,
    through_fifo,
    write_while_confirming,
)

# -- plan and dry-run -------------------------------------------------------------------

pytestmark = pytest.mark.usefixtures("import_scene")


# The plan as people read it: one row per line of the file, in file order.
PLAN_TABLE = """\
line    user    email              from    to    action
------  ------  -----------------  ------  ----  ---------
2       1       user1@example.com  101     102   change
3       2       user2@example.com  102     101   change
4       3       user3@example.com  103     104   change
5       4       user4@example.com  104     105   change
6       5       user5@example.com          150   assign
7       6       user6@example.com  106           skip
8       7       user7@example.com  107     107   unchanged
"""


def test_dry_run_shows_the_plan_and_writes_nothing(run_cli: RunCli, csv_file: Path) -> None:
    result = run_cli("--sandbox", "import", str(csv_file), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert extensions() == IMPORT_BEFORE
    assert result.stdout == PLAN_TABLE
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["line", "user", "email", "from", "to", "action"]
    assert lines[2].split() == ["2", "1", "user1@example.com", "101", "102", "change"]
    assert lines[6].split() == ["6", "5", "user5@example.com", "150", "assign"]
    assert lines[7].split() == ["7", "6", "user6@example.com", "106", "skip"]
    assert result.stderr.startswith(
        "plan: 1 unchanged, 1 assign, 4 change, 1 skip; 6 writes (1 cycle via parking 108)\n"
    )
    assert "1 cycle via parking 108" in result.stderr


def test_dry_run_json_is_the_plan_document(run_cli: RunCli, csv_file: Path) -> None:
    result = run_cli("--sandbox", "-o", "json", "import", str(csv_file), "--dry-run")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {"plan", "steps", "summary", "findings"} <= doc.keys()
    assert doc["plan"][3] == {
        "line": 5,
        "user_id": 4,
        "email": "user4@example.com",
        "from": "104",
        "to": "105",
        "action": "change",
    }
    assert [(s["user_id"], s["from"], s["to"]) for s in doc["steps"]] == [
        (4, "104", "105"),
        (3, "103", "104"),
        (5, None, "150"),
        (1, "101", "108"),
        (2, "102", "101"),
        (1, "108", "102"),
    ]
    summary = doc["summary"]
    assert [summary[k] for k in ("unchanged", "assign", "change", "skip")] == [1, 1, 4, 1]
    codes = {f["code"] for f in doc["findings"]}
    assert codes == {"no-change", "blank-extension"}
    assert extensions() == IMPORT_BEFORE


def test_file_errors_write_nothing_and_report_every_row(run_cli: RunCli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,extension\n1,102\n2,7\n99,300\n3,\n")
    report = tmp_path / "report.csv"
    result = run_cli("--sandbox", "import", str(bad), "--yes", "--report", str(report))
    assert result.exit_code == 1
    assert extensions() == IMPORT_BEFORE
    assert "invalid-extension" in result.stdout and "unknown-user" in result.stdout
    assert "nothing was written" in result.stderr
    rows = read_report(report)
    assert [(r["line"], r["status"]) for r in rows] == [
        ("2", "not-run"),
        ("3", "not-run"),
        ("4", "not-run"),
        ("5", "not-run"),
    ]
    assert "leading zeros" in rows[1]["error"]
    assert "no user with id 99" in rows[2]["error"]
    assert "held by user 2" in rows[0]["error"]  # 2's row is invalid: 2 does not move
    assert rows[3]["error"] == ""


def test_strict_fails_on_warnings(run_cli: RunCli, write_state: WriteState, tmp_path: Path) -> None:
    write_state([api_user(1, "101", outgoing_only=True)])
    path = tmp_path / "f.csv"
    path.write_text("user_id,extension\n1,102\n")
    assert run_cli("--sandbox", "import", str(path), "--dry-run").exit_code == 0
    result = run_cli("--sandbox", "import", str(path), "--yes", "--strict")
    assert result.exit_code == 1
    assert extensions() == {1: "101"}


def test_blocked_plan_exits_1_with_a_clear_error(
    run_cli: RunCli, write_state: WriteState, tmp_path: Path
) -> None:
    write_state([api_user(n + 1, f"{n:03d}") for n in range(1000)])
    path = tmp_path / "swap.csv"
    path.write_text("user_id,extension\n1,001\n2,000\n")
    result = run_cli("--sandbox", "-o", "json", "import", str(path), "--dry-run")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["steps"] == []
    (blocked,) = [f for f in doc["findings"] if f["code"] == "plan-blocked"]
    assert blocked["severity"] == "error"
    assert "none is free" in blocked["message"]


# -- options and confirmation -----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["import"],
        ["import", "f.csv", "--resume", "j.jsonl"],
        ["import", "--resume", "j", "--journal", "k"],
    ],
)
def test_file_xor_resume(run_cli: RunCli, args: list[str]) -> None:
    result = run_cli("--sandbox", *args)
    assert result.exit_code == 2
    assert extensions() == IMPORT_BEFORE


def test_unreadable_file_is_a_usage_error(run_cli: RunCli) -> None:
    result = run_cli("--sandbox", "import", "/nonexistent/users.csv", "--yes")
    assert result.exit_code == 2
    assert "cannot read /nonexistent/users.csv" in result.stderr


def test_no_terminal_and_no_yes_refuses(run_cli: RunCli, csv_file: Path) -> None:
    result = run_cli("--sandbox", "import", str(csv_file), input="y\n")
    assert result.exit_code == 2
    assert "pass --yes" in result.stderr
    assert extensions() == IMPORT_BEFORE


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 1)])
def test_confirmation_on_a_terminal(
    run_cli: RunCli, csv_file: Path, monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    on_terminal(monkeypatch)
    result = run_cli("--sandbox", "import", str(csv_file), input=answer)
    assert result.exit_code == code, result.stderr
    assert "Apply 6 writes?" in result.stderr
    assert extensions() == (IMPORT_DESIRED if code == 0 else IMPORT_BEFORE)


def prompted_job(
    run_cli: RunCli,
    csv_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> tuple[list[str], dict[int, str | None]]:
    """The arguments of an import of ``source`` kind that stands ready to write, and the
    account it plans from."""
    if source == "FILE":
        return [str(csv_file)], dict(IMPORT_BEFORE)
    if source == "--plan":
        plan = tmp_path / "plan.json"
        saved = run_cli("--sandbox", "import", str(csv_file), "--dry-run", "--save-plan", str(plan))
        assert saved.exit_code == 0, saved.stderr
        return ["--plan", str(plan)], dict(IMPORT_BEFORE)
    journal = tmp_path / "import.jsonl"
    if source == "--undo":
        done = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
        assert done.exit_code == 0, done.stderr
        return ["--undo", str(journal)], dict(IMPORT_DESIRED)
    stopped = run_with_failing_write(
        run_cli, monkeypatch, 3, KeyboardInterrupt(),
        "--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert stopped.exit_code == 5, stopped.stderr
    return ["--resume", str(journal)], extensions()


SOURCES = ["FILE", "--plan", "--undo", "--resume"]


@pytest.mark.parametrize("source", SOURCES)
def test_an_account_changed_while_confirming_writes_nothing(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """Another admin gives user 4, whom the plan moves, extension 199 while the plan is on
    screen: every job that asks reads the account again and refuses with the same rule and
    words; a resume, agreed to when its job started, does not ask."""
    args, shown = prompted_job(run_cli, csv_file, tmp_path, monkeypatch, source)
    write_while_confirming(monkeypatch, 4, "199")
    result = run_cli("--sandbox", "import", *args)
    if source == "--resume":
        assert result.exit_code == 0, result.stderr
        assert "Apply" not in result.stderr
        assert extensions() == IMPORT_DESIRED
        return
    assert result.exit_code == 1
    expected = shown[4]
    assert (
        "error: the account changed while the plan was shown: user 4 (user4@example.com) has "
        f"199, the plan expected {expected}; nothing was written"
    ) in result.stderr
    assert extensions() == {**shown, 4: "199"}


@pytest.mark.parametrize("source", SOURCES)
def test_a_change_the_plan_does_not_rest_on_lets_the_steps_shown_go_ahead(
    run_cli: RunCli,
    csv_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    """User 8, whom no plan involves, leaves 100 while the plan is on screen: 100 would
    now be the lowest free extension to park on, but the steps shown are still safe, so
    they are the ones applied (the parking extension shown included), whatever the source."""
    args, _shown = prompted_job(run_cli, csv_file, tmp_path, monkeypatch, source)
    code = 1 if source == "--undo" else 0  # user 5 had no extension before: skipped
    dry = run_cli("--sandbox", "-o", "json", "import", *args, "--dry-run")
    assert dry.exit_code == code, dry.stderr
    steps = [(s["user_id"], s["to"]) for s in json.loads(dry.stdout)["steps"]]
    assert "100" not in {to for _user, to in steps}
    write_while_confirming(monkeypatch, 8, "199")
    sent = record_writes(monkeypatch)
    result = run_cli("--sandbox", "import", *args)
    assert result.exit_code == code, result.stderr
    ours = [write for write in sent if write[0] != 8]
    if source == "--resume":  # never asked: the other admin never wrote
        assert extensions() == IMPORT_DESIRED
        return
    assert ours == steps
    if source == "--undo":
        assert extensions() == {**IMPORT_BEFORE, 5: "150", 8: "199"}
    else:
        assert extensions() == {**IMPORT_DESIRED, 8: "199"}


# -- applying ---------------------------------------------------------------------------


def test_yes_applies_with_journal_report_and_result_document(
    run_cli: RunCli, csv_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "out" / "report.csv"
    report.parent.mkdir()
    result = run_cli(
        "--sandbox", "-o", "json", "import", str(csv_file), "--yes", "--report", str(report)
    )
    assert result.exit_code == 0, result.stderr
    assert extensions() == IMPORT_DESIRED
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"applied": 5, "unchanged": 1, "skipped": 1, "failed": 0, "not_run": 0}
    journal = Path(doc["journal"])
    assert journal.parent == tmp_path / "home" / ".local" / "state" / "aircall-ext" / "journals"
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    statuses = {r["user_id"]: r["status"] for r in read_report(report)}
    assert statuses == {
        "1": "applied",
        "2": "applied",
        "3": "applied",
        "4": "applied",
        "5": "applied",
        "6": "skipped",
        "7": "unchanged",
    }


def test_second_run_writes_nothing(
    run_cli: RunCli, csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("--sandbox", "import", str(csv_file), "--yes").exit_code == 0
    fail_on_write(monkeypatch, 1, AssertionError("no write expected"))
    result = run_cli("--sandbox", "-o", "json", "import", str(csv_file), "--yes")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "summary": {"applied": 0, "unchanged": 6, "skipped": 1, "failed": 0, "not_run": 0},
        "journal": None,
    }


def test_unwritable_report_fails_before_any_write(
    run_cli: RunCli, csv_file: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "--sandbox", "import", str(csv_file), "--yes", "--report", str(tmp_path / "no" / "r.csv")
    )
    assert result.exit_code == 2
    assert extensions() == IMPORT_BEFORE


def test_fatal_error_exits_5_naming_journal_and_resume_command_that_works(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "my journal.jsonl"
    report = tmp_path / "report.csv"
    result = run_with_failing_write(
        run_cli, monkeypatch, 3, ApiError("GET /users failed: HTTP 503: down"),
        "--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal),
        "--report", str(report),
    )  # fmt: skip
    assert result.exit_code == 5
    assert "import stopped after 2 of 6 writes" in result.stderr
    assert f"journal: {journal}" in result.stderr
    command = f"aircall-ext --sandbox import --resume {shlex.quote(str(journal))}"
    assert command in result.stderr
    statuses = [r["status"] for r in read_report(report)]
    assert sorted(statuses) == [
        "applied",
        "applied",
        "failed",
        "not-run",
        "not-run",
        "skipped",
        "unchanged",
    ]

    resumed = run_cli(*shlex.split(command)[1:], "-o", "json")
    assert resumed.exit_code == 0, resumed.stderr
    assert extensions() == IMPORT_DESIRED
    assert json.loads(resumed.stdout)["summary"]["applied"] == 5

    again = run_cli("--sandbox", "import", "--resume", str(journal))
    assert again.exit_code == 0
    assert extensions() == IMPORT_DESIRED


def test_ctrl_c_exits_5(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_on_write(monkeypatch, 2, KeyboardInterrupt())
    journal = tmp_path / "j.jsonl"
    result = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
    assert result.exit_code == 5
    assert "interrupted" in result.stderr
    assert "--resume" in result.stderr
    last = json.loads(journal.read_text().splitlines()[-1])
    assert (last["type"], last["status"]) == ("end", "stopped")


@pytest.fixture
def stopped(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The journal of an import of the scene's file that an API error stopped (exit 5) at its
    first write: nothing was written."""
    journal = tmp_path / "j.jsonl"
    result = run_with_failing_write(
        run_cli, monkeypatch, 1, ApiError("boom"),
        "--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert result.exit_code == 5
    return journal


def test_resume_refuses_an_edited_file(run_cli: RunCli, csv_file: Path, stopped: Path) -> None:
    csv_file.write_text(IMPORT_CSV + "8,user8@example.com,180\n")
    result = run_cli("--sandbox", "import", "--resume", str(stopped))
    assert result.exit_code == 1
    assert "changed since the import started" in result.stderr
    assert extensions() == IMPORT_BEFORE


# -- outputs that would destroy the input, the journal or each other ---------------------


@pytest.mark.parametrize(
    ("options", "roles"),
    [
        (["--report", "{csv}"], "FILE and --report"),
        (["--report", "{link}"], "FILE and --report"),  # a hard link: same file, other name
        (["--journal", "{csv}"], "FILE and --journal"),
        (["--journal", "{new}", "--report", "{dot_new}"], "--journal and --report"),
        (["--journal", "j.jsonl", "--report", "j.input.csv"], "beside --journal and --report"),
    ],
)
def test_an_output_naming_the_input_or_another_output_is_refused_before_anything(
    run_cli: RunCli,
    csv_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    options: list[str],
    roles: str,
) -> None:
    os.link(csv_file, tmp_path / "link.csv")
    monkeypatch.chdir(tmp_path)
    paths = {
        "csv": str(csv_file),
        "link": str(tmp_path / "link.csv"),
        "new": "new.out",
        "dot_new": "./sub/../new.out",
    }
    (tmp_path / "sub").mkdir()
    args = [option.format(**paths) for option in options]
    source = "-" if "j.jsonl" in args else str(csv_file)
    result = run_cli("--sandbox", "import", source, "--yes", *args, input=IMPORT_CSV)
    assert result.exit_code == 2, result.stderr
    assert roles in result.stderr and "name the same file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert csv_file.read_text() == IMPORT_CSV
    assert not (tmp_path / "new.out").exists()
    assert extensions() == IMPORT_BEFORE


def test_a_resume_refuses_a_report_over_its_input_or_its_journal(
    run_cli: RunCli, csv_file: Path, stopped: Path
) -> None:
    journal = stopped
    kept = journal.read_bytes()
    for target, role in ((csv_file, "input file"), (journal, "--resume")):
        result = run_cli("--sandbox", "import", "--resume", str(journal), "--report", str(target))
        assert result.exit_code == 2, result.stderr
        assert role in result.stderr and "--report" in result.stderr
    assert csv_file.read_text() == IMPORT_CSV and journal.read_bytes() == kept
    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr
    assert extensions() == IMPORT_DESIRED


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_report_to_stdout_is_refused_when_stdout_carries_a_document(
    run_cli: RunCli, csv_file: Path, fmt: str
) -> None:
    result = run_cli("--sandbox", "-o", fmt, "import", str(csv_file), "--yes", "--report", "-")
    assert result.exit_code == 2
    assert f"-o {fmt}" in result.stderr and "--report" in result.stderr
    assert result.stdout == ""
    assert extensions() == IMPORT_BEFORE


def test_report_to_stdout_follows_the_tables(run_cli: RunCli, csv_file: Path) -> None:
    result = run_cli("--sandbox", "import", str(csv_file), "--yes", "--report", "-")
    assert result.exit_code == 0, result.stderr
    report = result.stdout[result.stdout.index("line,user_id,email,from,to,status,error") :]
    rows = list(csv.DictReader(io.StringIO(report)))
    assert len(rows) == 7 and {r["status"] for r in rows} >= {"applied", "skipped"}


def test_report_to_a_fifo_is_written_directly(
    run_cli: RunCli, csv_file: Path, tmp_path: Path
) -> None:
    """`--report >(cmd)`: a pipe is written, not replaced by a renamed file after the import."""
    fifo = tmp_path / "report.pipe"
    result, received = through_fifo(
        fifo, lambda: run_cli("--sandbox", "import", str(csv_file), "--yes", "--report", str(fifo))
    )
    assert result.exit_code == 0, result.stderr
    assert fifo.is_fifo() and received.startswith(b"line,user_id,")
    assert extensions() == IMPORT_DESIRED


def test_report_is_private_even_with_umask_0(
    run_cli: RunCli, csv_file: Path, tmp_path: Path
) -> None:
    report = tmp_path / "report.csv"
    report.write_text("an older, world-readable report\n")
    report.chmod(0o644)
    previous = os.umask(0)
    try:
        result = run_cli("--sandbox", "import", str(csv_file), "--yes", "--report", str(report))
        dry = run_cli(
            "--sandbox", "import", str(csv_file), "--dry-run", "--report", str(tmp_path / "d.csv")
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0 and dry.exit_code == 0, result.stderr + dry.stderr
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "d.csv").stat().st_mode) == 0o600
    assert "user1@example.com" in report.read_text()


def test_a_report_that_fails_after_the_writes_is_a_warning_not_a_usage_error(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aircall_ext import files

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_atomic", disk_full)
    result = run_cli(
        "--sandbox", "import", str(csv_file), "--yes", "--report", str(tmp_path / "r.csv")
    )
    assert result.exit_code == 0, result.stderr
    assert "warning: cannot write report" in result.stderr and "journal" in result.stderr
    assert extensions() == IMPORT_DESIRED


# -- standard input --------------------------------------------------------------------


def test_a_stopped_import_of_stdin_names_a_resume_that_works(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped = run_with_failing_write(
        run_cli, monkeypatch, 3, ApiError("down"), "--sandbox", "import", "-", "--yes",
        input=IMPORT_CSV,
    )  # fmt: skip
    assert stopped.exit_code == 5, stopped.stderr
    assert "standard input is kept in" in stopped.stderr  # said up front
    command = stopped.stderr.split("finish it with `", 1)[1].split("`", 1)[0]
    resumed = run_cli(*shlex.split(command)[1:])
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming standard input (kept in " in resumed.stderr
    assert extensions() == IMPORT_DESIRED


def test_a_copy_of_stdin_that_does_not_fit_is_a_usage_error_and_leaves_nothing(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills while standard input is kept beside the journal: exit 2 before any
    write, and no partial copy left to refuse the next run with the same --journal."""
    journal = tmp_path / "j.jsonl"
    copy = tmp_path / "j.input.csv"
    real = os.write

    def write(fd: int, data: bytes) -> int:
        if bytes(data) == IMPORT_CSV.encode():
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    args = ("--sandbox", "import", "-", "--yes", "--journal", str(journal))
    with monkeypatch.context() as patch:
        patch.setattr(os, "write", write)
        full = run_cli(*args, input=IMPORT_CSV)
    assert full.exit_code == 2, full.stderr
    assert f"error: cannot write {copy}: No space left on device" in full.stderr
    assert "internal error" not in full.stderr
    assert not copy.exists() and not journal.exists()
    assert extensions() == IMPORT_BEFORE

    again = run_cli(*args, input=IMPORT_CSV)
    assert again.exit_code == 0, again.stderr
    assert copy.read_bytes() == IMPORT_CSV.encode()
    assert extensions() == IMPORT_DESIRED


# -- what the plan flags --------------------------------------------------------------


def test_the_plan_flags_an_extension_a_damaged_value_stands_for(
    run_cli: RunCli, write_state: WriteState, tmp_path: Path
) -> None:
    write_state([api_user(1, "101"), api_user(2, "42")])  # 2 holds a 042 that lost its zero
    path = tmp_path / "take.csv"
    path.write_text("user_id,extension\n1,042\n")
    result = run_cli("--sandbox", "-o", "json", "import", str(path), "--dry-run")
    assert result.exit_code == 1
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["severity"] == "error"]
    assert (finding["code"], finding["line"], finding["column"]) == ("extension-taken", 2, 2)
    assert "user 2" in finding["message"] and "'42' is a damaged 042" in finding["message"]


def test_a_blocked_plan_on_a_full_account_says_so_in_a_short_line(
    run_cli: RunCli, write_state: WriteState, tmp_path: Path
) -> None:
    write_state([api_user(n + 1, f"{n:03d}") for n in range(1000)])
    path = tmp_path / "rotate.csv"
    path.write_text(
        "user_id,extension\n" + "".join(f"{n + 1},{(n + 1) % 1000:03d}\n" for n in range(1000))
    )
    result = run_cli("--sandbox", "import", str(path), "--dry-run")
    assert result.exit_code == 1
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert "form a cycle" in error and "and 990 more" in error
    assert len(error) < 400


# -- a pipe as FILE ----------------------------------------------------------------------


def fed_fifo(fifo: Path, data: bytes, run: Callable[[], Any]) -> Any:
    """Make ``fifo`` a named pipe and call ``run()`` while a writer feeds it ``data``."""
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_bytes, args=(data,), daemon=True)
    writer.start()
    result = run()
    writer.join(timeout=30)
    return result


def test_an_import_of_a_pipe_is_resumed_from_its_copy_never_from_the_pipe(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import <(cmd)`: the pipe gives its bytes once (and /dev/fd/63 is gone, or another
    pipe, by the time of the resume), so the journal keeps them like standard input's."""
    fifo = tmp_path / "users.pipe"
    journal = tmp_path / "j.jsonl"
    stopped = fed_fifo(
        fifo,
        IMPORT_CSV.encode(),
        lambda: run_with_failing_write(
            run_cli, monkeypatch, 3, ApiError("down"),
            "--sandbox", "import", str(fifo), "--yes", "--journal", str(journal),
        ),
    )  # fmt: skip
    assert stopped.exit_code == 5, stopped.stderr
    assert f"what {fifo} gave is kept in {tmp_path / 'j.input.csv'}" in stopped.stderr
    fifo.unlink()
    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr
    assert extensions() == IMPORT_DESIRED


# -- journals under abuse ----------------------------------------------------------------


def test_a_hand_damaged_journal_is_refused_naming_its_line(
    run_cli: RunCli, stopped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = stopped.read_text().splitlines()
    start = json.loads(lines[1])
    assert start["type"] == "start"
    del start["user_id"]
    stopped.write_text("\n".join([lines[0], json.dumps(start), *lines[2:]]) + "\n")
    fail_on_write(monkeypatch, 1, AssertionError("no write expected"))
    for args in (["--resume", str(stopped)], ["--undo", str(stopped), "--yes"]):
        result = run_cli("--sandbox", "import", *args)
        assert result.exit_code == 2, result.stderr
        assert (
            f"journal {stopped} is damaged at line 2: start record: field user_id is missing"
        ) in result.stderr
        assert "internal error" not in result.stderr
    listed = run_cli("-o", "json", "jobs", "--dir", str(stopped.parent))
    (job,) = json.loads(listed.stdout)["jobs"]
    assert job["status"] == "unreadable" and "is damaged at line 2" in job["error"]
    assert extensions() == IMPORT_BEFORE


@pytest.mark.parametrize("field", ["file", "input_copy", "plan", "undo_of"])
@pytest.mark.parametrize(
    ("path", "shown"),
    [("users\x00.csv", r'"users\u0000.csv"'), ("users\ud800.csv", r'"users\ud800.csv"')],
    ids=["nul", "lone-surrogate"],
)
def test_a_journal_path_no_file_can_have_is_damage_at_its_field(
    run_cli: RunCli,
    stopped: Path,
    monkeypatch: pytest.MonkeyPatch,
    field: str,
    path: str,
    shown: str,
) -> None:
    """A path the system cannot name a file with would fail only when opened: the resume,
    the undo and `jobs` refuse it as damage at its field, like any other."""
    lines = stopped.read_text().splitlines()
    header = json.loads(lines[0])
    header[field] = path
    stopped.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    expected = "a file path" if field == "file" else "a file path or null"
    damage = (
        f"journal {stopped} is damaged at line 1: header: field {field}: "
        f"expected {expected}, got {shown}"
    )
    fail_on_write(monkeypatch, 1, AssertionError("no write expected"))
    for args in (["--resume", str(stopped)], ["--undo", str(stopped), "--yes"]):
        result = run_cli("--sandbox", "import", *args)
        assert result.exit_code == 2, result.stderr
        assert f"error: {damage} (" in result.stderr
    listed = run_cli("-o", "json", "jobs", "--dir", str(stopped.parent))
    assert listed.exit_code == 0, listed.stderr
    (job,) = json.loads(listed.stdout)["jobs"]
    assert job["status"] == "unreadable" and damage in job["error"]
    assert extensions() == IMPORT_BEFORE


def test_a_journal_another_run_holds_is_refused_at_once_and_left_alone(
    run_cli: RunCli, stopped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI retry beside a manual `--resume`: the second run neither cuts the journal nor
    sends a write."""
    with stopped.open("a") as journal:
        journal.write('{"type":"start","step":2,"user_')  # the other run is mid-record
    before = stopped.read_bytes()
    other = read_journal(stopped, lock=True)  # the run that holds it
    with monkeypatch.context() as patch:
        fail_on_write(patch, 1, AssertionError("no write expected"))
        for args in (["--resume", str(stopped)], ["--undo", str(stopped), "--yes"]):
            result = run_cli("--sandbox", "import", *args)
            assert result.exit_code == 1, result.stderr
            assert f"journal {stopped} is in use by another run" in result.stderr
    assert stopped.read_bytes() == before
    assert other.lock is not None
    other.lock.release()
    assert run_cli("--sandbox", "import", "--resume", str(stopped)).exit_code == 0
    assert extensions() == IMPORT_DESIRED


@pytest.mark.parametrize(
    ("record", "written", "kept"),
    [
        ("start", 2, ["start", "done"] * 2),  # the third write is not sent
        ("done", 3, ["start", "done"] * 2 + ["start"]),  # it was sent, and landed
    ],
)
def test_a_full_disk_stops_the_import_like_any_stop(
    run_cli: RunCli,
    csv_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    record: str,
    written: int,
    kept: list[str],
) -> None:
    """The third write's ``record`` does not fit: the job stops with exit 5, the report is
    written, and the resume command is named."""
    journal = tmp_path / "j.jsonl"
    report = tmp_path / "report.csv"
    real = os.write
    seen = 0

    def write(fd: int, data: bytes) -> int:
        nonlocal seen
        if bytes(data).startswith(b'{"type":"' + record.encode()):
            seen += 1
        if seen >= 3 and bytes(data).startswith(b'{"type":'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", write)
        result = run_cli(
            "--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal),
            "--report", str(report),
        )  # fmt: skip
    assert result.exit_code == 5, result.stderr
    assert "internal error" not in result.stderr
    assert (
        f"import stopped after {written} of 6 writes: cannot write journal {journal}: "
        "No space left on device"
    ) in result.stderr
    assert f"aircall-ext --sandbox import --resume {journal}" in result.stderr
    assert [r["status"] for r in read_report(report)].count("applied") == written
    assert [r.kind for r in read_journal(journal).records] == kept

    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr
    assert extensions() == IMPORT_DESIRED
    assert read_journal(journal).finished()


def test_a_job_done_but_not_on_record_stops_and_its_resume_records_it(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write landed and was verified, but the closing record did not fit: the run
    says so (exit 5), and the resume, which finds nothing to write, closes the journal."""
    journal = tmp_path / "j.jsonl"
    real = os.write

    def write(fd: int, data: bytes) -> int:
        if bytes(data).startswith(b'{"type":"end"'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", write)
        result = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
    assert result.exit_code == 5, result.stderr
    assert f"cannot write journal {journal}: No space left on device" in result.stderr
    assert extensions() == IMPORT_DESIRED
    assert not read_journal(journal).finished()
    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr
    assert read_journal(journal).finished()

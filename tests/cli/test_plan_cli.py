"""``import --dry-run --save-plan`` and ``import --plan`` through the in-process sandbox."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from aircall_ext.errors import ApiError
from tests.conftest import RunCli
from tests.scenes import (
    IMPORT_BEFORE,
    IMPORT_CSV,
    IMPORT_DESIRED,
    WriteState,
    env_credentials,
    extensions,
    journal_header,
    on_terminal,
    read_report,
    record_writes,
    run_with_failing_write,
    through_fifo,
    users_holding,
)

pytestmark = pytest.mark.usefixtures("import_scene")


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Every PUT the CLI sends, in order."""
    return record_writes(monkeypatch)


def save(run_cli: RunCli, csv_file: Path, plan: Path, *extra: str) -> dict[str, Any]:
    result = run_cli("--sandbox", "import", str(csv_file), "--dry-run", "--save-plan", str(plan))
    assert result.exit_code == 0, result.stderr
    assert f"apply it with `aircall-ext --sandbox import --plan {plan}`" in result.stderr
    doc: dict[str, Any] = json.loads(plan.read_text())
    return doc


@pytest.fixture
def plan(run_cli: RunCli, csv_file: Path, tmp_path: Path) -> Path:
    """The import scene's plan, saved by a dry run."""
    path = tmp_path / "plan.json"
    save(run_cli, csv_file, path)
    return path


def test_a_saved_plan_is_private_and_carries_what_it_depends_on(
    run_cli: RunCli, plan: Path, csv_file: Path
) -> None:
    doc = json.loads(plan.read_text())
    assert stat.S_IMODE(plan.stat().st_mode) == 0o600
    assert extensions() == IMPORT_BEFORE  # a dry run
    assert doc["account"]["sandbox"] is True
    assert set(doc["account"]) == {"host", "api_id_sha256", "sandbox"}  # no secret
    assert doc["file"]["path"] == str(csv_file)
    assert doc["tool"].startswith("aircall-ext ")
    dry = run_cli("--sandbox", "-o", "json", "import", str(csv_file), "--dry-run")
    assert doc["steps"] == json.loads(dry.stdout)["steps"]
    assert doc["plan"] == json.loads(dry.stdout)["plan"]
    # Writers (1-5) and the unchanged row (7); 6 (blank) and 8 (not in the file) are not.
    assert {u["id"]: u["extension"] for u in doc["users"]} == {
        1: "101",
        2: "102",
        3: "103",
        4: "104",
        5: None,
        7: "107",
    }


def test_an_untouched_plan_applies_exactly_its_steps_like_an_import(
    run_cli: RunCli, plan: Path, csv_file: Path, tmp_path: Path, writes: list[tuple[int, str]]
) -> None:
    doc = json.loads(plan.read_text())
    report = tmp_path / "report.csv"
    journal = tmp_path / "job.jsonl"
    result = run_cli(
        "--sandbox",
        "-o",
        "json",
        "import",
        "--plan",
        str(plan),
        "--yes",
        "--report",
        str(report),
        "--journal",
        str(journal),
    )
    assert result.exit_code == 0, result.stderr
    assert writes == [(s["user_id"], s["to"]) for s in doc["steps"]]
    assert extensions() == IMPORT_DESIRED
    assert json.loads(result.stdout) == {
        "summary": {"applied": 5, "unchanged": 1, "skipped": 1, "failed": 0, "not_run": 0},
        "journal": str(journal),
    }
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["file"] == str(csv_file) and header["steps"] == doc["steps"]
    assert [r["status"] for r in read_report(report)].count("applied") == 5


def test_a_plan_made_stale_by_another_change_is_refused_and_lists_what_moved(
    run_cli: RunCli, plan: Path, writes: list[tuple[int, str]]
) -> None:
    assert run_cli("--sandbox", "assign", "2", "199").exit_code == 0  # someone else
    assert run_cli("--sandbox", "assign", "8", "150").exit_code == 0  # takes 5's target
    writes.clear()
    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 1
    assert "plan is stale: user 2 (user2@example.com) has 199, the plan expected 102" in (
        result.stderr
    )
    assert "extension 150 is now held by user 8 (user8@example.com), who is not in the plan" in (
        result.stderr
    )
    assert "nothing was written" in result.stderr and "--save-plan" in result.stderr
    assert writes == []
    assert extensions() == {**IMPORT_BEFORE, 2: "199", 8: "150"}


def test_a_changed_csv_makes_it_stale_and_a_missing_one_is_applied_from_the_plan(
    run_cli: RunCli, plan: Path, csv_file: Path, tmp_path: Path
) -> None:
    csv_file.write_text(IMPORT_CSV.replace("105", "155"))
    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 1
    assert f"{csv_file} changed since the plan was made (sha256 differs)" in result.stderr
    assert extensions() == IMPORT_BEFORE

    csv_file.unlink()  # the plan carries the file: it still applies, and resumes
    journal = tmp_path / "job.jsonl"
    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert f"applying the copy of it kept in {plan}" in result.stderr
    assert extensions() == IMPORT_DESIRED
    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr


def test_a_plan_for_another_account_is_refused_naming_both(
    run_cli: RunCli, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_credentials(monkeypatch, "other-id", "other-token-0123456789")
    result = run_cli("--base-url", "https://api.example.test", "import", "--plan", str(plan))
    assert result.exit_code == 1
    assert (
        f"plan {plan} was made for another account, sandbox; "
        "this run is configured for other-id@api.example.test"
    ) in result.stderr
    assert "other-token" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not a JSON plan"),
        ('{"format": "aircall-ext plan", "version": 9}', "(field version)"),
        ("[1, 2]", "is not an aircall-ext plan (field format)"),
        ('{"format": "aircall-ext plan", "version": 1}', "field tool: Field required"),
    ],
)
def test_a_file_that_is_not_a_plan_is_a_usage_error_naming_it(
    run_cli: RunCli, tmp_path: Path, content: str, message: str
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(content)
    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 2
    assert str(plan) in result.stderr and message in result.stderr
    assert extensions() == IMPORT_BEFORE


def test_without_yes_it_asks_and_refuses_off_a_terminal(
    run_cli: RunCli, plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli("--sandbox", "import", "--plan", str(plan), input="y\n")
    assert result.exit_code == 2 and "pass --yes" in result.stderr
    on_terminal(monkeypatch)
    result = run_cli("--sandbox", "import", "--plan", str(plan), input="n\n")
    assert result.exit_code == 1 and "Apply 6 writes?" in result.stderr
    assert extensions() == IMPORT_BEFORE
    result = run_cli("--sandbox", "import", "--plan", str(plan), input="y\n")
    assert result.exit_code == 0, result.stderr
    assert extensions() == IMPORT_DESIRED


def test_dry_run_of_a_plan_checks_it_and_writes_nothing(run_cli: RunCli, plan: Path) -> None:
    doc = json.loads(plan.read_text())
    result = run_cli("--sandbox", "-o", "json", "import", "--plan", str(plan), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["steps"] == doc["steps"]
    assert extensions() == IMPORT_BEFORE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "{csv}", "--save-plan", "{plan}"], "--save-plan needs --dry-run"),
        (["import", "{csv}", "--plan", "{plan}"], "takes no FILE, --resume, --undo or --save-plan"),
        (["import", "--plan", "{plan}", "--save-plan", "x.json"], "takes no FILE"),
        (["import", "--plan", "{plan}", "--undo", "j.jsonl"], "takes no FILE"),
        (["import", "--undo", "j.jsonl", "--dry-run", "--save-plan", "{plan}"], "not of --undo"),
        (["import", "{csv}", "--dry-run", "--save-plan", "{csv}"], "name the same file"),
    ],
)
def test_option_misuse_is_a_usage_error(
    run_cli: RunCli, csv_file: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    plan = tmp_path / "plan.json"
    words = [a.format(csv=csv_file, plan=plan) for a in args]
    result = run_cli("--sandbox", *words)
    assert result.exit_code == 2
    assert message in result.stderr
    assert csv_file.read_text() == IMPORT_CSV


def test_a_blocked_plan_is_not_saved(
    run_cli: RunCli, write_state: WriteState, tmp_path: Path
) -> None:
    write_state(users_holding({1: "101", 2: "102"}))
    csv_file = tmp_path / "taken.csv"
    csv_file.write_text("user_id,extension\n1,102\n")  # 2 keeps 102: the file has an error
    plan = tmp_path / "plan.json"
    result = run_cli("--sandbox", "import", str(csv_file), "--dry-run", "--save-plan", str(plan))
    assert result.exit_code == 1
    assert not plan.exists()


# -- a plan is what its CSV plans -------------------------------------------------------


def retarget(doc: dict[str, Any]) -> None:
    """4's row and write say 199 where the CSV asks for 105."""
    (row,) = [r for r in doc["plan"] if r["user_id"] == 4]
    (step,) = [s for s in doc["steps"] if s["user_id"] == 4]
    row["to"] = step["to"] = "199"


def move_an_outsider(doc: dict[str, Any]) -> None:
    """A write (and its user) for 8, whom no row names."""
    doc["users"].append({"id": 8, "email": "user8@example.com", "extension": "100"})
    doc["steps"].append({"user_id": 8, "from": "100", "to": "180", "parking": False})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (retarget, "field plan[3].to is '199', but its CSV plans '105' for line 5"),
        (move_an_outsider, "field steps[6] is user 8 100 → 180, a write its CSV does not plan"),
        (lambda d: d.update(steps=[]), "field steps: 0 writes, but its CSV plans 6"),
    ],
)
def test_an_edited_plan_is_refused_as_damaged_and_nothing_is_written(
    run_cli: RunCli, plan: Path, writes: list[tuple[int, str]], change: Any, message: str
) -> None:
    doc = json.loads(plan.read_text())
    change(doc)
    plan.write_text(json.dumps(doc))
    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 2, result.stderr
    assert f"{plan} is damaged: {message}" in result.stderr
    assert "--save-plan" in result.stderr  # how to make a good one
    assert writes == []
    assert extensions() == IMPORT_BEFORE


@pytest.mark.parametrize(
    "path", ["users\x00.csv", "users\ud800.csv"], ids=["nul", "lone-surrogate"]
)
def test_a_plan_whose_csv_path_no_file_can_have_is_refused_as_damaged(
    run_cli: RunCli, plan: Path, writes: list[tuple[int, str]], path: str
) -> None:
    """Such a path would fail only when the CSV is looked at again: damage, named."""
    doc = json.loads(plan.read_text())
    doc["file"]["path"] = path
    plan.write_text(json.dumps(doc))
    result = run_cli("--sandbox", "import", "--plan", str(plan), "--yes")
    assert result.exit_code == 2, result.stderr
    assert f"error: {plan} is damaged: field file.path: Input should be a file path (" in (
        result.stderr
    )
    assert writes == []
    assert extensions() == IMPORT_BEFORE


def test_a_plan_applied_again_is_applied_already_and_writes_nothing(
    run_cli: RunCli, plan: Path, writes: list[tuple[int, str]]
) -> None:
    assert run_cli("--sandbox", "import", "--plan", str(plan), "--yes").exit_code == 0
    writes.clear()
    again = run_cli("--sandbox", "-o", "json", "import", "--plan", str(plan), "--yes")
    assert again.exit_code == 0, again.stderr
    assert f"plan {plan} is applied already: the account holds what it plans" in again.stderr
    assert "stale" not in again.stderr
    assert json.loads(again.stdout) == {
        "summary": {"applied": 0, "unchanged": 6, "skipped": 1, "failed": 0, "not_run": 0},
        "journal": None,
    }
    assert writes == []
    assert extensions() == IMPORT_DESIRED


def test_a_plan_whose_csv_is_gone_is_named_in_its_journal_and_jobs(
    run_cli: RunCli, plan: Path, csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_file.unlink()
    journal = tmp_path / "job.jsonl"
    stopped = run_with_failing_write(
        run_cli, monkeypatch, 3, ApiError("down"),
        "--sandbox", "import", "--plan", str(plan), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert stopped.exit_code == 5, stopped.stderr
    copy = tmp_path / "job.input.csv"
    assert f"the CSV carried by plan {plan} is kept in {copy}, for --resume" in stopped.stderr
    assert "standard input" not in stopped.stderr
    head = journal_header(journal)
    assert (head["file"], head["plan"], head["input_copy"]) == (str(csv_file), str(plan), str(copy))
    (job,) = json.loads(run_cli("-o", "json", "jobs", "--dir", str(tmp_path)).stdout)["jobs"]
    assert job["file"] == str(csv_file)
    assert f"{csv_file}," in run_cli("-o", "csv", "jobs", "--dir", str(tmp_path)).stdout

    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr
    assert f"resuming the CSV carried by plan {plan} (kept in {copy})" in resumed.stderr
    assert extensions() == IMPORT_DESIRED


def test_a_plan_made_from_a_pipe_never_opens_that_path_again(
    run_cli: RunCli, tmp_path: Path
) -> None:
    """`import <(cmd) --dry-run --save-plan P`, then `import --plan P --report >(cmd)` in
    another shell: /dev/fd/63 is now the report's pipe, neither read nor "the same file"."""
    pipe = tmp_path / "fd63"
    plan = tmp_path / "plan.json"
    os.mkfifo(pipe)
    feeder = threading.Thread(target=pipe.write_bytes, args=(IMPORT_CSV.encode(),), daemon=True)
    feeder.start()
    saved = run_cli("--sandbox", "import", str(pipe), "--dry-run", "--save-plan", str(plan))
    feeder.join(timeout=30)
    assert saved.exit_code == 0, saved.stderr
    assert json.loads(plan.read_text())["file"]["source"] == "pipe"
    pipe.unlink()

    apply = ("--sandbox", "import", "--plan", str(plan), "--yes", "--report", str(pipe))
    result, report = through_fifo(pipe, lambda: run_cli(*apply))
    assert result.exit_code == 0, result.stderr
    assert report.startswith(b"line,user_id,")
    assert extensions() == IMPORT_DESIRED

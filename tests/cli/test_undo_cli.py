"""``import --undo`` through the in-process sandbox: plan, skips, confirmation, stop, resume."""

from __future__ import annotations

import json
import os
import shlex
import stat
from pathlib import Path

import pytest

from aircall_ext.errors import ApiError
from aircall_ext.services.stopsignals import Interrupted
from tests.conftest import RunCli
from tests.scenes import (
    UNDO_AFTER,
    UNDO_BEFORE,
    WriteState,
    api_user,
    extensions,
    fail_on_write,
    journal_header,
    on_terminal,
    read_report,
    read_state,
    run_with_failing_write,
)


@pytest.fixture
def imported(run_cli: RunCli, undo_scene: Path, tmp_path: Path) -> Path:
    """The account after an import of the undo scene's file; its journal."""
    path = undo_scene
    journal = tmp_path / "import.jsonl"
    result = run_cli("--sandbox", "import", str(path), "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert extensions() == UNDO_AFTER
    return journal


def test_undo_restores_every_extension_with_its_own_journal(
    run_cli: RunCli, imported: Path, tmp_path: Path
) -> None:
    journal = tmp_path / "undo.jsonl"
    report = tmp_path / "report.csv"
    result = run_cli(
        "--sandbox", "-o", "json", "import", "--undo", str(imported), "--yes",
        "--journal", str(journal), "--report", str(report),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert extensions() == UNDO_BEFORE
    doc = json.loads(result.stdout)
    assert doc == {
        "summary": {"applied": 6, "unchanged": 0, "skipped": 0, "failed": 0, "not_run": 0},
        "journal": str(journal),
    }
    head = journal_header(journal)
    assert head["undo_of"] == str(imported.absolute())
    # The undo's desired state is in its header: no file beside it that an error could name.
    assert "file" not in head
    assert {row["user_id"]: row["extension"] for row in head["desired"]} == {
        u: UNDO_BEFORE[u] for u in (1, 2, 3, 4, 5, 6)
    }
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("undo")) == ["undo.jsonl"]
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600
    assert {r["user_id"]: (r["from"], r["to"], r["status"]) for r in read_report(report)} == {
        str(u): (UNDO_AFTER[u], UNDO_BEFORE[u], "applied") for u in (1, 2, 3, 4, 5, 6)
    }
    # 6 moves back, the 3-cycle and the swap through one parking write each.
    assert len(head["steps"]) == 6 + 2


def test_dry_run_shows_the_reverse_plan_and_writes_nothing(run_cli: RunCli, imported: Path) -> None:
    result = run_cli("--sandbox", "-o", "json", "import", "--undo", str(imported), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert extensions() == UNDO_AFTER
    doc = json.loads(result.stdout)
    assert {(r["user_id"], r["from"], r["to"], r["action"]) for r in doc["plan"]} == {
        (u, UNDO_AFTER[u], UNDO_BEFORE[u], "change") for u in (1, 2, 3, 4, 5, 6)
    }
    assert doc["summary"]["cycles"] == 2 and doc["summary"]["writes"] == 8
    table = run_cli("--sandbox", "import", "--undo", str(imported), "--dry-run")
    assert "plan: 0 unchanged, 0 assign, 6 change, 0 skip; 8 writes (2 cycles via parking" in (
        table.stderr
    )


def test_a_user_changed_since_is_skipped_and_named_and_the_rest_goes_back(
    run_cli: RunCli, imported: Path, tmp_path: Path
) -> None:
    assert run_cli("--sandbox", "assign", "6", "309").exit_code == 0  # another admin, since
    dry = run_cli("--sandbox", "-o", "json", "import", "--undo", str(imported), "--dry-run")
    assert dry.exit_code == 1
    (finding,) = [f for f in json.loads(dry.stdout)["findings"] if f["code"] == "undo-skipped"]
    assert finding["user_id"] == 6 and finding["severity"] == "warning"
    assert "user 6 has 309 now, not 303 as the import left it" in finding["message"]

    report = tmp_path / "report.csv"
    result = run_cli(
        "--sandbox", "import", "--undo", str(imported), "--yes", "--report", str(report)
    )
    assert result.exit_code == 1
    assert "skipped: user 6 has 309 now" in result.stderr
    assert "1 row skipped" in result.stderr
    assert extensions() == {**UNDO_BEFORE, 6: "309"}
    (row,) = [r for r in read_report(report) if r["status"] == "skipped"]
    assert (row["user_id"], row["from"], row["to"]) == ("6", "309", "")
    assert row["error"] == "user 6 has 309 now, not 303 as the import left it"


def test_an_old_extension_taken_since_skips_the_row(run_cli: RunCli, imported: Path) -> None:
    assert run_cli("--sandbox", "assign", "8", "301").exit_code == 0  # 6's old extension
    result = run_cli("--sandbox", "-o", "json", "import", "--undo", str(imported), "--yes")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["skipped"] == 1
    assert "extension 301 is now held by user 8" in result.stderr
    assert extensions() == {**UNDO_BEFORE, 6: "303", 8: "301"}


def test_no_terminal_and_no_yes_refuses_and_a_terminal_is_asked(
    run_cli: RunCli, imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = run_cli("--sandbox", "import", "--undo", str(imported), input="y\n")
    assert refused.exit_code == 2
    assert "pass --yes" in refused.stderr
    assert extensions() == UNDO_AFTER
    on_terminal(monkeypatch)
    declined = run_cli("--sandbox", "import", "--undo", str(imported), input="n\n")
    assert declined.exit_code == 1
    assert extensions() == UNDO_AFTER
    accepted = run_cli("--sandbox", "import", "--undo", str(imported), input="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert "Apply 8 writes?" in accepted.stderr
    assert extensions() == UNDO_BEFORE


def test_a_stopped_undo_exits_5_and_its_resume_finishes_it(
    run_cli: RunCli, imported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = tmp_path / "undo.jsonl"
    down = ApiError("PUT /v2/users/1 failed: HTTP 503: down")
    result = run_with_failing_write(
        run_cli, monkeypatch, 3, down,
        "--sandbox", "import", "--undo", str(imported), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert result.exit_code == 5
    assert "import stopped after 2 of 8 writes" in result.stderr
    command = f"aircall-ext --sandbox import --resume {shlex.quote(str(journal))}"
    assert command in result.stderr
    assert extensions() not in (UNDO_AFTER, UNDO_BEFORE)

    resumed = run_cli(*shlex.split(command)[1:])
    assert resumed.exit_code == 0, resumed.stderr
    assert extensions() == UNDO_BEFORE


def test_a_stopped_undo_of_the_previous_version_resumes_from_the_csv_beside_it(
    run_cli: RunCli, imported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous version kept an undo's desired state in a private ``.undo.csv`` beside
    its journal, which the header named as its file: such a journal still resumes."""
    kept = tmp_path / "undo.undo.csv"
    rows = "".join(f"{user},{UNDO_BEFORE[user]}\n" for user in (1, 2, 3, 4, 5, 6))
    kept.write_text("user_id,extension\n" + rows)
    journal = tmp_path / "undo.jsonl"
    stopped = run_with_failing_write(
        run_cli, monkeypatch, 3, KeyboardInterrupt(),
        "--sandbox", "import", str(kept), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert stopped.exit_code == 5
    lines = journal.read_text().splitlines()
    journal.write_text(
        json.dumps({**json.loads(lines[0]), "undo_of": str(imported)}) + "\n"
        + "\n".join(lines[1:]) + "\n"
    )  # fmt: skip
    resumed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert resumed.exit_code == 0, resumed.stderr
    assert f"resuming {kept} from journal {journal}" in resumed.stderr
    assert extensions() == UNDO_BEFORE


def test_undoing_a_stopped_import_takes_back_what_it_wrote(
    run_cli: RunCli, undo_scene: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = undo_scene
    journal = tmp_path / "import.jsonl"
    stopped = run_with_failing_write(
        run_cli, monkeypatch, 2, KeyboardInterrupt(),  # after the 3-cycle's parking write
        "--sandbox", "import", str(path), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert stopped.exit_code == 5
    assert extensions() != UNDO_BEFORE
    result = run_cli("--sandbox", "import", "--undo", str(journal), "--yes")
    assert result.exit_code == 0, result.stderr
    assert extensions() == UNDO_BEFORE


def test_undoing_the_undo_restores_the_import_and_undoing_twice_writes_nothing(
    run_cli: RunCli, imported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    undo = tmp_path / "undo.jsonl"
    assert (
        run_cli(
            "--sandbox", "import", "--undo", str(imported), "--yes", "--journal", str(undo)
        ).exit_code
        == 0
    )
    assert extensions() == UNDO_BEFORE
    redo = run_cli("--sandbox", "-o", "json", "import", "--undo", str(undo), "--yes")
    assert redo.exit_code == 0, redo.stderr
    assert extensions() == UNDO_AFTER
    assert journal_header(Path(json.loads(redo.stdout)["journal"]))["undo_of"] == str(undo)

    fail_on_write(monkeypatch, 1, AssertionError("no write expected"))
    again = run_cli("--sandbox", "-o", "json", "import", "--undo", str(undo), "--yes")
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["summary"]["unchanged"] == 6


def test_a_torn_journal_tail_is_tolerated(run_cli: RunCli, imported: Path) -> None:
    with imported.open("a") as journal:
        journal.write('{"type":"start","step":99,"user_')
    result = run_cli("--sandbox", "import", "--undo", str(imported), "--yes")
    assert result.exit_code == 0, result.stderr
    assert extensions() == UNDO_BEFORE


def test_a_journal_without_writes_has_nothing_to_undo(
    run_cli: RunCli, imported: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text(imported.read_text().splitlines()[0] + "\n")
    result = run_cli("--sandbox", "import", "--undo", str(empty), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "nothing to undo" in result.stderr
    assert extensions() == UNDO_AFTER


@pytest.mark.parametrize(
    "args",
    [
        ["users.csv", "--undo", "j.jsonl"],
        ["--resume", "j.jsonl", "--undo", "j.jsonl"],
        ["--undo", "j.jsonl", "--journal", "j.jsonl"],
        ["--undo", "/nonexistent/j.jsonl"],
    ],
)
def test_undo_usage_errors(run_cli: RunCli, imported: Path, args: list[str]) -> None:
    result = run_cli("--sandbox", "import", *args)
    assert result.exit_code == 2
    assert extensions() == UNDO_AFTER


def test_a_journal_of_another_account_is_refused(
    run_cli: RunCli, imported: Path, tmp_path: Path
) -> None:
    doc = journal_header(imported)
    doc["account"] = {**doc["account"], "host": "api.example.com"}
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps(doc) + "\n" + "\n".join(imported.read_text().splitlines()[1:]))
    result = run_cli("--sandbox", "import", "--undo", str(other), "--yes")
    assert result.exit_code == 1
    assert "belongs to another account" in result.stderr
    assert extensions() == UNDO_AFTER


def test_a_swap_back_with_no_free_extension_is_a_blocked_plan(
    run_cli: RunCli, write_state: WriteState, tmp_path: Path
) -> None:
    # 999 users on 000-998: the swap parks on 999, the only free extension; then a newcomer
    # takes 999, and swapping back has nowhere to park.
    write_state([api_user(n + 1, f"{n:03d}") for n in range(999)] + [api_user(1000, None)])
    path = tmp_path / "swap.csv"
    path.write_text("user_id,extension\n1,001\n2,000\n")
    journal = tmp_path / "import.jsonl"
    assert (
        run_cli("--sandbox", "import", str(path), "--yes", "--journal", str(journal)).exit_code == 0
    )
    assert run_cli("--sandbox", "assign", "1000", "999").exit_code == 0
    result = run_cli("--sandbox", "-o", "json", "import", "--undo", str(journal), "--yes")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["steps"] == []
    (blocked,) = [f for f in doc["findings"] if f["code"] == "plan-blocked"]
    assert "none is free" in blocked["message"]
    assert {u: e for u, e in extensions().items() if u in (1, 2)} == {1: "001", 2: "000"}


# -- the demo account: 481010 holds "42", a 042 that lost its zero -------------------------

JAMES, AMELIA, BRUNO, CHLOE = 481010, 481001, 481002, 481003


def demo_holds(*users: int) -> tuple[str | None, ...]:
    """What the demo account's ``users`` hold now (one of its users has no extension key)."""
    state = read_state(Path(os.environ["AIRCALL_EXT_SANDBOX_STATE"])).document()
    held = {user["id"]: user.get("extension") for user in state["users"]}
    return tuple(held[user] for user in users)


def test_an_import_that_repaired_a_damaged_value_is_undone_all_but_that_value(
    run_cli: RunCli, tmp_path: Path
) -> None:
    path = tmp_path / "repair.csv"
    path.write_text(f"user_id,extension\n{JAMES},042\n{AMELIA},150\n")
    journal = tmp_path / "import.jsonl"
    result = run_cli("--sandbox", "import", str(path), "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    assert demo_holds(JAMES, AMELIA) == ("042", "150")

    undo = run_cli("--sandbox", "import", "--undo", str(journal), "--yes")
    assert undo.exit_code == 1, undo.stderr
    assert (
        f"line 2: skipped: user {JAMES} had the damaged value '42' before the import, which "
        "repaired it: a damaged value is not restored"
    ) in undo.stderr
    assert ".undo.csv:" not in undo.stderr  # never an error in a file nobody wrote
    assert demo_holds(JAMES, AMELIA) == ("042", "101")


def test_an_import_stopped_on_parking_is_undone_all_but_the_repaired_value(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM after the swap's parking write: Amelia sits on the parking extension."""
    path = tmp_path / "repair.csv"
    path.write_text(f"user_id,extension\n{JAMES},042\n{AMELIA},102\n{BRUNO},101\n{CHLOE},150\n")
    journal = tmp_path / "import.jsonl"
    stopped = run_with_failing_write(
        run_cli, monkeypatch, 4, Interrupted("SIGTERM"),
        "--sandbox", "import", str(path), "--yes", "--journal", str(journal),
    )  # fmt: skip
    assert stopped.exit_code == 5, stopped.stderr
    (parked,) = demo_holds(AMELIA)
    assert parked not in ("101", "102")
    assert demo_holds(JAMES, CHLOE) == ("042", "150")

    undo = run_cli("--sandbox", "-o", "json", "import", "--undo", str(journal), "--yes")
    assert undo.exit_code == 1, undo.stderr
    assert json.loads(undo.stdout)["summary"] == {
        "applied": 2, "unchanged": 0, "skipped": 1, "failed": 0, "not_run": 0,
    }  # fmt: skip
    assert "a damaged value is not restored" in undo.stderr
    assert demo_holds(JAMES, AMELIA, BRUNO, CHLOE) == ("042", "101", "102", "103")


def test_github_annotations_of_an_undo_point_at_no_private_file(
    run_cli: RunCli, imported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The undo's desired state is a private file beside its journal, which does not exist
    in the repository, and its lines are not the imported CSV's: no `file=` at all."""
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert run_cli("--sandbox", "assign", "6", "309").exit_code == 0  # one row is skipped
    result = run_cli("--sandbox", "-o", "github", "import", "--undo", str(imported), "--dry-run")
    assert result.exit_code == 1, result.stderr
    (warning,) = [line for line in result.stdout.splitlines() if line.startswith("::warning")]
    assert warning.startswith("::warning title=undo-skipped::line 2: skipped: user 6 has 309")
    assert "file=" not in result.stdout and ".undo.csv" not in result.stdout
    heading = summary.read_text().splitlines()[0]
    assert heading.startswith("### aircall-ext import --undo ") and "import.jsonl" in heading
    assert ".undo.csv" not in summary.read_text()

"""``jobs``: the journals of the import directory, their status and the next command."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest

from aircall_ext.core.identity import AccountIdentity, fingerprint
from aircall_ext.errors import ApiError, Remedy
from aircall_ext.services.jobs import list_jobs
from aircall_ext.services.journal import journals_dir
from tests.conftest import RunCli, WriteState
from tests.scenes import (
    IMPORT_CSV,
    UNDO_AFTER,
    UNDO_BEFORE,
    UNDO_CSV,
    extensions,
    fail_on_write,
    users_holding,
)


@pytest.fixture
def csv_file(import_scene: None, csv_file: Path) -> Path:
    """The import scene's file, with its account installed."""
    return csv_file


def jobs(run_cli: RunCli, *args: str) -> list[dict[str, Any]]:
    result = run_cli("-o", "json", "jobs", *args)
    assert result.exit_code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)["jobs"]
    return found


def sandbox_command(*words: str) -> str:
    return shlex.join(["aircall-ext", "--sandbox", *words])


def test_no_journals_yet(run_cli: RunCli) -> None:
    result = run_cli("jobs")
    assert result.exit_code == 0
    assert f"no journals in {journals_dir()}" in result.stdout + result.stderr
    assert jobs(run_cli) == []


def test_done_stopped_failed_and_unreadable_newest_first_with_their_commands(
    run_cli: RunCli, csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli("--sandbox", "import", str(csv_file), "--yes").exit_code == 0  # done
    csv_file.write_text(IMPORT_CSV.replace("105", "155").replace("101", "109"))
    with monkeypatch.context() as patch:  # stopped by Ctrl-C after one write
        fail_on_write(patch, 2, KeyboardInterrupt())
        assert run_cli("--sandbox", "import", str(csv_file), "--yes").exit_code == 5
    with monkeypatch.context() as patch:  # the API failed on the resume's first write
        fail_on_write(patch, 1, ApiError("PUT failed: HTTP 503: down", status=503))
        stopped = sorted(journals_dir().glob("*.jsonl"))
        newest = max(stopped, key=lambda p: json.loads(p.read_text().splitlines()[0])["created"])
        assert run_cli("--sandbox", "import", "--resume", str(newest)).exit_code == 5
    damaged = journals_dir() / "damaged.jsonl"
    damaged.write_text('{"type": "header", "version": 1}\nnot json\n')
    empty = journals_dir() / "empty.jsonl"
    empty.write_bytes(b'{"type": "hea')  # torn before its first line ended

    listed = jobs(run_cli)  # newest first; an unreadable journal dates from its last change
    assert [job["status"] for job in listed] == ["unreadable", "unreadable", "failed", "done"]
    failed, done = listed[2], listed[3]
    assert failed["started"] >= done["started"]  # to the second; the order is exact
    assert done["file"] == failed["file"] == str(csv_file)
    assert done["account"] == failed["account"] == "sandbox"
    assert done["done"] == done["total"] == 6
    assert done["resume"] is None
    assert done["undo"] == sandbox_command("import", "--undo", done["journal"])
    assert failed["resume"] == sandbox_command("import", "--resume", failed["journal"])
    assert (failed["done"], failed["total"]) == (1, 2)  # 4 → 155 done; 2 → 109 failed
    unreadable = {job["journal"]: job for job in listed[:2]}
    assert set(unreadable) == {str(damaged), str(empty)}
    for job in unreadable.values():
        assert job["status"] == "unreadable" and job["resume"] is None and job["undo"] is None
    table = run_cli("jobs")
    assert table.exit_code == 0
    assert "is damaged at line 2" in table.stderr  # said, not fatal
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["started", "(UTC)", "file"]
    assert "unreadable" in lines[2] and "(journal " in lines[2]
    assert "failed" in lines[4] and failed["resume"] in lines[4]
    assert "done" in lines[5] and done["undo"] in lines[5]


def test_a_job_stopped_part_way_says_how_far_it_got(
    run_cli: RunCli, csv_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    journal = tmp_path / "dir" / "job.jsonl"
    fail_on_write(monkeypatch, 3, KeyboardInterrupt())
    result = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
    assert result.exit_code == 5
    [job] = jobs(run_cli, "--dir", str(journal.parent))
    assert job["status"] == "stopped at 2 of 6"
    assert job["resume"] == sandbox_command("import", "--resume", str(journal))
    assert job["undo"] == sandbox_command("import", "--undo", str(journal))


def test_a_job_killed_mid_write_with_a_torn_last_line_is_still_resumable(
    run_cli: RunCli, csv_file: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    journal = tmp_path / "job.jsonl"
    fail_on_write(monkeypatch, 2, KeyboardInterrupt())
    assert (
        run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal)).exit_code
        == 5
    )
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]) + lines[-1][:10])  # the kill cut the end record
    [job] = jobs(run_cli, "--dir", str(tmp_path))
    assert job["status"] == "stopped at 1 of 6"


def write_journal(path: Path, header: dict[str, Any], *records: dict[str, Any]) -> None:
    lines = [{"type": "header", "version": 1, **header}, *records]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


HEADER = {
    "file": "/data/users.csv",
    "file_sha256": "0" * 64,
    "account": {"host": "api.aircall.io", "api_id_sha256": fingerprint("my-id")},
    "steps": [{"user_id": 1, "from": "101", "to": "102", "parking": False}],
}
DONE = [
    {"type": "start", "step": 1, "user_id": 1, "from": "101", "to": "102"},
    {"type": "done", "step": 1, "user_id": 1, "from": "101", "to": "102"},
    {"type": "end", "status": "complete"},
]


def test_an_import_undone_by_a_finished_undo_is_undone(tmp_path: Path) -> None:
    original = tmp_path / "a.jsonl"
    write_journal(original, {**HEADER, "created": "2026-12-01T10:00:00+00:00"}, *DONE)
    undo = tmp_path / "b.jsonl"
    reverse = {"user_id": 1, "from": "102", "to": "101", "parking": False}
    undo_header = {
        **HEADER,
        "created": "2026-12-01T11:00:00+00:00",
        "steps": [reverse],
        "undo_of": str(original),
    }
    write_journal(undo, {**undo_header, "created": "2026-12-01T11:00:00+00:00"})  # stopped
    assert [j.status for j in list_jobs(tmp_path)] == ["stopped at 0 of 1", "done"]

    back = [{"type": "start", "step": 1, **reverse}, {"type": "done", "step": 1, **reverse}]
    write_journal(undo, undo_header, *back, {"type": "end", "status": "complete"})  # finished
    newest, oldest = list_jobs(tmp_path)
    assert (newest.journal, newest.status, newest.undo_of) == (undo, "done", str(original))
    assert (oldest.journal, oldest.status) == (original, "undone")
    assert oldest.resume is None and oldest.undo is None
    assert newest.undo == Remedy("import", "--undo", str(undo))


def test_the_account_shows_a_known_api_id_and_the_host(
    run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_journal(tmp_path / "a.jsonl", {**HEADER, "created": "2026-12-01T10:00:00+00:00"})
    [job] = jobs(run_cli, "--dir", str(tmp_path))
    assert job["account"] == f"sha256:{fingerprint('my-id')}@api.aircall.io"
    assert job["started"] == "2026-12-01T10:00:00Z"
    assert job["resume"] == shlex.join(["aircall-ext", "import", "--resume", job["journal"]])
    monkeypatch.setenv("AIRCALL_API_ID", "my-id")
    [job] = jobs(run_cli, "--dir", str(tmp_path))
    assert job["account"] == "my-id@api.aircall.io"
    csv_out = run_cli("-o", "csv", "jobs", "--dir", str(tmp_path)).stdout.splitlines()
    assert csv_out[0] == (
        "journal,started,file,account,status,done,total,resume,undo,moved,moved_back"
    )


def test_the_commands_keep_the_runs_request_budget(run_cli: RunCli, tmp_path: Path) -> None:
    """A resume pasted from a run at --rate-limit 30/60 must not go at the default budget,
    which would take the half of the account's budget left to other integrations."""
    write_journal(tmp_path / "a.jsonl", {**HEADER, "created": "2026-12-01T10:00:00+00:00"})
    result = run_cli("--rate-limit", "30/60", "-o", "json", "jobs", "--dir", str(tmp_path))
    [job] = json.loads(result.stdout)["jobs"]
    assert job["resume"] == shlex.join(
        ["aircall-ext", "--rate-limit", "30/60", "import", "--resume", job["journal"]]
    )


def test_dir_must_be_a_directory(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("jobs", "--dir", str(tmp_path / "nope"))
    assert result.exit_code == 2


def test_account_labels_name_known_ids_and_fingerprints_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aircall_ext.config import Profile, save_profile
    from aircall_ext.services.identity import known_api_ids

    identity = AccountIdentity("api.aircall.io", fingerprint("ops-id"))
    assert identity.label(known_api_ids()) == f"sha256:{fingerprint('ops-id')}@api.aircall.io"
    save_profile(Profile("ops", api_id="ops-id"))
    assert identity.label(known_api_ids()) == "ops-id@api.aircall.io"
    assert AccountIdentity(None, None, sandbox=True).label({}) == "sandbox"


def test_a_replan_replaces_what_is_left_of_the_total(tmp_path: Path) -> None:
    step = {"user_id": 1, "from": "101", "to": "102", "parking": False}
    done = {"type": "done", "step": 1, **step}
    write_journal(
        tmp_path / "a.jsonl",
        {**HEADER, "created": "2026-12-01T10:00:00+00:00", "steps": [step] * 3},
        done,
        {"type": "replan", "reason": "422", "steps": [step] * 4},
        done,
        done,
        {"type": "end", "status": "stopped", "reason": "interrupted"},
    )
    [job] = list_jobs(tmp_path, {})
    assert (job.status, job.done, job.total) == ("stopped at 3 of 5", 3, 5)


def test_an_undo_that_cannot_restore_a_user_leaves_the_import_partly_undone(
    run_cli: RunCli, csv_file: Path
) -> None:
    assert run_cli("--sandbox", "import", str(csv_file), "--yes").exit_code == 0
    [imported] = jobs(run_cli)
    undo = run_cli("--sandbox", "import", "--undo", imported["journal"], "--yes")
    assert undo.exit_code == 1, undo.stderr  # user 5 had no extension before: skipped
    undoing, partly = jobs(run_cli)
    assert partly["journal"] == imported["journal"]
    assert partly["status"] == "partly undone (4 of 5)"
    assert (partly["moved"], partly["moved_back"]) == (5, 4)
    # What is left cannot be undone (an extension cannot be removed): no command.
    assert partly["resume"] is None and partly["undo"] is None
    assert undoing["undo_of"] == imported["journal"] and undoing["status"] == "done"
    assert undoing["undo"] == sandbox_command("import", "--undo", undoing["journal"])
    table = run_cli("jobs").stdout
    assert f"undo of {Path(imported['journal']).name}" in table
    assert "partly undone (4 of 5)  -" in table


@pytest.fixture
def imported(run_cli: RunCli, write_state: WriteState, tmp_path: Path) -> Path:
    """The undo scene imported (six users moved); its journal."""
    write_state(users_holding(UNDO_BEFORE))
    path = tmp_path / "users.csv"
    path.write_text(UNDO_CSV)
    journal = tmp_path / "journals" / "import.jsonl"
    result = run_cli("--sandbox", "import", str(path), "--yes", "--journal", str(journal))
    assert result.exit_code == 0, result.stderr
    return journal


def job_of(run_cli: RunCli, journal: Path) -> dict[str, Any]:
    [job] = [j for j in jobs(run_cli, "--dir", str(journal.parent)) if j["journal"] == str(journal)]
    return job


def undo(run_cli: RunCli, journal: Path, name: str) -> tuple[int, Path]:
    undo_journal = journal.parent / name
    result = run_cli(
        "--sandbox", "import", "--undo", str(journal), "--yes", "--journal", str(undo_journal)
    )
    return result.exit_code, undo_journal


def test_an_undo_that_skipped_a_user_shows_the_undo_again(run_cli: RunCli, imported: Path) -> None:
    assert run_cli("--sandbox", "assign", "6", "309").exit_code == 0  # someone, since
    assert undo(run_cli, imported, "undo.jsonl")[0] == 1  # 6 skipped, the rest goes back
    job = job_of(run_cli, imported)
    assert job["status"] == "partly undone (5 of 6)"
    assert (job["moved"], job["moved_back"]) == (6, 5)
    again = sandbox_command("import", "--undo", str(imported))
    assert job["resume"] is None and job["undo"] == again
    table = run_cli("jobs", "--dir", str(imported.parent)).stdout
    assert "partly undone (5 of 6)" in table and again in table

    assert run_cli("--sandbox", "assign", "6", "303").exit_code == 0  # put back as it was
    assert (
        run_cli(
            *shlex.split(again)[1:], "--yes", "--journal", str(imported.parent / "u2.jsonl")
        ).exit_code
        == 0
    )
    assert extensions() == UNDO_BEFORE
    job = job_of(run_cli, imported)
    assert (job["status"], job["moved_back"], job["undo"]) == ("undone", 6, None)


def test_a_stopped_undo_is_resumed_from_the_partly_undone_import(
    run_cli: RunCli, imported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        fail_on_write(patch, 4, KeyboardInterrupt())
        code, stopped = undo(run_cli, imported, "undo.jsonl")
    assert code == 5
    job = job_of(run_cli, imported)
    assert job["status"].startswith("partly undone (")
    assert 0 < job["moved_back"] < job["moved"] == 6
    resume = sandbox_command("import", "--resume", str(stopped))
    assert job["resume"] is None and job["undo"] == resume
    assert job_of(run_cli, stopped)["resume"] == resume

    assert run_cli(*shlex.split(resume)[1:]).exit_code == 0
    assert job_of(run_cli, imported)["status"] == "undone"


def test_an_undo_taken_back_leaves_the_import_done_again(run_cli: RunCli, imported: Path) -> None:
    code, undone = undo(run_cli, imported, "undo.jsonl")
    assert code == 0
    assert job_of(run_cli, imported)["status"] == "undone"
    code, redone = undo(run_cli, undone, "redo.jsonl")
    assert code == 0
    assert extensions() == UNDO_AFTER
    job = job_of(run_cli, imported)
    assert (job["status"], job["moved_back"]) == ("done", 0)
    assert job["undo"] == sandbox_command("import", "--undo", str(imported))
    assert job_of(run_cli, undone)["status"] == "undone"
    assert job_of(run_cli, redone)["status"] == "done"


def test_every_warning_names_the_journal_and_says_what_is_wrong(
    run_cli: RunCli, tmp_path: Path
) -> None:
    bad_time = tmp_path / "a.jsonl"
    write_journal(bad_time, {**HEADER, "created": "12345"})
    bad_write = tmp_path / "b.jsonl"
    start = {"type": "start", "step": 1, "user_id": "abc", "from": "101", "to": "102"}
    write_journal(bad_write, {**HEADER, "created": "2026-12-01T10:00:00+00:00"}, start)
    result = run_cli("jobs", "--dir", str(tmp_path))
    assert result.exit_code == 0
    assert sorted(result.stderr.splitlines()) == [
        f"warning: journal {bad_time} is damaged at line 1: header: field created: expected a "
        'date and time (ISO 8601), got "12345"',
        f"warning: journal {bad_write} is damaged at line 2: start record: field user_id: "
        'expected an integer, got "abc"',
    ]
    assert [job["status"] for job in jobs(run_cli, "--dir", str(tmp_path))] == ["unreadable"] * 2


@pytest.mark.parametrize("output", ["table", "json"])
def test_text_no_output_can_write_is_damage(run_cli: RunCli, tmp_path: Path, output: str) -> None:
    """A lone surrogate (the JSON escape \\ud800) in the account's host, which `jobs` shows."""
    path = tmp_path / "a.jsonl"
    account = {**HEADER["account"], "host": "api\ud800.example"}
    write_journal(path, {**HEADER, "account": account, "created": "2026-12-01T10:00:00"}, *DONE)
    result = run_cli("-o", output, "jobs", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"warning: journal {path} is damaged at line 1: header: field account.host: expected "
        'text or null, got "api\\ud800.example"\n'
    )
    assert "unreadable" in result.stdout


@pytest.mark.parametrize("created", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_start_time_with_no_utc_time_is_damage(
    run_cli: RunCli, tmp_path: Path, created: str
) -> None:
    """Valid ISO 8601, but a year before 1 or after 9999 in UTC, where `jobs` shows it."""
    path = tmp_path / "a.jsonl"
    write_journal(path, {**HEADER, "created": created}, *DONE)
    result = run_cli("jobs", "--dir", str(tmp_path))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"warning: journal {path} is damaged at line 1: header: field created: expected a "
        f'date and time (ISO 8601), got "{created}"\n'
    )
    assert [job["status"] for job in jobs(run_cli, "--dir", str(tmp_path))] == ["unreadable"]

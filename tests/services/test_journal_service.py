"""The import journal: durable JSON lines, tolerant of a torn tail, strict elsewhere."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aircall_ext.core.planner import Step
from aircall_ext.errors import UsageError
from aircall_ext.services import journal as journal_module
from aircall_ext.services.journal import (
    Header,
    JournalWriter,
    account_identity,
    default_journal_path,
    input_copy_path,
    keep_input_copy,
    read_journal,
)

NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
STEPS = (Step(1, "101", "100", parking=True), Step(2, "102", "101"), Step(1, "100", "102"))


def clock() -> datetime:
    return NOW


def header() -> Header:
    identity = account_identity("https://api.example.com/v1", "my-api-id", sandbox=False)
    return Header("/data/users.csv", "ab" * 32, identity, NOW.isoformat(), STEPS)


def write_some(path: Path) -> JournalWriter:
    journal = JournalWriter.create(path, header(), clock=clock)
    journal.start(1, STEPS[0])
    journal.done(1, STEPS[0])
    journal.start(2, STEPS[1])
    journal.failed(2, STEPS[1], "the API rejected PUT /users/2: taken")
    return journal


def test_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    contents = read_journal(path)
    assert contents.header.file == "/data/users.csv"
    assert contents.header.steps == STEPS
    assert [r["type"] for r in contents.records] == ["start", "done", "start", "failed"]
    assert contents.records[3]["error"].endswith("taken")
    assert contents.done_steps() == [STEPS[0]]
    assert not contents.torn
    assert contents.records[0]["at"] == NOW.isoformat()


def test_created_private_in_a_private_directory(tmp_path: Path) -> None:
    path = tmp_path / "journals" / "j.jsonl"
    write_some(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_never_overwrites_an_existing_journal(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    before = path.read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        JournalWriter.create(path, header(), clock=clock)
    assert path.read_bytes() == before


def test_identity_names_the_host_but_not_the_api_id() -> None:
    identity = account_identity("http://127.0.0.1:8123/v1", "my-api-id", sandbox=False)
    assert identity["host"] == "127.0.0.1:8123"
    assert "my-api-id" not in json.dumps(identity)
    other = account_identity("http://127.0.0.1:8123/v1", "other-id", sandbox=False)
    assert other["api_id_sha256"] != identity["api_id_sha256"]


def test_a_torn_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    with path.open("ab") as handle:
        handle.write(b'{"type":"done","step":3,"user_')  # killed mid-write
    contents = read_journal(path)
    assert contents.torn
    assert len(contents.records) == 4
    writer = JournalWriter.reopen(contents, clock=clock)
    writer.record("resume", steps=[])
    writer.close()
    again = read_journal(path)
    assert not again.torn
    assert [r["type"] for r in again.records][-2:] == ["failed", "resume"]
    assert again.runs() == 2


def test_a_complete_record_missing_only_its_newline_counts_as_torn(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    with path.open("ab") as handle:
        handle.write(b'{"type":"end","status":"complete"}')
    contents = read_journal(path)
    assert contents.torn
    assert not contents.finished()


def test_damage_in_the_middle_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"this is not json"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(UsageError, match="damaged at line 3"):
        read_journal(path)


def test_empty_journal_says_nothing_was_written(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    path.write_bytes(b'{"type":"hea')
    with pytest.raises(UsageError, match="no header"):
        read_journal(path)


def test_a_csv_is_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text('{"type": "done"}\n')
    with pytest.raises(UsageError, match="not an aircall-ext import journal"):
        read_journal(path)


def test_missing_journal_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read journal"):
        read_journal(tmp_path / "nope.jsonl")


def test_default_path_is_under_the_user_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "_random_suffix", lambda: "c0ffee")
    path = default_journal_path("some dir/My users (v2).csv", NOW)
    state = Path(tmp_path / "home" / ".local" / "state")  # XDG_STATE_HOME of the fixture
    name = "20260304T050607Z-My-users-v2-c0ffee.jsonl"
    assert path == state / "aircall-ext" / "journals" / name
    assert default_journal_path("-", NOW).name == "20260304T050607Z-stdin-c0ffee.jsonl"


def test_default_paths_of_one_file_in_one_second_differ() -> None:
    """Two imports of same-named files started in the same second must not share a journal."""
    names = {default_journal_path("a/users.csv", NOW) for _ in range(20)}
    assert len(names) == 20
    assert all(p.name.startswith("20260304T050607Z-users-") for p in names)


def test_journal_and_input_copy_are_private_even_with_umask_0(tmp_path: Path) -> None:
    import os

    previous = os.umask(0)
    try:
        journal = JournalWriter.create(tmp_path / "new" / "j.jsonl", header(), clock=clock)
        journal.close()
        keep_input_copy(input_copy_path(journal.path), b"user_id,extension\n1,101\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700
    copy = tmp_path / "new" / "j.input.csv"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert copy.read_bytes() == b"user_id,extension\n1,101\n"
    with pytest.raises(UsageError, match="already exists"):
        keep_input_copy(copy, b"other")
    assert copy.read_bytes() == b"user_id,extension\n1,101\n"

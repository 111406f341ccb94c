"""The import journal: durable JSON lines, tolerant of a torn tail, strict elsewhere."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.planner import Step
from aircall_ext.core.undo import Move, Wanted
from aircall_ext.errors import UsageError
from aircall_ext.services import journal as journal_module
from aircall_ext.services.identity import account_identity
from aircall_ext.services.jobs import list_jobs
from aircall_ext.services.journal import (
    JournalContents,
    JournalInUse,
    JournalWriteError,
    JournalWriter,
    default_journal_path,
    input_copy_path,
    keep_input_copy,
    read_journal,
)
from aircall_ext.services.journalrecords import (
    DoneRecord,
    EndRecord,
    FailedRecord,
    Header,
    InterruptedRecord,
    Record,
    ReplanRecord,
    ResumeRecord,
    StartRecord,
    VerifiedRecord,
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
    journal.write(StartRecord(1, STEPS[0]))
    journal.write(DoneRecord(1, STEPS[0]))
    journal.write(StartRecord(2, STEPS[1]))
    journal.write(FailedRecord(2, STEPS[1], "the API rejected PUT /users/2: taken"))
    return journal


def test_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    contents = read_journal(path)
    assert contents.header.file == "/data/users.csv"
    assert contents.header.steps == STEPS
    assert [r.kind for r in contents.records] == ["start", "done", "start", "failed"]
    assert contents.records[3] == FailedRecord(
        2, STEPS[1], "the API rejected PUT /users/2: taken", at=NOW.isoformat()
    )
    assert contents.landed() == {1: "100"}
    assert contents.records[0].at == NOW.isoformat()


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


def test_a_torn_last_line_is_ignored_and_cut_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    with path.open("ab") as handle:
        handle.write(b'{"type":"done","step":3,"user_')  # killed mid-write
    contents = read_journal(path, lock=True)
    assert len(contents.records) == 4
    writer = JournalWriter.reopen(contents, clock=clock)
    writer.write(ResumeRecord(()))
    writer.close()
    again = read_journal(path)
    assert [r.kind for r in again.records][-2:] == ["failed", "resume"]
    assert path.read_bytes().endswith(b'"steps":[]}\n')


def test_a_complete_record_missing_only_its_newline_counts_as_torn(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    with path.open("ab") as handle:
        handle.write(b'{"type":"end","status":"complete"}')
    contents = read_journal(path)
    assert len(contents.records) == 4
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


# -- every record is checked when read ----------------------------------------------------


def damage(path: Path, number: int, change: Any) -> None:
    """Rewrite record ``number`` (1-based line) of the journal at ``path`` with ``change``."""
    lines = path.read_text().splitlines()
    lines[number - 1] = json.dumps(change(json.loads(lines[number - 1])))
    path.write_text("\n".join(lines) + "\n")


def without(key: str) -> Any:
    return lambda doc: {k: v for k, v in doc.items() if k != key}


def setting(key: str, value: Any) -> Any:
    return lambda doc: {**doc, key: value}


@pytest.mark.parametrize(
    ("line", "change", "message"),
    [
        (2, without("user_id"), "line 2: start record: field user_id is missing"),
        (
            2,
            setting("user_id", "abc"),
            'line 2: start record: field user_id: expected an integer, got "abc"',
        ),
        (
            3,
            setting("step", "1"),
            'line 3: done record: field step: expected a step number (an integer from 1), got "1"',
        ),
        (
            3,
            setting("to", 100),
            "line 3: done record: field to: expected a three-digit extension as text, got 100",
        ),
        (
            4,
            setting("from", ["102"]),
            'line 4: start record: field from: expected text or null, got ["102"]',
        ),
        (5, setting("error", 42), "line 5: failed record: field error: expected text, got 42"),
        (5, setting("type", "undone"), 'line 5: unknown record type "undone"'),
        (5, setting("at", "12345"), "line 5: failed record: field at: expected a date and time"),
        (
            1,
            setting("steps", [{"user_id": 1, "to": "100"}]),
            "line 1: header: field steps[0].from is missing",
        ),
        (
            1,
            setting("created", "yesterday"),
            "line 1: header: field created: expected a date and time",
        ),
        (
            1,
            setting("account", "api.example.com"),
            'line 1: header: field account: expected an object, got "api.example.com"',
        ),
        (1, without("file_sha256"), "line 1: header: field file_sha256 is missing"),
    ],
)
def test_a_hand_damaged_record_is_refused_naming_its_line_and_field(
    tmp_path: Path, line: int, change: Any, message: str
) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    damage(path, line, change)
    with pytest.raises(UsageError) as caught:
        read_journal(path)
    assert caught.value.message.startswith(f"journal {path} is damaged at ")
    assert message in caught.value.message
    assert caught.value.exit_code == 2


def test_every_record_kind_the_writer_writes_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = write_some(path)
    written: list[Record] = [
        InterruptedRecord(2, STEPS[1], True, "SIGTERM"),
        ReplanRecord(STEPS, "422"),
        ResumeRecord(()),
        VerifiedRecord(False, ("user 2 has 102, expected 101",)),
        EndRecord("stopped", "SIGTERM", {"applied": 1}),
    ]
    for record in written:
        journal.write(record)
    journal.close()
    at = NOW.isoformat()
    assert list(read_journal(path).records[-5:]) == [
        dataclasses.replace(record, at=at) for record in written
    ]


def test_deep_nesting_is_damage_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    with path.open("a") as handle:
        handle.write("[" * 100_000 + "\n")
    with pytest.raises(UsageError, match="damaged at line 6: not a journal record"):
        read_journal(path)


# What a hand (or a bad tool) does to a line of JSON: drop a key, change a value's type, or
# the line itself.
# Text valid as JSON that no file or clock can take: a NUL, a lone surrogate, a time with
# no UTC time.
unusable = st.sampled_from(["a\x00b", "a\ud800b", "0001-01-01T00:00:00+01:00"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.just("101") | unusable,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=4,
)


def objects_in(doc: Any) -> list[dict[str, Any]]:
    """Every JSON object in ``doc``, itself included (the steps of a header, its account)."""
    if isinstance(doc, dict):
        return [doc, *(inner for value in doc.values() for inner in objects_in(value))]
    if isinstance(doc, list):
        return [inner for value in doc for inner in objects_in(value)]
    return []


def parsed(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


@st.composite
def mutated_lines(draw: st.DrawFn, lines: list[str]) -> list[str]:
    lines = list(lines)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        doc = parsed(lines[index])
        objects = [o for o in objects_in(doc) if o]
        how = draw(st.sampled_from(["drop", "set", "delete", "copy", "cut", "text"]))
        if how in ("drop", "set") and objects:
            target = draw(st.sampled_from(objects))
            key = draw(st.sampled_from(sorted(target)))
            if how == "drop":
                del target[key]
            else:
                target[key] = draw(json_values)
            lines[index] = json.dumps(doc)
        elif how == "delete" and len(lines) > 1:
            del lines[index]
        elif how == "copy":
            lines.insert(draw(st.integers(0, len(lines))), lines[index])
        elif how == "cut":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        else:
            lines[index] = draw(st.text(max_size=20))
    return lines


VALID_LINES: list[str] = []


def valid_lines() -> list[str]:
    """A journal's lines with every kind of record (written once, by the writer)."""
    if not VALID_LINES:
        import tempfile

        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "j.jsonl"
            journal = write_some(path)
            journal.write(InterruptedRecord(2, STEPS[1], False, "x"))
            journal.write(ReplanRecord(STEPS, "422"))
            journal.write(ResumeRecord((STEPS[2],)))
            journal.write(StartRecord(3, STEPS[2]))
            journal.write(DoneRecord(3, STEPS[2]))
            journal.write(VerifiedRecord(True, ()))
            journal.write(EndRecord("complete", None, {"applied": 2}))
            journal.close()
            VALID_LINES.extend(path.read_text().splitlines())
    return VALID_LINES


@given(st.data())
@settings(max_examples=300)
def test_property_a_mutated_journal_reads_cleanly_or_is_a_usage_error(
    data: st.DataObject,
) -> None:
    import tempfile

    lines = data.draw(mutated_lines(valid_lines()))
    torn = data.draw(st.booleans())
    text = "\n".join(lines) + ("" if torn else "\n")
    account = Account.of([User(id=1, extension="102"), User(id=2, extension="101")])
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "j.jsonl"
        path.write_text(text)
        listed = list_jobs(Path(directory), {})  # never stops on a journal, whatever it holds
        assert len(listed) == 1
        listed[0].to_json(str)
        try:
            contents = read_journal(path)
        except UsageError:
            assert listed[0].status == "unreadable"
            return
    # Whatever was read back is usable by every reader of a journal: resume, undo, jobs.
    contents.landed(account)
    contents.moves(account)
    contents.moves()
    contents.progress()
    contents.status()
    contents.whole()
    contents.writes_started()


# -- the lock: one run per journal ------------------------------------------------------


def test_a_journal_being_written_is_locked_against_a_second_run(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    writer = write_some(path)
    with pytest.raises(JournalInUse, match=f"journal {path} is in use by another run") as caught:
        read_journal(path, lock=True)
    assert caught.value.exit_code == 1
    assert read_journal(path).records  # reading alone (jobs) is never refused
    writer.close()
    read_journal(path, lock=True).lock.release()  # type: ignore[union-attr]


def test_a_resumed_journal_stays_locked_until_its_writer_closes(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    first = read_journal(path, lock=True)
    with pytest.raises(JournalInUse):
        read_journal(path, lock=True)
    writer = JournalWriter.reopen(first, clock=clock)
    writer.write(ResumeRecord(()))
    with pytest.raises(JournalInUse):
        read_journal(path, lock=True)
    before = path.read_bytes()
    writer.close()
    second = read_journal(path, lock=True)
    assert path.read_bytes() == before  # the refused runs neither cut nor appended
    assert second.lock is not None
    second.lock.release()
    second.lock.release()  # twice is harmless


def test_appending_needs_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    write_some(path).close()
    with pytest.raises(ValueError, match="under its lock"):
        JournalWriter.reopen(read_journal(path), clock=clock)


# -- a record that cannot be written ----------------------------------------------------


def disk_full(monkeypatch: pytest.MonkeyPatch, *, partial: bool) -> None:
    """From the next journal record on, the disk is full: writes fail with ENOSPC (after
    half of that record with ``partial``, as a write that runs out of room part-way)."""
    real = os.write
    full = False

    def write(fd: int, data: bytes) -> int:
        nonlocal full
        if not full and not bytes(data).startswith(b'{"type":'):
            return real(fd, data)
        if partial and not full and len(data) > 1:
            full = True
            return real(fd, bytes(data)[: len(data) // 2])
        full = True
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("partial", [False, True])
def test_a_record_that_does_not_fit_is_cut_off_and_later_ones_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partial: bool
) -> None:
    path = tmp_path / "j.jsonl"
    journal = write_some(path)
    before = path.read_bytes()
    with monkeypatch.context() as patch:
        disk_full(patch, partial=partial)
        with pytest.raises(JournalWriteError, match="No space left on device"):
            journal.write(StartRecord(3, STEPS[2]))
    assert path.read_bytes() == before  # no half record left behind
    with pytest.raises(JournalWriteError, match="No space left on device"):
        journal.write(DoneRecord(3, STEPS[2]))  # there is room again, but the job has stopped
    journal.close()
    assert path.read_bytes() == before
    assert len(read_journal(path).records) == 4


def test_a_journal_whose_header_does_not_fit_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "j.jsonl"
    disk_full(monkeypatch, partial=True)
    with pytest.raises(JournalWriteError, match=f"cannot write journal {path}: No space left"):
        JournalWriter.create(path, header(), clock=clock)
    assert not path.exists()


# -- what the journal tells: what landed, the moves, progress, status -------------------


def contents_of(*records: Record) -> JournalContents:
    return JournalContents(Path("j.jsonl"), header(), records, 0)


def writes(steps: list[Step], *, done: int | None = None) -> list[Record]:
    """``start`` and ``done`` records for ``steps``; only the first ``done`` get their
    ``done`` (None: all)."""
    records: list[Record] = []
    for number, step in enumerate(steps, start=1):
        records.append(StartRecord(number, step))
        if done is None or number <= done:
            records.append(DoneRecord(number, step))
    return records


def holding(holdings: dict[int, str | None]) -> Account:
    return Account.of(User(id=uid, extension=ext) for uid, ext in holdings.items())


# A 3-cycle 1→102, 2→103, 3→101 broken by parking 1 on 100, as the import planner writes it.
CYCLE = [Step(1, "101", "100", True), Step(3, "103", "101"), Step(2, "102", "103"),
         Step(1, "100", "102")]  # fmt: skip


def test_the_moves_of_a_finished_cycle_skip_its_parking() -> None:
    journal = contents_of(*writes(CYCLE), EndRecord("complete"))
    assert journal.moves() == [Move(1, "101", "102"), Move(3, "103", "101"), Move(2, "102", "103")]
    assert journal.landed() == {1: "102", 3: "101", 2: "103"}
    assert (journal.progress(), journal.status()) == ((4, 3), "done")


def test_a_user_stranded_on_parking_moved_there() -> None:
    journal = contents_of(*writes(CYCLE[:2]))
    assert journal.moves() == [Move(1, "101", "100"), Move(3, "103", "101")]
    assert journal.status() == "stopped at 2 of 3"


def test_an_unconfirmed_write_landed_when_the_account_holds_its_target() -> None:
    steps = [Step(5, "201", "205"), Step(6, "202", "206")]
    journal = contents_of(*writes(steps, done=1))
    landed = holding({5: "205", 6: "206"})
    assert journal.moves(landed) == [Move(5, "201", "205"), Move(6, "202", "206")]
    assert journal.landed(landed) == {5: "205", 6: "206"}
    lost = holding({5: "205", 6: "202"})
    assert journal.moves(lost) == [Move(5, "201", "205")]
    assert journal.landed(lost) == {5: "205"}
    assert journal.moves() == [Move(5, "201", "205")]  # the journal alone: confirmed only
    assert journal.writes_started() == 2


def test_a_write_that_failed_or_was_never_started_moved_nobody() -> None:
    step = Step(5, "201", "205")
    journal = contents_of(StartRecord(1, step), FailedRecord(1, step, "422"), ResumeRecord(()))
    assert journal.moves(holding({5: "201"})) == []
    assert journal.landed(holding({5: "201"})) == {}


def test_a_run_that_ended_on_a_refused_write_or_a_failed_check_failed() -> None:
    step = Step(5, "201", "205")
    refused = contents_of(StartRecord(1, step), FailedRecord(1, step), EndRecord("stopped"))
    assert refused.status() == "failed"
    unverified = contents_of(*writes([step]), VerifiedRecord(False), EndRecord("stopped"))
    assert unverified.status() == "failed"
    resumed = contents_of(StartRecord(1, step), FailedRecord(1, step), EndRecord("stopped"),
                          ResumeRecord((step,)))  # fmt: skip
    assert resumed.status() == "stopped at 0 of 1"  # the last run has not ended


def test_whole_means_finished_without_a_skipped_failed_or_unrun_row() -> None:
    counts = {"applied": 2, "unchanged": 0, "skipped": 0, "failed": 0, "not_run": 0}
    assert contents_of(EndRecord("complete", None, counts)).whole()
    assert not contents_of(EndRecord("complete", None, {**counts, "skipped": 1})).whole()
    assert not contents_of(EndRecord("complete")).whole()  # no summary: not known
    assert not contents_of(EndRecord("stopped", "SIGTERM", counts)).whole()


def test_an_undo_header_carries_its_desired_state_and_names_no_file(tmp_path: Path) -> None:
    identity = account_identity("https://api.example.com/v1", "my-api-id", sandbox=False)
    desired = (Wanted(2, 1, "101"), Wanted(4, 3, "103"))
    undo = Header(None, None, identity, NOW.isoformat(), STEPS, undo_of="/j/a.jsonl",
                  desired=desired)  # fmt: skip
    path = tmp_path / "undo.jsonl"
    JournalWriter.create(path, undo, clock=clock).close()
    doc = json.loads(path.read_text())
    assert "file" not in doc and "file_sha256" not in doc
    assert doc["desired"] == [
        {"line": 2, "user_id": 1, "extension": "101"},
        {"line": 4, "user_id": 3, "extension": "103"},
    ]
    assert read_journal(path).header == undo
    damage(path, 1, lambda d: {**d, "desired": [{"line": 2, "user_id": 1, "extension": "7"}]})
    with pytest.raises(UsageError, match=r"line 1: header: field desired\[0\]\.extension"):
        read_journal(path)
    damage(path, 1, lambda d: {k: v for k, v in d.items() if k != "undo_of"})
    with pytest.raises(UsageError, match="line 1: header: field undo_of is missing"):
        read_journal(path)

"""The job's journal: a new one before a job's first write, or the one a resume appends to.

A new journal names its input: a CSV by path and sha256 (bytes that cannot be read at their
path again, such as standard input, a pipe or the copy a saved plan carries, are kept beside
it first, so ``--resume`` works), an undo by the journal it takes back and its desired
state, carried in the header itself.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from aircall_ext.core.identity import AccountIdentity
from aircall_ext.core.planner import Step
from aircall_ext.errors import UsageError
from aircall_ext.services.importjob.prepared import CsvInput, Input
from aircall_ext.services.journal import (
    Clock,
    JournalContents,
    JournalExists,
    JournalWriter,
    default_journal_path,
    input_copy_path,
    keep_input_copy,
)
from aircall_ext.services.journalrecords import Header, ResumeRecord
from aircall_ext.services.stopsignals import StopSignals

NAME_ATTEMPTS = 5  # fresh random default journal names tried before giving up


def create_journal(
    input: Input,
    identity: AccountIdentity,
    steps: tuple[Step, ...],
    *,
    path: Path | None,
    clock: Clock,
    fsync: bool,
) -> JournalWriter:
    """The job's new journal: at ``path``, or under a fresh default name (retried if
    another import took it)."""
    now = clock()
    where = path
    for _attempt in range(NAME_ATTEMPTS):
        where = (path or default_journal_path(input.name, now)).expanduser().absolute()
        header = _header(input, identity, steps, now, where)
        kept = Path(header.input_copy) if header.input_copy else None
        try:
            if kept is not None:
                assert isinstance(input, CsvInput)
                keep_input_copy(kept, input.source.data, what=f"a copy of {input.source.shown}")
            try:
                return JournalWriter.create(where, header, clock=clock, fsync=fsync)
            except BaseException:
                if kept is not None:
                    kept.unlink(missing_ok=True)
                raise
        except JournalExists:
            if path is not None:
                raise
    assert where is not None
    raise UsageError(
        f"cannot find a free journal name in {where.parent}", hint="give --journal PATH"
    )


def _header(
    input: Input,
    identity: AccountIdentity,
    steps: tuple[Step, ...],
    now: datetime,
    journal: Path,
) -> Header:
    created = now.isoformat()
    if not isinstance(input, CsvInput):
        return Header(
            None, None, identity, created, steps, undo_of=str(input.undone), desired=input.rows
        )
    source = input.source
    copy = input_copy_path(journal) if source.stream else None
    return Header(
        source.path,
        source.sha256,
        identity,
        created,
        steps,
        str(copy) if copy else None,
        plan=source.plan,
    )


def reopen_journal(
    journal: JournalContents,
    steps: tuple[Step, ...],
    stop: StopSignals,
    *,
    clock: Clock,
    fsync: bool,
) -> JournalWriter:
    """Append to the journal of the job a resume finishes (its lock held), starting with the
    ``resume`` record of the steps left (written whole: a stop signal meanwhile is noted)."""
    writer = JournalWriter.reopen(journal, clock=clock, fsync=fsync)
    try:
        with stop.shielded():
            writer.write(ResumeRecord(steps))
    except BaseException:
        writer.close()
        raise
    return writer

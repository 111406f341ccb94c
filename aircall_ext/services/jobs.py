"""The import jobs a journal directory holds: what each did, and how to finish or undo it.

Each ``*.jsonl`` there is one job. Its status comes from the journal alone (no request):
``done`` when its last run ended complete, ``undone`` when a finished undo journal in the
same directory names it (``undo_of`` in the undo's header), ``failed`` when its last run
ended on a refused write or a failed verification, else ``stopped at N of M`` (N writes
confirmed, M planned: the last plan of the job, counted from the writes done before it).
A journal that cannot be read is listed as ``unreadable``; it never stops the listing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aircall_ext.errors import AircallExtError
from aircall_ext.names import command_line
from aircall_ext.services.identity import account_label, known_api_ids
from aircall_ext.services.journal import JournalContents, read_journal

PLANS = ("resume", "replan")  # records that carry the job's new remaining steps


@dataclass(frozen=True)
class Job:
    journal: Path
    started: datetime | None
    file: str | None
    account: str | None
    status: str
    done: int = 0
    total: int = 0
    resume: str | None = None
    undo: str | None = None
    undo_of: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "journal": str(self.journal),
            "started": _utc(self.started) if self.started else None,
            "file": self.file,
            "account": self.account,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "resume": self.resume,
            "undo": self.undo,
            "undo_of": self.undo_of,
            "error": self.error,
        }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def list_jobs(directory: Path, names: Mapping[str, str] | None = None) -> list[Job]:
    """Every journal of ``directory``, newest first. ``names`` maps API ID fingerprints to
    the IDs (default: those this machine knows; see :func:`known_api_ids`)."""
    names = known_api_ids() if names is None else names
    try:
        paths = sorted(p for p in directory.glob("*.jsonl") if p.is_file())
    except OSError:
        paths = []
    jobs = [_read(path.absolute(), names) for path in paths]
    undone = {
        _key(Path(job.undo_of)) for job in jobs if job.undo_of is not None and job.status == "done"
    }
    jobs = [_undone(job) if _key(job.journal) in undone else job for job in jobs]
    return sorted(jobs, key=lambda job: (_when(job), str(job.journal)), reverse=True)


def _key(path: Path) -> str:
    return os.path.realpath(path)


def _when(job: Job) -> float:
    if job.started is not None:
        return job.started.timestamp()
    try:
        return job.journal.stat().st_mtime
    except OSError:
        return 0.0


def _undone(job: Job) -> Job:
    return replace(job, status="undone", resume=None, undo=None)


def _read(path: Path, names: Mapping[str, str]) -> Job:
    try:
        contents = read_journal(path)
        started = datetime.fromisoformat(contents.header.created)
        if started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
    except (AircallExtError, ValueError) as err:
        return Job(path, None, None, None, "unreadable", error=str(err))
    account = contents.header.account
    sandbox = bool(account.get("sandbox"))
    done, total = progress(contents)
    status = _status(contents, done, total)
    finish = (
        None if status == "done" else command_line("import", "--resume", str(path), sandbox=sandbox)
    )
    undo = command_line("import", "--undo", str(path), sandbox=sandbox) if done else None
    return Job(
        path,
        started,
        contents.header.file,
        account_label(account, names),
        status,
        done,
        total,
        finish,
        undo,
        contents.header.undo_of,
    )


def progress(contents: JournalContents) -> tuple[int, int]:
    """(writes confirmed, writes planned): a resume or re-plan replaces what is left."""
    done = 0
    base, remaining = 0, len(contents.header.steps)
    for record in contents.records:
        kind = record.get("type")
        if kind == "done":
            done += 1
        elif kind in PLANS and isinstance(record.get("steps"), list):
            base, remaining = done, len(record["steps"])
    return done, base + remaining


def _status(contents: JournalContents, done: int, total: int) -> str:
    if contents.finished():
        return "done"
    last_run = _last_run(contents.records)
    ended = any(r.get("type") == "end" for r in last_run)
    failed = any(
        r.get("type") == "failed" or (r.get("type") == "verified" and not r.get("ok"))
        for r in last_run
    )
    return "failed" if ended and failed else f"stopped at {done} of {total}"


def _last_run(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    run: list[Mapping[str, Any]] = []
    for record in records:
        if record.get("type") == "resume":
            run = []
        run.append(record)
    return run

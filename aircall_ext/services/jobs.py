"""The import jobs a journal directory holds: what each did, and how to finish or undo it.

Each ``*.jsonl`` there is one job. Its status comes from the journals alone (no request):
``done`` when its last run ended complete, ``failed`` when its last run ended on a refused
write or a failed verification, else ``stopped at N of M`` (N writes confirmed, M planned:
the last plan of the job, counted from the writes done before it). A journal that cannot be
read is listed as ``unreadable``; it never stops the listing.

Undo journals (``undo_of`` in their header) change what the job they name left: of the M
users the job moved (confirmed writes), N are back where it found them when its undos
moved them there, or when an undo finished without skipping a row (its rows already back
are back too). An undo taken back by its own undo no longer counts for those users. N = M
is ``undone``; 0 < N < M is ``partly undone (N of M)``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aircall_ext.core.undo import Move
from aircall_ext.errors import AircallExtError, Remedy
from aircall_ext.services.identity import known_api_ids
from aircall_ext.services.journal import read_journal


@dataclass(frozen=True)
class Job:
    journal: Path
    started: datetime | None
    file: str | None
    account: str | None
    status: str
    done: int = 0
    total: int = 0
    resume: Remedy | None = None  # the command that finishes it
    undo: Remedy | None = None  # the command that takes it (or the rest of it) back
    undo_of: str | None = None
    error: str | None = None
    moved: int = 0  # users the job left elsewhere than where it found them
    moved_back: int = 0  # of those, users its undos put back
    sandbox: bool = False  # its account is the sandbox: its commands need --sandbox

    def to_json(self, write: Callable[[Remedy], str]) -> dict[str, Any]:
        """The job as ``jobs -o json`` shows it; ``write`` writes its commands."""
        return {
            "journal": str(self.journal),
            "started": _utc(self.started) if self.started else None,
            "file": self.file,
            "account": self.account,
            "status": self.status,
            "done": self.done,
            "total": self.total,
            "resume": write(self.resume) if self.resume else None,
            "undo": write(self.undo) if self.undo else None,
            "undo_of": self.undo_of,
            "error": self.error,
            "moved": self.moved,
            "moved_back": self.moved_back,
        }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Entry:
    """One journal as it tells itself, before its undos are taken into account."""

    job: Job
    moves: Mapping[int, Move] = field(default_factory=dict)  # user id → what the job did
    whole: bool = False  # finished without a skipped, failed or unrun row

    @property
    def key(self) -> str:
        return _key(self.job.journal)


def list_jobs(directory: Path, names: Mapping[str, str] | None = None) -> list[Job]:
    """Every journal of ``directory``, newest first. ``names`` maps API ID fingerprints to
    the IDs (default: those this machine knows; see :func:`known_api_ids`)."""
    names = known_api_ids() if names is None else names
    try:
        paths = sorted(p for p in directory.glob("*.jsonl") if p.is_file())
    except OSError:
        paths = []
    entries = [_read(path.absolute(), names) for path in paths]
    jobs = _Undos(entries).jobs()
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


class _Undos:
    """Which users of each job its undos put back, and the status and commands that
    follow from it."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self.entries = entries
        self.undos: dict[str, list[_Entry]] = defaultdict(list)
        for entry in entries:
            if entry.job.undo_of is not None and entry.job.status != "unreadable":
                self.undos[_key(Path(entry.job.undo_of))].append(entry)
        self.memo: dict[str, set[int]] = {}

    def jobs(self) -> list[Job]:
        return [self._job(entry) for entry in self.entries]

    def moved_back(self, entry: _Entry, seen: frozenset[str] = frozenset()) -> set[int]:
        """The users ``entry`` moved whom its undos (those not taken back in turn) put
        back where it found them. ``seen`` guards against journals naming each other."""
        if entry.key in self.memo:
            return self.memo[entry.key]
        back: set[int] = set()
        for undo in self.undos.get(entry.key, []):
            if undo.key in seen or undo.key == entry.key:
                continue
            if undo.whole:
                returned = set(entry.moves)
            else:
                returned = {
                    user_id
                    for user_id, move in undo.moves.items()
                    if user_id in entry.moves and move.after == entry.moves[user_id].before
                }
            back |= returned - self.moved_back(undo, seen | {entry.key})
        self.memo[entry.key] = back
        return back

    def _job(self, entry: _Entry) -> Job:
        job = entry.job
        if job.status == "unreadable":
            return job
        back = self.moved_back(entry)
        job = replace(job, moved=len(entry.moves), moved_back=len(back))
        unfinished = self._unfinished_undo(entry)
        if back and back == set(entry.moves):
            return replace(job, status="undone", resume=None, undo=None)
        if back:
            left = [move for user_id, move in entry.moves.items() if user_id not in back]
            again = job.undo if any(move.before is not None for move in left) else None
            return replace(
                job,
                status=f"partly undone ({len(back)} of {len(entry.moves)})",
                resume=None,
                undo=unfinished or again,
            )
        return replace(job, undo=unfinished or job.undo)

    def _unfinished_undo(self, entry: _Entry) -> Remedy | None:
        """The command that resumes the newest undo of ``entry`` that did not finish."""
        unfinished = [undo.job for undo in self.undos.get(entry.key, []) if undo.job.resume]
        newest = max(unfinished, key=lambda job: (_when(job), str(job.journal)), default=None)
        return newest.resume if newest else None


def _unreadable(path: Path, why: str) -> _Entry:
    return _Entry(Job(path, None, None, None, "unreadable", error=why))


def _read(path: Path, names: Mapping[str, str]) -> _Entry:
    try:
        contents = read_journal(path)
    except AircallExtError as err:
        return _unreadable(path, str(err))
    header = contents.header
    done, total = contents.progress()
    status = contents.status()
    job = Job(
        path,
        header.started,
        header.file,
        header.account.label(names),
        status,
        done,
        total,
        None if status == "done" else Remedy("import", "--resume", str(path)),
        Remedy("import", "--undo", str(path)) if done else None,
        header.undo_of,
        sandbox=header.account.sandbox,
    )
    moves = {move.user_id: move for move in contents.moves()}
    return _Entry(job, moves, contents.whole())

"""The import journal: one JSON object per line, written before and after every write.

It is what makes an interrupted import finishable (``import --resume``) and undoable
(``import --undo``): the header names the input and the account (host, fingerprint of the
API ID, never a secret); each write gets a ``start`` record before the request is sent and
a ``done`` or ``failed`` record after (the record kinds: ``services/journalrecords.py``).
Every record is flushed and fsynced before we go on, so a crash loses at most the line being
written, and the reader ignores such a torn last line. Resume does not trust the journal
for the account's state (it re-reads the account); the journal says which input, which
account, and what this job already wrote.

Every record is checked against its kind when read (a hand-edited journal is refused,
naming the line and the field), and the one run that appends to a journal holds an OS lock
on it (:class:`JournalLock`), so a second run of the same job is refused at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aircall_ext.core.account import Account
from aircall_ext.core.planner import Step
from aircall_ext.core.undo import Move
from aircall_ext.errors import Refused, Remedy, UsageError
from aircall_ext.files import create_private
from aircall_ext.names import APP_NAME, state_dir
from aircall_ext.services.journalrecords import (
    VERSION,
    DoneRecord,
    EndRecord,
    FailedRecord,
    Header,
    Record,
    ReplanRecord,
    ResumeRecord,
    StartRecord,
    VerifiedRecord,
    header_problem,
    parse_record,
    record_json,
)

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Clock = Callable[[], datetime]


class JournalExists(UsageError):
    """The journal (or the input copy beside it) would overwrite an existing file."""


class JournalInUse(Refused):
    """Another run holds the journal's lock: it is resuming or undoing that very job."""


class JournalWriteError(UsageError):
    """A record could not be written (a full disk, an I/O error): the job must stop."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def journals_dir() -> Path:
    return state_dir() / "journals"


def default_journal_path(source: str, now: datetime) -> Path:
    """``<state dir>/journals/<UTC timestamp>-<input stem>-<random>.jsonl``: sortable and
    recognisable; the random part keeps two imports of same-named files started in the same
    second apart (and :meth:`JournalWriter.create` creates it exclusively anyway)."""
    stem = Path(source).stem if source not in ("-", "<stdin>") else "stdin"
    name = _NAME_UNSAFE.sub("-", stem).strip("-.")[:40] or "import"
    return journals_dir() / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{name}-{_random_suffix()}.jsonl"


def _random_suffix() -> str:
    return secrets.token_hex(3)


def input_copy_path(journal: Path) -> Path:
    """Where the bytes an import read from standard input are kept, next to its journal."""
    return journal.with_name(journal.name.removesuffix(".jsonl") + ".input.csv")


STDIN_COPY = "a copy of standard input"


def keep_input_copy(path: Path, data: bytes, *, what: str = STDIN_COPY) -> None:
    """Save what standard input gave (private, never over another file), so that
    ``--resume`` can read the very same bytes again. A copy that does not fit (a full
    disk) is removed again, so the next run with the same ``--journal`` is not refused."""
    try:
        fd = create_private(path)
    except FileExistsError:
        raise JournalExists(
            f"cannot keep {what}: {path} already exists",
            hint="choose another --journal PATH",
        ) from None
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException as err:
        with contextlib.suppress(OSError):
            path.unlink()
        if isinstance(err, OSError):
            raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
        raise


# -- the lock ------------------------------------------------------------------------------


class JournalLock:
    """An exclusive OS lock on a journal, held by the one run that appends to it (or takes
    its import back), so two runs of one job never interleave their writes. The kernel
    releases it when the process ends, however it ends: a killed run leaves no stale lock.

    ``flock`` on POSIX. Windows has no such advisory lock (``msvcrt.locking`` locks bytes
    others could not even read), so there journals are not locked.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, path: Path) -> JournalLock:
        """Lock the existing journal ``path``; :class:`JournalInUse` when another run has it."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as err:
            raise UsageError(f"cannot read journal {path}: {err.strerror or err}") from None
        try:
            lock_fd(fd, path)
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def release(self) -> None:
        """Closing the descriptor drops the lock; releasing twice is harmless."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def lock_fd(fd: int, path: Path) -> None:
    """Take the journal lock on the open file ``fd``, without waiting."""
    if sys.platform == "win32":
        return
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise JournalInUse(
            f"journal {path} is in use by another run",
            hint=(
                "wait for that run to end (",
                Remedy("jobs"),
                " shows where the job stands); the lock goes away with the process that holds it",
            ),
        ) from None
    except OSError as err:  # e.g. ENOLCK: a file system without locks
        raise UsageError(
            f"cannot lock journal {path}: {err.strerror or err}",
            hint="keep journals on a local disk (--journal PATH)",
        ) from None


# -- writing -------------------------------------------------------------------------------


class JournalWriter:
    """Appends records durably. Created 0600 (the directory 0700): it names users.

    A record that cannot be written (a full disk) is cut off again, so the journal keeps
    ending on a complete line, and every later record is refused: the job stops there and
    ``--resume`` finishes it once there is room.
    """

    def __init__(
        self, path: Path, header: Header, fd: int, clock: Clock, fsync: bool, size: int
    ) -> None:
        self.path = path
        self.header = header
        self._fd = fd
        self._clock = clock
        self._fsync = fsync
        self._size = size  # bytes of complete records
        self._broken: str | None = None  # why records can no longer be written
        self._lock: JournalLock | None = None  # an existing journal's, released on close

    @classmethod
    def create(
        cls, path: Path, header: Header, *, clock: Clock = utc_now, fsync: bool = True
    ) -> JournalWriter:
        """A new journal at ``path`` (never over an existing file), locked until closed."""
        path = path.expanduser().absolute()
        try:
            fd = create_private(path)
        except FileExistsError:
            raise JournalExists(
                f"journal {path} already exists", hint="choose another --journal PATH"
            ) from None
        except OSError as err:
            raise UsageError(f"cannot create journal {path}: {err.strerror or err}") from None
        writer = cls(path, header, fd, clock, fsync, 0)
        try:
            lock_fd(fd, path)
            writer._write(header.to_json())
        except BaseException:
            writer.close()
            path.unlink(missing_ok=True)
            raise
        return writer

    @classmethod
    def reopen(
        cls, journal: JournalContents, *, clock: Clock = utc_now, fsync: bool = True
    ) -> JournalWriter:
        """Append to a journal read with ``lock=True`` (this run holds its lock, which the
        writer releases when closed), first cutting a torn last line off so that the next
        record starts on a line of its own."""
        if journal.lock is None or not journal.lock.held:
            raise ValueError("a journal is appended to only under its lock")
        try:
            fd = os.open(journal.path, os.O_WRONLY | os.O_APPEND)
            os.truncate(journal.path, journal.valid_size)
        except OSError as err:
            raise UsageError(f"cannot write journal {journal.path}: {err.strerror}") from None
        writer = cls(journal.path, journal.header, fd, clock, fsync, journal.valid_size)
        writer._lock = journal.lock
        return writer

    def write(self, record: Record) -> None:
        """Append ``record``, stamped with the clock's time."""
        self._write(record_json(record, self._clock().isoformat()))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._lock is not None:
            self._lock.release()

    def _write(self, doc: Mapping[str, Any]) -> None:
        if self._broken is not None:
            raise JournalWriteError(self._broken)
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = memoryview(line.encode())
        try:
            while data:  # O_APPEND: one write per record in practice
                data = data[os.write(self._fd, data) :]
            if self._fsync:
                os.fsync(self._fd)
        except OSError as err:
            self._broken = f"cannot write journal {self.path}: {err.strerror or err}"
            self._cut()
            raise JournalWriteError(self._broken) from None
        self._size += len(line.encode())

    def _cut(self) -> None:
        """Take a partly written record back off, so no later append lands after it."""
        with contextlib.suppress(OSError):  # else the reader ignores it as a torn last line
            os.ftruncate(self._fd, self._size)


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JournalContents:
    """A journal as read back: what every reader of it (resume, undo, ``jobs``) asks."""

    path: Path
    header: Header
    records: tuple[Record, ...]  # everything after the header, each checked
    valid_size: int  # bytes up to the end of the last complete line
    lock: JournalLock | None = field(default=None, compare=False, repr=False)

    def writes_started(self) -> int:
        """How many writes the job started, across every run: the next one's number."""
        return sum(1 for r in self.records if isinstance(r, StartRecord))

    def landed(self, account: Account | None = None) -> dict[int, str]:
        """What this job wrote, per user: the target of each user's last confirmed write,
        or of their last write whose answer was never recorded (a kill, a lost response)
        when ``account`` holds exactly that now."""
        landed = {r.step.user_id: r.step.to_ext for r in self.records if isinstance(r, DoneRecord)}
        for step in self._last_started().values():
            if _holds(account, step.user_id, step.to_ext):
                landed[step.user_id] = step.to_ext
        return landed

    def moves(self, account: Account | None = None) -> list[Move]:
        """The users the job's writes left elsewhere than where they started, in the order
        it first wrote to them: each from the extension before its first write to the one
        after its last that landed (confirmed, or held in ``account`` now)."""
        started = {r.number: r.step for r in self.records if isinstance(r, StartRecord)}
        done = {r.number for r in self.records if isinstance(r, DoneRecord)}
        per_user: dict[int, list[tuple[int, Step]]] = {}
        for number in sorted(started):
            step = started[number]
            per_user.setdefault(step.user_id, []).append((number, step))
        moves = []
        for user_id, steps in per_user.items():  # dicts keep the order of first writes
            number, last = steps[-1]
            landed = number in done or _holds(account, user_id, last.to_ext)
            after = last.to_ext if landed else last.from_ext
            before = steps[0][1].from_ext
            if after is not None and after != before:
                moves.append(Move(user_id, before, after))
        return moves

    def progress(self) -> tuple[int, int]:
        """(writes confirmed, writes planned): a resume or re-plan replaces what is left."""
        done = 0
        base, remaining = 0, len(self.header.steps)
        for record in self.records:
            if isinstance(record, DoneRecord):
                done += 1
            elif isinstance(record, ReplanRecord | ResumeRecord):
                base, remaining = done, len(record.steps)
        return done, base + remaining

    def finished(self) -> bool:
        """Whether the job's last run ended complete."""
        end = self._last_end()
        return end is not None and end.status == "complete"

    def whole(self) -> bool:
        """Finished, and no row of it was skipped, failed or left unrun."""
        end = self._last_end()
        if end is None or end.status != "complete" or end.summary is None:
            return False
        return all(end.summary.get(s) == 0 for s in ("skipped", "failed", "not_run"))

    def status(self) -> str:
        """``done``; ``failed`` when its last run ended on a refused write or a failed
        verification; else ``stopped at N of M`` (see :meth:`progress`)."""
        if self.finished():
            return "done"
        last_run: list[Record] = []
        for record in self.records:
            if isinstance(record, ResumeRecord):
                last_run = []
            last_run.append(record)
        ended = any(isinstance(r, EndRecord) for r in last_run)
        failed = any(
            isinstance(r, FailedRecord) or (isinstance(r, VerifiedRecord) and not r.ok)
            for r in last_run
        )
        if ended and failed:
            return "failed"
        done, total = self.progress()
        return f"stopped at {done} of {total}"

    def _last_started(self) -> dict[int, Step]:
        """Each user's last write this job started, whether or not its answer was recorded."""
        return {r.step.user_id: r.step for r in self.records if isinstance(r, StartRecord)}

    def _last_end(self) -> EndRecord | None:
        ends = [r for r in self.records if isinstance(r, EndRecord)]
        return ends[-1] if ends else None


def _holds(account: Account | None, user_id: int, extension: str) -> bool:
    user = account.user_by_id(user_id) if account is not None else None
    return user is not None and user.extension == extension


def read_journal(path: Path, *, lock: bool = False) -> JournalContents:
    """Parse a journal; a torn last line is ignored, damage anywhere else is an error.

    ``lock``: take the journal's lock first (:class:`JournalInUse` when another run holds
    it), for a run that appends to the journal or takes its import back; the contents
    carry it, and the caller releases it.
    """
    held = JournalLock.acquire(path) if lock else None
    try:
        return _read(path, held)
    except BaseException:
        if held is not None:
            held.release()
        raise


def _read(path: Path, lock: JournalLock | None) -> JournalContents:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read journal {path}: {err.strerror or err}") from None
    complete, _sep, _torn = data.rpartition(b"\n")
    valid_size = len(complete) + 1 if _sep else 0
    lines = complete.split(b"\n") if _sep else []
    docs = [_parse_line(path, number, line) for number, line in enumerate(lines, start=1)]
    if not docs:
        raise UsageError(
            f"journal {path} has no header: the import stopped before its first write",
            hint="run the import again from the file",
        )
    header = _header(path, docs[0])
    records = []
    for number, doc in enumerate(docs[1:], start=2):
        record = parse_record(doc)
        if isinstance(record, str):
            raise _damaged(path, number, record)
        records.append(record)
    return JournalContents(path, header, tuple(records), valid_size, lock=lock)


def _damaged(path: Path, number: int, problem: str) -> UsageError:
    return UsageError(
        f"journal {path} is damaged at line {number}: {problem}",
        hint="a journal is only ever appended to; was it edited?",
    )


def _parse_line(path: Path, number: int, line: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):  # JSON, UTF-8, nesting too deep
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise _damaged(path, number, "not a journal record")
    return doc


def _header(path: Path, doc: Mapping[str, Any]) -> Header:
    if doc.get("type") != "header" or doc.get("version") != VERSION:
        raise UsageError(f"{path} is not an {APP_NAME} import journal (version {VERSION})")
    problem = header_problem(doc)
    if problem is not None:
        raise _damaged(path, 1, problem)
    return Header.from_json(doc)

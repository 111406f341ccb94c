"""The import journal: one JSON object per line, written before and after every write.

It is what makes an interrupted import finishable (``import --resume``): the header names
the file (path and sha256) and the account (host, fingerprint of the API ID, never a
secret); each step gets a ``start`` record before the request is sent and a ``done`` or
``failed`` record after. Every record is flushed and fsynced before we go on, so a crash
loses at most the line being written, and the reader ignores such a torn last line.
Resume does not trust the journal for the account's state (it re-reads the account); the
journal only says which file, which account, and what this job already wrote.

Every record is checked against its kind when read (a hand-edited journal is refused,
naming the line and the field), and the one run that appends to a journal holds an OS lock
on it (:class:`JournalLock`), so a second run of the same job is refused at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from aircall_ext.config import Settings
from aircall_ext.core.extensions import is_extension
from aircall_ext.core.planner import Step
from aircall_ext.errors import Refused, UsageError
from aircall_ext.files import create_private
from aircall_ext.names import TOOL, state_dir

VERSION = 1
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
    """``<state dir>/journals/<UTC timestamp>-<file stem>-<random>.jsonl``: sortable and
    recognisable; the random part keeps two imports of same-named files started in the same
    second apart (and :meth:`JournalWriter.create_new` creates it exclusively anyway)."""
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
    ``--resume`` can read the very same bytes again (an undo keeps its desired state so)."""
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
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def account_identity(base_url: str, api_id: str | None, *, sandbox: bool) -> dict[str, Any]:
    """Which account a journal belongs to, without secrets: the host and a fingerprint of
    the API ID (an identifier, but there is no reason to spread it)."""
    import httpx

    url = httpx.URL(base_url)
    host = f"{url.host}:{url.port}" if url.port else url.host
    fingerprint = sha256_hex(api_id.encode())[:16] if api_id else None
    return {"host": host, "api_id_sha256": fingerprint, "sandbox": sandbox}


def settings_identity(settings: Settings) -> dict[str, Any]:
    """The identity of the account the run's settings point at."""
    return account_identity(settings.base_url, settings.api_id, sandbox=settings.sandbox)


@dataclass(frozen=True)
class Header:
    file: str  # the CSV as given (absolute path), "-" for standard input
    file_sha256: str
    account: Mapping[str, Any]
    created: str
    steps: tuple[Step, ...]
    # The CSV's bytes kept beside the journal when they cannot be read at ``file`` again
    # (standard input, a pipe, a saved plan's copy): what --resume reads.
    input_copy: str | None = None
    undo_of: str | None = None  # the journal an undo takes back (absolute path)
    plan: str | None = None  # the saved plan the bytes came from (absolute path)

    def to_json(self) -> dict[str, Any]:
        doc = {
            "type": "header",
            "version": VERSION,
            "tool": TOOL,
            "created": self.created,
            "file": self.file,
            "file_sha256": self.file_sha256,
            "account": dict(self.account),
            "steps": [step.to_json() for step in self.steps],
        }
        for key, value in (
            ("input_copy", self.input_copy),
            ("undo_of", self.undo_of),
            ("plan", self.plan),
        ):
            if value is not None:
                doc[key] = value
        return doc


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

    def __enter__(self) -> JournalLock:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()


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
            hint="wait for that run to end (`aircall-ext jobs` shows where the job stands); "
            "the lock goes away with the process that holds it",
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

    def record(self, kind: str, **fields: Any) -> None:
        self._write({"type": kind, "at": self._clock().isoformat(), **fields})

    def start(self, number: int, step: Step) -> None:
        self.record("start", step=number, **step.to_json())

    def done(self, number: int, step: Step) -> None:
        self.record("done", step=number, **step.to_json())

    def failed(self, number: int, step: Step, error: str) -> None:
        self.record("failed", step=number, **step.to_json(), error=error)

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
    path: Path
    header: Header
    records: tuple[Mapping[str, Any], ...]  # everything after the header, each checked
    valid_size: int  # bytes up to the end of the last complete line
    torn: bool  # a partial last line was ignored
    lock: JournalLock | None = field(default=None, compare=False, repr=False)

    def done_steps(self) -> list[Step]:
        """Writes this job completed, across every run of it."""
        return [Step.from_json(r) for r in self.records if r.get("type") == "done"]

    def last_started(self) -> dict[int, Step]:
        """Each user's last write this job started, whether or not its answer was recorded."""
        return {s.user_id: s for s in map(Step.from_json, self._typed("start"))}

    def _typed(self, kind: str) -> list[Mapping[str, Any]]:
        return [r for r in self.records if r.get("type") == kind]

    def runs(self) -> int:
        return 1 + sum(1 for r in self.records if r.get("type") == "resume")

    def finished(self) -> bool:
        ends = [r for r in self.records if r.get("type") == "end"]
        return bool(ends) and ends[-1].get("status") == "complete"


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
    complete, _sep, tail = data.rpartition(b"\n")
    valid_size = len(complete) + 1 if _sep else 0
    lines = complete.split(b"\n") if _sep else []
    docs = [_parse_line(path, number, line) for number, line in enumerate(lines, start=1)]
    if not docs:
        raise UsageError(
            f"journal {path} has no header: the import stopped before its first write",
            hint="run the import again from the file",
        )
    header = _header(path, docs[0])
    for number, doc in enumerate(docs[1:], start=2):
        problem = _record_problem(doc)
        if problem is not None:
            raise _damaged(path, number, problem)
    return JournalContents(path, header, tuple(docs[1:]), valid_size, torn=bool(tail), lock=lock)


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
        raise UsageError(f"{path} is not an aircall-ext import journal (version {VERSION})")
    problem = _fields_problem(doc, _HEADER)
    if problem is not None:
        raise _damaged(path, 1, f"header: {problem}")
    return Header(
        file=doc["file"],
        file_sha256=doc["file_sha256"],
        account=dict(doc["account"]),
        created=doc["created"],
        steps=tuple(Step.from_json(s) for s in doc["steps"]),
        input_copy=doc.get("input_copy") or None,
        undo_of=doc.get("undo_of") or None,
        plan=doc.get("plan") or None,
    )


# -- what each record must hold ------------------------------------------------------------


@dataclass(frozen=True)
class _Expect:
    """What a field must hold, in words, and the test of it."""

    what: str
    test: Callable[[Any], bool]
    required: bool = True


def _is_moment(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_int(value: Any) -> bool:
    return type(value) is int  # not a bool, not a float


def _optional(expect: _Expect) -> _Expect:
    return _Expect(expect.what, expect.test, required=False)


_INTEGER = _Expect("an integer", _is_int)
_STEP_NUMBER = _Expect("a step number (an integer from 1)", lambda v: _is_int(v) and v >= 1)
_TEXT = _Expect("text", lambda v: isinstance(v, str))
_TEXT_OR_NULL = _Expect("text or null", lambda v: v is None or isinstance(v, str))
_FLAG = _Expect("true or false", lambda v: isinstance(v, bool))
_EXTENSION = _Expect(
    "a three-digit extension as text", lambda v: isinstance(v, str) and is_extension(v)
)
_MOMENT = _Expect("a date and time (ISO 8601)", _is_moment)
_SHA256 = _Expect(
    "a sha256 in hex", lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{64}", v) is not None
)
_TEXTS = _Expect(
    "a list of texts", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)
)
_COUNTS = _Expect(
    "an object of counts",
    lambda v: isinstance(v, dict) and all(_is_int(n) for n in v.values()),
)
_STATUS = _Expect('"complete" or "stopped"', lambda v: v in ("complete", "stopped"))

_STEP: dict[str, _Expect] = {
    "user_id": _INTEGER,
    "from": _TEXT_OR_NULL,  # what the user held: a damaged value too
    "to": _EXTENSION,
    "parking": _optional(_FLAG),
}
_ACCOUNT: dict[str, _Expect] = {
    "host": _TEXT_OR_NULL,
    "api_id_sha256": _TEXT_OR_NULL,
    "sandbox": _optional(_FLAG),
}
_NUMBERED = {"step": _STEP_NUMBER, **_STEP}
STEPS = "steps"  # a list of _STEP objects, checked one by one
ACCOUNT = "account"  # a nested _ACCOUNT object

_HEADER: dict[str, _Expect | str] = {
    "file": _TEXT,
    "file_sha256": _SHA256,
    "account": ACCOUNT,
    "created": _MOMENT,
    "steps": STEPS,
    "input_copy": _optional(_TEXT_OR_NULL),
    "undo_of": _optional(_TEXT_OR_NULL),
    "plan": _optional(_TEXT_OR_NULL),
}
# What the tool reads from a record is required; what only informs a reader is checked
# when present.
_KINDS: dict[str, dict[str, _Expect | str]] = {
    "start": {**_NUMBERED},
    "done": {**_NUMBERED},
    "failed": {**_NUMBERED, "error": _optional(_TEXT)},
    "interrupted": {**_NUMBERED, "sent": _optional(_FLAG), "reason": _optional(_TEXT)},
    "replan": {"reason": _optional(_TEXT), "steps": STEPS},
    "resume": {"steps": STEPS},
    "end": {
        "status": _STATUS,
        "reason": _optional(_TEXT_OR_NULL),
        "summary": _optional(_COUNTS),
    },
    "verified": {"ok": _FLAG, "mismatches": _optional(_TEXTS)},
}


def _record_problem(doc: Mapping[str, Any]) -> str | None:
    """What is wrong with a record after the header, or None."""
    kind = doc["type"]
    fields = _KINDS.get(kind)
    if fields is None:
        return f"unknown record type {_shown(kind)}"
    problem = _fields_problem(doc, {"at": _optional(_MOMENT), **fields})
    return f"{kind} record: {problem}" if problem is not None else None


def _fields_problem(doc: Mapping[str, Any], fields: Mapping[str, _Expect | str]) -> str | None:
    for name, expect in fields.items():
        if expect == STEPS:
            problem = _steps_problem(name, doc.get(name, _MISSING))
        elif expect == ACCOUNT:
            problem = _object_problem(name, doc.get(name, _MISSING), _ACCOUNT)
        else:
            assert isinstance(expect, _Expect)
            problem = _field_problem(name, doc.get(name, _MISSING), expect)
        if problem is not None:
            return problem
    return None


_MISSING = object()


def _field_problem(name: str, value: Any, expect: _Expect) -> str | None:
    if value is _MISSING:
        return f"field {name} is missing" if expect.required else None
    if expect.test(value):
        return None
    return f"field {name}: expected {expect.what}, got {_shown(value)}"


def _object_problem(name: str, value: Any, fields: Mapping[str, _Expect]) -> str | None:
    if value is _MISSING:
        return f"field {name} is missing"
    if not isinstance(value, dict):
        return f"field {name}: expected an object, got {_shown(value)}"
    for key, expect in fields.items():
        problem = _field_problem(f"{name}.{key}", value.get(key, _MISSING), expect)
        if problem is not None:
            return problem
    return None


def _steps_problem(name: str, value: Any) -> str | None:
    if value is _MISSING:
        return f"field {name} is missing"
    if not isinstance(value, list):
        return f"field {name}: expected a list of steps, got {_shown(value)}"
    for index, step in enumerate(value):
        problem = _object_problem(f"{name}[{index}]", step, _STEP)
        if problem is not None:
            return problem
    return None


def _shown(value: Any) -> str:
    """A value as a message shows it: JSON, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:39] + "…"

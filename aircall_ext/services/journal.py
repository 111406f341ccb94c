"""The import journal: one JSON object per line, written before and after every write.

It is what makes an interrupted import finishable (``import --resume``): the header names
the file (path and sha256) and the account (host, fingerprint of the API ID, never a
secret); each step gets a ``start`` record before the request is sent and a ``done`` or
``failed`` record after. Every record is flushed and fsynced before we go on, so a crash
loses at most the line being written, and the reader ignores such a torn last line.
Resume does not trust the journal for the account's state (it re-reads the account); the
journal only says which file, which account, and what this job already wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aircall_ext.config import Settings
from aircall_ext.core.planner import Step
from aircall_ext.errors import UsageError
from aircall_ext.files import create_private
from aircall_ext.names import TOOL, state_dir

VERSION = 1
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Clock = Callable[[], datetime]


class JournalExists(UsageError):
    """The journal (or the input copy beside it) would overwrite an existing file."""


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
    file: str  # absolute path of the CSV, "-" for standard input
    file_sha256: str
    account: Mapping[str, Any]
    created: str
    steps: tuple[Step, ...]
    input_copy: str | None = None  # standard input's bytes, kept for --resume
    undo_of: str | None = None  # the journal an undo takes back (absolute path)

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
        if self.input_copy is not None:
            doc["input_copy"] = self.input_copy
        if self.undo_of is not None:
            doc["undo_of"] = self.undo_of
        return doc


class JournalWriter:
    """Appends records durably. Created 0600 (the directory 0700): it names users."""

    def __init__(self, path: Path, header: Header, fd: int, clock: Clock, fsync: bool) -> None:
        self.path = path
        self.header = header
        self._fd = fd
        self._clock = clock
        self._fsync = fsync

    @classmethod
    def create(
        cls, path: Path, header: Header, *, clock: Clock = utc_now, fsync: bool = True
    ) -> JournalWriter:
        """A new journal at ``path`` (never over an existing file)."""
        path = path.expanduser().absolute()
        try:
            fd = create_private(path)
        except FileExistsError:
            raise JournalExists(
                f"journal {path} already exists", hint="choose another --journal PATH"
            ) from None
        except OSError as err:
            raise UsageError(f"cannot create journal {path}: {err.strerror or err}") from None
        writer = cls(path, header, fd, clock, fsync)
        writer._write(header.to_json())
        return writer

    @classmethod
    def reopen(
        cls, journal: JournalContents, *, clock: Clock = utc_now, fsync: bool = True
    ) -> JournalWriter:
        """Append to an existing journal, first cutting a torn last line off so that the
        next record starts on a line of its own."""
        try:
            fd = os.open(journal.path, os.O_WRONLY | os.O_APPEND)
            os.truncate(journal.path, journal.valid_size)
        except OSError as err:
            raise UsageError(f"cannot write journal {journal.path}: {err.strerror}") from None
        return cls(journal.path, journal.header, fd, clock, fsync)

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

    def _write(self, doc: Mapping[str, Any]) -> None:
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode()
        written = 0
        while written < len(data):  # O_APPEND: one write per record in practice
            written += os.write(self._fd, data[written:])
        if self._fsync:
            os.fsync(self._fd)


@dataclass(frozen=True)
class JournalContents:
    path: Path
    header: Header
    records: tuple[Mapping[str, Any], ...]  # everything after the header
    valid_size: int  # bytes up to the end of the last complete line
    torn: bool  # a partial last line was ignored

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


def read_journal(path: Path) -> JournalContents:
    """Parse a journal; a torn last line is ignored, damage anywhere else is an error."""
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
    return JournalContents(path, header, tuple(docs[1:]), valid_size, torn=bool(tail))


def _parse_line(path: Path, number: int, line: bytes) -> Mapping[str, Any]:
    try:
        doc = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise UsageError(
            f"journal {path} is damaged at line {number}: not a journal record",
            hint="a journal is only ever appended to; was it edited?",
        )
    return doc


def _header(path: Path, doc: Mapping[str, Any]) -> Header:
    if doc.get("type") != "header" or doc.get("version") != VERSION:
        raise UsageError(f"{path} is not an aircall-ext import journal (version {VERSION})")
    try:
        return Header(
            file=str(doc["file"]),
            file_sha256=str(doc["file_sha256"]),
            account=dict(doc["account"]),
            created=str(doc["created"]),
            steps=tuple(Step.from_json(s) for s in _list(doc["steps"])),
            input_copy=str(doc["input_copy"]) if doc.get("input_copy") else None,
            undo_of=str(doc["undo_of"]) if doc.get("undo_of") else None,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise UsageError(f"journal {path} has a damaged header: {err}") from None


def _list(value: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(value, list):
        raise TypeError("steps is not a list")
    return value

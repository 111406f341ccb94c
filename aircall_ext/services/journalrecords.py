"""What a journal holds, line by line: the header, then one record of a known kind per line.

The kinds are one typed set: every record the import job writes is one of the classes
below, and every line read back is checked against its kind's fields before it becomes
one (a record without its fields, or a field of the wrong type, is damage at that line).
What the tool reads from a record is required; what only informs a reader (``at``,
``error``, ``reason``, ``summary``) is checked when present.

- ``start``: a write is about to be sent; ``done`` or ``failed``: its answer.
- ``interrupted``: a stop signal ended the run; ``sent`` says whether that write was sent.
- ``replan``: a refused write made the job plan the rest again from a fresh read.
- ``resume``: a later run took the job up again (both carry the steps left).
- ``verified``: the closing read; ``end``: the run is over (``complete`` or ``stopped``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

from aircall_ext.core.extensions import is_extension
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.core.paths import is_path
from aircall_ext.core.planner import Step
from aircall_ext.core.undo import Wanted
from aircall_ext.names import TOOL

VERSION = 1

# -- the header ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Which input, which account, and the steps first planned.

    An import names its CSV (``file``, its sha256). An undo names the journal it takes back
    (``undo_of``) and carries its own desired state (``desired``): each user back on the
    extension the import found them on. An undo written by an earlier version kept that
    state in a CSV beside its journal instead, which ``file`` names.
    """

    file: str | None  # the CSV as given (absolute path), "-" for standard input
    file_sha256: str | None
    account: AccountIdentity
    created: str
    steps: tuple[Step, ...]
    # The CSV's bytes kept beside the journal when they cannot be read at ``file`` again
    # (standard input, a pipe, a saved plan's copy): what --resume reads.
    input_copy: str | None = None
    undo_of: str | None = None  # the journal an undo takes back (absolute path)
    plan: str | None = None  # the saved plan the bytes came from (absolute path)
    desired: tuple[Wanted, ...] | None = None  # an undo's desired state

    @property
    def started(self) -> datetime:
        return moment(self.created)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": "header",
            "version": VERSION,
            "tool": TOOL,
            "created": self.created,
            "file": self.file,
            "file_sha256": self.file_sha256,
            "account": self.account.to_json(),
            "steps": [step.to_json() for step in self.steps],
        }
        if self.file is None:  # an undo: no CSV
            del doc["file"], doc["file_sha256"]
        for key, value in (
            ("input_copy", self.input_copy),
            ("undo_of", self.undo_of),
            ("plan", self.plan),
        ):
            if value is not None:
                doc[key] = value
        if self.desired is not None:
            doc["desired"] = [_wanted_json(row) for row in self.desired]
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Header:
        """From a header checked by :func:`header_problem`."""
        desired = doc.get("desired")
        return cls(
            file=doc.get("file"),
            file_sha256=doc.get("file_sha256"),
            account=AccountIdentity.from_json(doc["account"]),
            created=doc["created"],
            steps=_steps(doc["steps"]),
            input_copy=doc.get("input_copy") or None,
            undo_of=doc.get("undo_of") or None,
            plan=doc.get("plan") or None,
            desired=None if desired is None else tuple(_wanted(row) for row in desired),
        )


def moment(text: str) -> datetime:
    """A time a journal records (ISO 8601, naive taken as UTC), in UTC: ``ValueError`` when
    it is none, ``OverflowError`` when it has no UTC time (``0001-01-01T00:00:00+01:00``)."""
    parsed = datetime.fromisoformat(text)
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _wanted_json(row: Wanted) -> dict[str, Any]:
    return {"line": row.line, "user_id": row.user_id, "extension": row.extension}


def _wanted(doc: Mapping[str, Any]) -> Wanted:
    return Wanted(doc["line"], doc["user_id"], doc["extension"])


def _steps(docs: list[Mapping[str, Any]]) -> tuple[Step, ...]:
    return tuple(Step.from_json(doc) for doc in docs)


# -- the records ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRecord:
    """A record about one write: its number in the job (from 1) and the step."""

    kind: ClassVar[str]
    number: int
    step: Step
    at: str | None = field(default=None, kw_only=True)

    def fields(self) -> dict[str, Any]:
        return {"step": self.number, **self.step.to_json()}

    @classmethod
    def _from(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {"number": doc["step"], "step": Step.from_json(doc), "at": doc.get("at")}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(**cls._from(doc))


@dataclass(frozen=True)
class StartRecord(StepRecord):
    kind = "start"


@dataclass(frozen=True)
class DoneRecord(StepRecord):
    kind = "done"


@dataclass(frozen=True)
class FailedRecord(StepRecord):
    kind = "failed"
    error: str | None = None

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "error": self.error}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(**cls._from(doc), error=doc.get("error"))


@dataclass(frozen=True)
class InterruptedRecord(StepRecord):
    kind = "interrupted"
    sent: bool | None = None  # whether the write's request may have been sent
    reason: str | None = None

    def fields(self) -> dict[str, Any]:
        return {**super().fields(), "sent": self.sent, "reason": self.reason}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(**cls._from(doc), sent=doc.get("sent"), reason=doc.get("reason"))


@dataclass(frozen=True)
class ReplanRecord:
    kind: ClassVar[str] = "replan"
    steps: tuple[Step, ...]
    reason: str | None = None
    at: str | None = field(default=None, kw_only=True)

    def fields(self) -> dict[str, Any]:
        return {"reason": self.reason, "steps": [step.to_json() for step in self.steps]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(_steps(doc["steps"]), doc.get("reason"), at=doc.get("at"))


@dataclass(frozen=True)
class ResumeRecord:
    kind: ClassVar[str] = "resume"
    steps: tuple[Step, ...]
    at: str | None = field(default=None, kw_only=True)

    def fields(self) -> dict[str, Any]:
        return {"steps": [step.to_json() for step in self.steps]}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(_steps(doc["steps"]), at=doc.get("at"))


@dataclass(frozen=True)
class VerifiedRecord:
    kind: ClassVar[str] = "verified"
    ok: bool
    mismatches: tuple[str, ...] = ()
    at: str | None = field(default=None, kw_only=True)

    def fields(self) -> dict[str, Any]:
        return {"ok": self.ok, "mismatches": list(self.mismatches)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(doc["ok"], tuple(doc.get("mismatches", ())), at=doc.get("at"))


EndStatus = Literal["complete", "stopped"]


@dataclass(frozen=True)
class EndRecord:
    kind: ClassVar[str] = "end"
    status: EndStatus
    reason: str | None = None
    summary: Mapping[str, int] | None = None  # the report's counts
    at: str | None = field(default=None, kw_only=True)

    def fields(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "summary": self.summary}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(doc["status"], doc.get("reason"), doc.get("summary"), at=doc.get("at"))


Record = (
    StartRecord
    | DoneRecord
    | FailedRecord
    | InterruptedRecord
    | ReplanRecord
    | ResumeRecord
    | VerifiedRecord
    | EndRecord
)


def record_json(record: Record, at: str) -> dict[str, Any]:
    """A record as its journal line holds it."""
    return {"type": record.kind, "at": at, **record.fields()}


# -- what each line must hold --------------------------------------------------------------


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
        moment(value)
    except (ValueError, OverflowError):
        return False
    return True


def _is_text(value: Any) -> bool:
    """A string that can be shown: a lone surrogate (JSON's ``\\ud800``) cannot be written."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_int(value: Any) -> bool:
    return type(value) is int  # not a bool, not a float


def _optional(expect: _Expect) -> _Expect:
    return _Expect(expect.what, expect.test, required=False)


_INTEGER = _Expect("an integer", _is_int)
_LINE = _Expect("a line number (an integer from 2)", lambda v: _is_int(v) and v >= 2)
_STEP_NUMBER = _Expect("a step number (an integer from 1)", lambda v: _is_int(v) and v >= 1)
_TEXT = _Expect("text", _is_text)
_TEXT_OR_NULL = _Expect("text or null", lambda v: v is None or _is_text(v))
_PATH = _Expect("a file path", is_path)
_PATH_OR_NULL = _Expect("a file path or null", lambda v: v is None or is_path(v))
_FLAG = _Expect("true or false", lambda v: isinstance(v, bool))
_EXTENSION = _Expect(
    "a three-digit extension as text", lambda v: isinstance(v, str) and is_extension(v)
)
_MOMENT = _Expect("a date and time (ISO 8601)", _is_moment)
_SHA256 = _Expect(
    "a sha256 in hex", lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{64}", v) is not None
)
_TEXTS = _Expect("a list of texts", lambda v: isinstance(v, list) and all(map(_is_text, v)))
_COUNTS = _Expect(
    "an object of counts",
    lambda v: isinstance(v, dict) and all(_is_int(n) for n in v.values()),
)
_STATUS = _Expect('"complete" or "stopped"', lambda v: v in ("complete", "stopped"))


@dataclass(frozen=True)
class _ListOf:
    """A list of objects, each holding ``fields``."""

    what: str
    fields: Mapping[str, _Expect]
    required: bool = True


@dataclass(frozen=True)
class _Object:
    fields: Mapping[str, _Expect]


_Field = _Expect | _ListOf | _Object

_STEP: dict[str, _Expect] = {
    "user_id": _INTEGER,
    "from": _TEXT_OR_NULL,  # what the user held: a damaged value too
    "to": _EXTENSION,
    "parking": _optional(_FLAG),
}
_STEPS = _ListOf("a list of steps", _STEP)
_WANTED = _ListOf(
    "a list of rows", {"line": _LINE, "user_id": _INTEGER, "extension": _EXTENSION}, False
)
_ACCOUNT = _Object(
    {"host": _TEXT_OR_NULL, "api_id_sha256": _TEXT_OR_NULL, "sandbox": _optional(_FLAG)}
)

_HEADER: dict[str, _Field] = {
    "file": _PATH,
    "file_sha256": _SHA256,
    "account": _ACCOUNT,
    "created": _MOMENT,
    "steps": _STEPS,
    "input_copy": _optional(_PATH_OR_NULL),
    "undo_of": _optional(_PATH_OR_NULL),
    "plan": _optional(_PATH_OR_NULL),
    "desired": _WANTED,
}
# An undo that carries its desired state names no CSV.
_UNDO_HEADER: dict[str, _Field] = {
    **{k: v for k, v in _HEADER.items() if k not in ("file", "file_sha256")},
    "undo_of": _PATH,
}

_NUMBERED: dict[str, _Field] = {"step": _STEP_NUMBER, **_STEP}
_KINDS: dict[str, tuple[type[Record], dict[str, _Field]]] = {
    "start": (StartRecord, _NUMBERED),
    "done": (DoneRecord, _NUMBERED),
    "failed": (FailedRecord, {**_NUMBERED, "error": _optional(_TEXT)}),
    "interrupted": (
        InterruptedRecord,
        {**_NUMBERED, "sent": _optional(_FLAG), "reason": _optional(_TEXT)},
    ),
    "replan": (ReplanRecord, {"reason": _optional(_TEXT), "steps": _STEPS}),
    "resume": (ResumeRecord, {"steps": _STEPS}),
    "end": (
        EndRecord,
        {
            "status": _STATUS,
            "reason": _optional(_TEXT_OR_NULL),
            "summary": _optional(_COUNTS),
        },
    ),
    "verified": (VerifiedRecord, {"ok": _FLAG, "mismatches": _optional(_TEXTS)}),
}


def header_problem(doc: Mapping[str, Any]) -> str | None:
    """What is wrong with a header's fields, or None."""
    fields = _UNDO_HEADER if "desired" in doc else _HEADER
    problem = _fields_problem(doc, fields)
    return f"header: {problem}" if problem is not None else None


def parse_record(doc: Mapping[str, Any]) -> Record | str:
    """The record a line after the header holds, or what is wrong with it."""
    kind = doc["type"]
    known = _KINDS.get(kind)
    if known is None:
        return f"unknown record type {shown(kind)}"
    cls, fields = known
    problem = _fields_problem(doc, {"at": _optional(_MOMENT), **fields})
    if problem is not None:
        return f"{kind} record: {problem}"
    return cls.from_json(doc)


def _fields_problem(doc: Mapping[str, Any], fields: Mapping[str, _Field]) -> str | None:
    for name, expect in fields.items():
        problem = _problem(name, doc.get(name, _MISSING), expect)
        if problem is not None:
            return problem
    return None


_MISSING = object()


def _problem(name: str, value: Any, expect: _Field) -> str | None:
    if isinstance(expect, _ListOf):
        return _list_problem(name, value, expect)
    if isinstance(expect, _Object):
        return _object_problem(name, value, expect.fields)
    if value is _MISSING:
        return f"field {name} is missing" if expect.required else None
    if expect.test(value):
        return None
    return f"field {name}: expected {expect.what}, got {shown(value)}"


def _object_problem(name: str, value: Any, fields: Mapping[str, _Expect]) -> str | None:
    if value is _MISSING:
        return f"field {name} is missing"
    if not isinstance(value, dict):
        return f"field {name}: expected an object, got {shown(value)}"
    return _fields_problem({f"{name}.{k}": v for k, v in value.items()}, _prefixed(name, fields))


def _prefixed(name: str, fields: Mapping[str, _Expect]) -> dict[str, _Field]:
    return {f"{name}.{key}": expect for key, expect in fields.items()}


def _list_problem(name: str, value: Any, expect: _ListOf) -> str | None:
    if value is _MISSING:
        return f"field {name} is missing" if expect.required else None
    if not isinstance(value, list):
        return f"field {name}: expected {expect.what}, got {shown(value)}"
    for index, item in enumerate(value):
        problem = _object_problem(f"{name}[{index}]", item, expect.fields)
        if problem is not None:
            return problem
    return None


def shown(value: Any) -> str:
    """A value as a message shows it: JSON, cut short; a lone surrogate (``\\ud800``, which
    no output can encode) escaped."""
    text = json.dumps(value, ensure_ascii=False).encode("utf-8", "backslashreplace").decode()
    return text if len(text) <= 40 else text[:39] + "…"

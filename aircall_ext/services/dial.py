"""Dial dry-runs: one dialed sequence, or a CSV batch of them with expectations.

The account is read once (users and numbers); the pure simulator decides every row. A
batch file is checked whole before the account is read, so a typo costs no request, and
every bad cell is named as ``FILE:LINE:COLUMN`` (LINE is the physical line, header = 1).

A run *passes* when its outcome is the expected one, or, with no expectation, when the
call reaches a user: the same rule as the exit code of a single ``dial``.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aircall_ext.core.account import Account
from aircall_ext.core.dialing import DialResult, find_number, simulate
from aircall_ext.core.dialterms import OUTCOMES, STAGES, Outcome, Stage
from aircall_ext.errors import UsageError

if TYPE_CHECKING:
    from aircall_ext.api.client import ApiClient
    from aircall_ext.api.models import Number

_Bad = Callable[[str], UsageError]

COLUMNS = ("number", "digits", "stage", "api_transfer", "expect")
REQUIRED = ("number", "digits", "stage")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})
_EXCEL_TEXT = re.compile(r'="(.*)"', re.DOTALL)
_DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class DialRequest:
    """One dry-run to make; ``line`` and ``columns`` locate it in a batch file."""

    number: str
    digits: str
    stage: Stage
    api_transfer: bool = False
    expect: Outcome | None = None
    line: int | None = None
    columns: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DialRun:
    request: DialRequest
    result: DialResult

    @property
    def passed(self) -> bool:
        expect = self.request.expect
        return self.result.outcome == expect if expect else self.result.reaches_user

    def to_json(self) -> dict[str, Any]:
        doc = self.result.to_json()
        if self.request.line is not None:
            doc = {"line": self.request.line, **doc}
        return {**doc, "expect": self.request.expect, "passed": self.passed}


@dataclass(frozen=True)
class Batch:
    source: str
    requests: tuple[DialRequest, ...]
    notes: tuple[str, ...] = ()  # warnings for people: encoding fallback, ignored columns


def dial(client: ApiClient, request: DialRequest) -> DialRun:
    """Dry-run one sequence against the account as it is now."""
    account = _load(client)
    return _run(account, request, find_number(account, request.number))


def dial_batch(client: ApiClient, batch: Batch) -> list[DialRun]:
    """Dry-run every row; an unknown NUMBER stops everything, naming its cell."""
    account = _load(client)
    numbers = [_number_of(account, batch.source, request) for request in batch.requests]
    return [_run(account, req, num) for req, num in zip(batch.requests, numbers, strict=True)]


def summarize(runs: Sequence[DialRun]) -> dict[str, int]:
    passed = sum(run.passed for run in runs)
    return {
        "rows": len(runs),
        "passed": passed,
        "failed": len(runs) - passed,
        "reaching_user": sum(run.result.reaches_user for run in runs),
    }


def _load(client: ApiClient) -> Account:
    from aircall_ext.services.users import load_account

    return load_account(client, numbers=True)


def _run(account: Account, request: DialRequest, number: Number) -> DialRun:
    result = simulate(
        account, number, request.digits, request.stage, api_transfer=request.api_transfer
    )
    return DialRun(request, result)


def _number_of(account: Account, source: str, request: DialRequest) -> Number:
    try:
        return find_number(account, request.number)
    except UsageError as err:
        where = _where(source, request.line or 0, request.columns.get("number"))
        raise UsageError(f"{where}: {err.message}", hint=err.hint) from None


# -- reading a batch file -----------------------------------------------------------------


def read_batch(path: str) -> Batch:
    """Read and check a batch CSV (``-`` is stdin); any bad cell is a :class:`UsageError`."""
    source = "<stdin>" if path == "-" else path
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as err:
        raise UsageError(f"cannot read {source}: {err.strerror or err}") from None
    text, notes = _decode(data, source)
    batch = parse_batch(text, source)
    return Batch(batch.source, batch.requests, notes + batch.notes)


def _decode(data: bytes, source: str) -> tuple[str, tuple[str, ...]]:
    """UTF-8 with or without BOM; else cp1252 (a spreadsheet's "CSV" on Windows), said aloud."""
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), (f"{source} is not UTF-8; read as cp1252",)


def parse_batch(text: str, source: str) -> Batch:
    """The rows of a batch CSV: header required, columns by name (any case and order)."""
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff(text))
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header):
        raise UsageError(
            f"{source}: empty file; expected a header row",
            hint=f"columns: {','.join(COLUMNS)} (api_transfer and expect optional)",
        )
    columns, notes = _columns(header, source)
    requests = []
    line = rows.line_num + 1
    for cells in rows:
        if any(cell.strip() for cell in cells):
            requests.append(_request(cells, columns, len(header), f"{source}:{line}", line))
        line = rows.line_num + 1
    return Batch(source, tuple(requests), notes)


def _sniff(text: str) -> str:
    """The delimiter of the header line among ``,`` ``;`` TAB (Excel in many locales uses ;)."""
    first = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=first.count)


def _columns(header: list[str], source: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """Known column name -> 0-based index; unknown names are noted once and ignored."""
    found: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(header):
        name = cell.strip().casefold()
        if name in found:
            raise UsageError(f"{source}:1:{index + 1}: column {name!r} appears twice")
        if name in COLUMNS:
            found[name] = index
        else:
            unknown.append(cell.strip())
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise UsageError(
            f"{source}:1: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            hint=f"the header names the columns: {','.join(COLUMNS)}",
        )
    notes = (f"{source}: ignoring unknown column(s) {', '.join(map(repr, unknown))}",)
    return found, notes if unknown else ()


def _request(
    cells: list[str], columns: dict[str, int], width: int, where: str, line: int
) -> DialRequest:
    if any(extra.strip() for extra in cells[width:]):
        raise UsageError(f"{where}:{width + 1}: {len(cells)} fields but the header has {width}")

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def bad(name: str, message: str) -> UsageError:
        return UsageError(f"{where}:{columns[name] + 1}: {message}")

    if not cell("number"):
        raise bad("number", "number is empty; give a number id, name or digits")
    return DialRequest(
        number=cell("number"),
        digits=_unwrap(cell("digits")),
        stage=_stage(cell("stage"), lambda m: bad("stage", m)),
        api_transfer=_flag(cell("api_transfer"), lambda m: bad("api_transfer", m)),
        expect=_expect(cell("expect"), lambda m: bad("expect", m)),
        line=line,
        columns={name: index + 1 for name, index in columns.items()},
    )


def _unwrap(digits: str) -> str:
    """Excel's text form ``="007"`` is how a careful admin keeps the zeros: take it as 007."""
    match = _EXCEL_TEXT.fullmatch(digits)
    return match.group(1).strip() if match else digits


def _stage(text: str, bad: _Bad) -> Stage:
    value = text.casefold()
    for stage in STAGES:
        if stage == value:
            return stage
    raise bad(f"stage {text!r} is not one of {', '.join(STAGES)}")


def _flag(text: str, bad: _Bad) -> bool:
    value = text.casefold()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        raise bad(f"api_transfer {text!r} is not true/false, yes/no, 1/0 or empty")
    return False


def _expect(text: str, bad: _Bad) -> Outcome | None:
    value = text.casefold()
    if not value:
        return None
    for outcome in OUTCOMES:
        if outcome == value:
            return outcome
    raise bad(f"expect {text!r} is not an outcome: {', '.join(OUTCOMES)}")


def _where(source: str, line: int, column: int | None) -> str:
    return f"{source}:{line}:{column}" if column else f"{source}:{line}"

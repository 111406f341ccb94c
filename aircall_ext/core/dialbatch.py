"""A ``dial --batch`` file: bytes in, :class:`DialRequest` s out, or one :class:`UsageError`.

The file is read like an extensions CSV (:mod:`aircall_ext.core.csvtable`: the same
encodings, delimiters and physical line numbers), but it is a list of commands rather than
data to audit, so the first bad cell stops everything, named as ``FILE:LINE:COLUMN``
(LINE is the physical line, header = 1) in a one-line message. Columns are matched by name
in any case and order; unknown ones are noted once and ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field

from aircall_ext.core.csvtable import Record, decode, location, read_table
from aircall_ext.core.dialterms import OUTCOMES, STAGES, Outcome, Stage
from aircall_ext.core.extensions import unwrap_excel_text
from aircall_ext.core.findings import plural
from aircall_ext.errors import UsageError

_Bad = Callable[[str], UsageError]

COLUMNS = ("number", "digits", "stage", "api_transfer", "expect")
REQUIRED = ("number", "digits", "stage")
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0", ""})


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
class Batch:
    source: str
    requests: tuple[DialRequest, ...]
    notes: tuple[str, ...] = ()  # warnings for people: encoding fallback, ignored columns


def read_dial_batch(data: bytes, *, source: str) -> Batch:
    """Decode and parse a batch file; a cp1252 fallback is noted, not an error."""
    decoded = decode(data)
    notes = () if decoded.bad_line is None else (f"{source} is not UTF-8; read as cp1252",)
    batch = parse_batch(decoded.text, source)
    return Batch(batch.source, batch.requests, notes + batch.notes)


def parse_batch(text: str, source: str) -> Batch:
    """The rows of a batch CSV: header required, columns by name (any case and order)."""
    table = read_table(text, _column_name, _usable)
    header = table.header
    if header is None:
        raise UsageError(
            f"{source}: empty file; expected a header row",
            hint=f"columns: {','.join(COLUMNS)} (api_transfer and expect optional)",
        )
    _readable(header, source)
    columns, notes = _columns(header, source)
    requests = []
    for record in table.rows:
        _readable(record, source)
        requests.append(_request(record, columns, len(header.cells), source))
    if not requests:
        # A CI gate that checked nothing must not pass.
        raise UsageError(
            f"{source}: a header but no rows: nothing to dry-run",
            hint="add one row per call: number,digits,stage[,api_transfer,expect]",
        )
    return Batch(source, tuple(requests), notes)


def _column_name(cell: str) -> str | None:
    name = cell.strip().casefold()
    return name if name in COLUMNS else None


def _usable(known: Set[str]) -> bool:
    return known >= set(REQUIRED)


def _readable(record: Record, source: str) -> None:
    if record.error:
        where = location(source, record.line)
        raise UsageError(f"{where}: cannot read the file from here on: {record.error}")


def _columns(header: Record, source: str) -> tuple[dict[str, int], tuple[str, ...]]:
    """Known column name -> 0-based index; unknown names are noted once and ignored."""
    found: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(header.cells):
        name = cell.strip().casefold()
        if name in found:
            where = location(source, header.line, index + 1)
            raise UsageError(f"{where}: column {name!r} appears twice")
        if name in COLUMNS:
            found[name] = index
        else:
            unknown.append(cell.strip())
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise UsageError(
            f"{location(source, header.line)}: missing "
            f"{plural(len(missing), 'column', counted=False)} {', '.join(missing)}",
            hint=f"the header names the columns: {','.join(COLUMNS)}",
        )
    notes = (f"{source}: ignoring unknown column(s) {', '.join(map(repr, unknown))}",)
    return found, notes if unknown else ()


def _request(record: Record, columns: dict[str, int], width: int, source: str) -> DialRequest:
    cells, line = record.cells, record.line
    if any(extra.strip() for extra in cells[width:]):
        where = location(source, line, width + 1)
        raise UsageError(f"{where}: {len(cells)} fields but the header has {width}")

    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    def bad(name: str, message: str) -> UsageError:
        return UsageError(f"{location(source, line, columns[name] + 1)}: {message}")

    if not cell("number"):
        raise bad("number", "number is empty; give a number id, name or digits")
    return DialRequest(
        number=cell("number"),
        digits=unwrap_excel_text(cell("digits")),
        stage=_stage(cell("stage"), lambda m: bad("stage", m)),
        api_transfer=_flag(cell("api_transfer"), lambda m: bad("api_transfer", m)),
        expect=_expect(cell("expect"), lambda m: bad("expect", m)),
        line=line,
        columns={name: index + 1 for name, index in columns.items()},
    )


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

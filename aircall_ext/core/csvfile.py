"""Reading an extensions CSV: bytes in, rows and findings out, never an exception.

The file comes from people and spreadsheets, so every defect (encoding, delimiter, header,
field count, damaged cells) becomes a :class:`Finding` that names the physical line and
column an admin can open in an editor, and every readable row is still returned so that
one run reports everything at once.

Where SPEC §4 is silent: a usable header needs an identity and an extension column, so a
one-column file is always a ``bad-header`` (the delimiter is sniffed on the header's known
names, never on data); a header with no data row is a ``no-rows`` error (a truncated file
must not pass as "in sync"); NUL bytes in the header mean "not a text file" while elsewhere
they are ordinary (invalid) characters; UTF-16 with a BOM (Excel's "Unicode text") and
Excel's ``sep=;`` first line are accepted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from aircall_ext.core.account import Account
from aircall_ext.core.extensions import ExtensionProblem, parse_extension
from aircall_ext.core.findings import Finding

DELIMITERS = (",", ";", "\t")
EXPORT_COLUMNS = ("user_id", "email", "name", "extension")
STDIN_SOURCE = "<stdin>"

# Header names after casefolding and dropping everything but letters and digits, so that
# "User ID", "user-id", "E-Mail" and "Ext." all match without listing every spelling.
_ALIASES: dict[str, str] = {
    "userid": "user_id",
    "id": "user_id",
    "email": "email",
    "mail": "email",
    "emailaddress": "email",
    "useremail": "email",
    "extension": "extension",
    "ext": "extension",
    "extn": "extension",
    "extno": "extension",
    "extnumber": "extension",
    "extensionnumber": "extension",
    "extensionno": "extension",
    # Informational only (export writes it); never used to find a user.
    "name": "name",
    "fullname": "name",
    "displayname": "name",
    "username": "name",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what output.neutralise_cell guards
_USER_ID = re.compile(r"[0-9]{1,18}")
_EXCEL_TEXT = re.compile(r'="(.*)"', re.DOTALL)
_SEP_HINT = re.compile(r"sep=(.)", re.IGNORECASE)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_MAX_SHOWN = 40  # cells echoed in messages are cut to this many characters


@dataclass(frozen=True)
class CsvRow:
    """One data row that names a user; cell problems are findings, not exceptions."""

    line: int  # 1-based physical line where the row starts (header = 1)
    user_id: int | None
    email: str | None
    extension: str | None  # valid extension; None when blank (no change) or damaged
    raw_extension: str
    columns: Mapping[str, int] = field(hash=False, repr=False)  # canonical name -> position
    name: str | None = None
    problem: ExtensionProblem | None = None  # set when the cell is damaged (not blank)

    @property
    def is_blank(self) -> bool:
        """A blank extension cell: the row asks for no change."""
        return self.extension is None and self.problem is None


@dataclass(frozen=True)
class CsvFile:
    """What could be read, and why the rest could not."""

    source: str
    rows: tuple[CsvRow, ...]
    findings: tuple[Finding, ...]
    encoding: str
    delimiter: str
    columns: Mapping[str, int] = field(default_factory=dict, hash=False)
    header_line: int | None = None

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def canonical_column(header: str) -> str | None:
    """The column a header cell names (``user_id``, ``email``, ``extension``, ``name``)."""
    key = re.sub(r"[^0-9a-z]", "", header.casefold())
    return _ALIASES.get(key)


def read_extension_csv(data: bytes, *, source: str) -> CsvFile:
    """Parse an extensions CSV. Never raises: every defect is a finding."""
    source = STDIN_SOURCE if source == "-" else source
    text, encoding, findings = _decode(data, source)
    delimiter, skip_first = _choose_delimiter(text)
    previous_limit = csv.field_size_limit()
    # The whole input is in memory already, so no field can exceed it; the default limit
    # (128 KiB) would only turn a long cell into a reader error that derails the rows after.
    csv.field_size_limit(max(previous_limit, len(text) + 1))
    try:
        reader = _Reader(source, findings)
        rows, columns, header_line = reader.read(_records(text, delimiter, skip_first))
    finally:
        csv.field_size_limit(previous_limit)
    return CsvFile(
        source=source,
        rows=tuple(rows),
        findings=tuple(findings),
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        header_line=header_line,
    )


def location(source: str, line: int | None, column: int | None = None) -> str:
    """``FILE:LINE:COL`` as compilers print it, so editors can jump there."""
    parts = [source] + [str(n) for n in (line, column) if n is not None]
    return ":".join(parts)


def shown(text: str) -> str:
    """A cell for a message: quoted, and cut so a huge cell cannot flood the output."""
    if len(text) <= _MAX_SHOWN:
        return repr(text)
    return repr(text[:_MAX_SHOWN]) + f"... ({len(text)} characters)"


def export_rows(account: Account) -> list[dict[str, object]]:
    """Every user, sorted like ``list``, in the columns :func:`read_extension_csv` reads back.

    Users without an extension are kept with a blank cell: re-imported it means "no
    change", and filling those cells in is how an admin assigns the missing ones.
    """
    return [
        {"user_id": u.id, "email": u.email, "name": u.name, "extension": u.extension}
        for u in account.users_by_extension()
    ]


# -- decoding -------------------------------------------------------------------------


def _decode(data: bytes, source: str) -> tuple[str, str, list[Finding]]:
    """UTF-8 (BOM or not), UTF-16 with a BOM (Excel's "Unicode text"), else cp1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError:
            pass
    body, encoding = (
        (data[3:], "utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else (data, "utf-8")
    )
    try:
        return body.decode("utf-8"), encoding, []
    except UnicodeDecodeError as err:
        line = body.count(b"\n", 0, err.start) + 1
    warning = Finding(
        "encoding-fallback",
        f"{location(source, line)}: not valid UTF-8 (first bad byte on line {line}); "
        "read as Windows-1252: check accented names, or save the file as UTF-8",
        line=line,
    )
    # cp1252 leaves five bytes undefined; replace them rather than fail on binary input.
    return body.decode("cp1252", errors="replace"), "cp1252", [warning]


# -- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    line: int  # first physical line
    end_line: int  # last physical line (> line when a quoted cell holds newlines)
    cells: list[str]
    error: str | None = None  # the csv module gave up here


def _records(text: str, delimiter: str, skip_first: bool = False) -> Iterator[_Record]:
    """Records with their physical line span; ``line_num`` counts lines, not records."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # not expected with strict=False; never let it escape
            yield _Record(start, reader.line_num, [], error=str(err))
            return
        if skip_first and start == 1:
            continue
        yield _Record(start, reader.line_num, cells)


def _is_blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _choose_delimiter(text: str) -> tuple[str, bool]:
    """The delimiter, and whether line 1 is Excel's ``sep=;`` hint (which says it)."""
    hint = _SEP_HINT.fullmatch(_NEWLINE.split(text, maxsplit=1)[0])
    if hint and hint.group(1) in DELIMITERS:
        return hint.group(1), True
    return max(DELIMITERS, key=lambda d: _header_score(text, d)), False


def _header_score(text: str, delimiter: str) -> tuple[bool, int, int, int]:
    """Prefer the delimiter whose header names a usable set of known columns.

    Sniffing on the header rather than on data keeps names like "Smith, Ann" or a
    semicolon in a cell from changing the verdict; a delimiter that yields no known name
    only wins by splitting the header into more cells (for a useful bad-header message).
    """
    header = next((r.cells for r in _records(text, delimiter) if not _is_blank(r.cells)), [])
    known = {canonical_column(cell) for cell in header} - {None}
    usable = "extension" in known and bool(known & {"user_id", "email"})
    return usable, len(known), len(header), -DELIMITERS.index(delimiter)


# -- header and rows ------------------------------------------------------------------


class _Reader:
    """Turns records into rows, appending findings as it goes."""

    def __init__(self, source: str, findings: list[Finding]) -> None:
        self.source = source
        self.findings = findings

    def report(
        self,
        code: str,
        line: int,
        column: int | None,
        message: str,
        *,
        user_id: int | None = None,
        email: str | None = None,
    ) -> None:
        where = location(self.source, line, column)
        self.findings.append(
            Finding(code, f"{where}: {message}", user_id, email, line=line, column=column)
        )

    def read(
        self, records: Iterator[_Record]
    ) -> tuple[list[CsvRow], Mapping[str, int], int | None]:
        header = next((r for r in records if r.error or not _is_blank(r.cells)), None)
        columns = self._header(header)
        if header is None or columns is None:
            return [], {}, header.line if header else None
        rows: list[CsvRow] = []
        seen_data = False
        for record in records:
            if record.error is None and _is_blank(record.cells):
                continue
            seen_data = True
            row = self._row(record, len(header.cells), columns)
            if row is not None:
                rows.append(row)
        if not seen_data:
            self.report("no-rows", header.line, None, "the file has a header but no data rows")
        return rows, columns, header.line

    def _header(self, record: _Record | None) -> Mapping[str, int] | None:
        """Column positions by canonical name, or None after a bad-header finding."""
        expected = "expected a header naming user_id and/or email, and extension"
        if record is None:
            self.report("bad-header", 1, None, f"the file is empty: {expected}")
            return None
        if record.error:
            self.report("bad-header", record.line, None, f"unreadable header: {record.error}")
            return None
        if any("\x00" in cell for cell in record.cells):
            why = "a binary file, or UTF-16 saved without a byte order mark?"
            self.report("bad-header", record.line, None, f"NUL bytes: not a text CSV ({why})")
            return None
        mapped = self._columns(record)
        if mapped is None:
            return None
        columns, unknown = mapped
        if "extension" not in columns or not {"user_id", "email"} & columns.keys():
            found = ", ".join(shown(c.strip()) for c in record.cells)
            self.report("bad-header", record.line, None, f"{expected} (found {found})")
            return None
        if unknown:  # once for the file, not once per row
            names = ", ".join(f"{shown(name)} ({position})" for position, name in unknown)
            self.report("unknown-column", record.line, unknown[0][0], f"ignoring column(s) {names}")
        return MappingProxyType(columns)

    def _columns(self, record: _Record) -> tuple[dict[str, int], list[tuple[int, str]]] | None:
        """Known names by position, and the unknown ones; None when a name is ambiguous."""
        columns: dict[str, int] = {}
        unknown: list[tuple[int, str]] = []
        for position, cell in enumerate(record.cells, start=1):
            name = canonical_column(cell)
            if name is None:
                unknown.append((position, cell.strip()))
            elif name in columns:
                both = f"columns {columns[name]} and {position} both mean {name}: keep one"
                self.report("bad-header", record.line, position, both)
                return None
            else:
                columns[name] = position
        return columns, unknown

    def _row(self, record: _Record, width: int, columns: Mapping[str, int]) -> CsvRow | None:
        """One row, or None when it names no usable user (after reporting why)."""
        line = record.line
        if record.error:
            self.report("bad-row", line, None, f"cannot read the file from here on: {record.error}")
            return None
        cells = record.cells
        if len(cells) != width:
            self.report("bad-row", line, None, self._width_message(record, width))
            return None

        def cell(name: str) -> str:
            return cells[columns[name] - 1] if name in columns else ""

        user_id, id_ok = self._user_id(cell("user_id"), line, columns.get("user_id"))
        email = _text(cell("email"))
        raw = cell("extension")
        extension, problem = self._extension(raw, line, columns["extension"], user_id, email)
        if not id_ok:
            return None
        if user_id is None and email is None:
            first = min(columns[c] for c in ("user_id", "email") if c in columns)
            self.report(
                "bad-row", line, first, "the row names no user: user_id and email are empty"
            )
            return None
        return CsvRow(line, user_id, email, extension, raw, columns, _text(cell("name")), problem)

    def _width_message(self, record: _Record, width: int) -> str:
        message = f"the row has {len(record.cells)} fields, the header has {width}"
        if record.end_line > record.line:
            message += f" (the row runs to line {record.end_line}: an unbalanced quote?)"
        elif len(record.cells) == 1 and any(d in record.cells[0] for d in DELIMITERS):
            message += " (a different delimiter than the header's?)"
        return message

    def _user_id(self, raw: str, line: int, column: int | None) -> tuple[int | None, bool]:
        value = raw.strip()
        excel = _EXCEL_TEXT.fullmatch(value)  # ="42", the spreadsheet's text form
        value = excel.group(1).strip() if excel else value
        if not value:
            return None, True
        if _USER_ID.fullmatch(value):
            return int(value), True
        self.report(
            "bad-row", line, column, f"user_id {shown(value)} is not a user id (digits only)"
        )
        return None, False

    def _extension(
        self, raw: str, line: int, column: int, user_id: int | None, email: str | None
    ) -> tuple[str | None, ExtensionProblem | None]:
        parsed = parse_extension(raw)
        if isinstance(parsed, str):
            return parsed, None
        if parsed.code == "empty":
            self.report(
                "blank-extension",
                line,
                column,
                "extension is blank: no change",
                user_id=user_id,
                email=email,
            )
            return None, None
        message = f"extension: {parsed.message}"
        if "\n" in raw or "\r" in raw:
            message += " (the cell spans several lines: an unbalanced quote?)"
        self.report("invalid-extension", line, column, message, user_id=user_id, email=email)
        return None, parsed


def _text(cell: str) -> str | None:
    """A text cell, stripped, with export's formula neutralisation undone; None if blank."""
    value = cell.lstrip()
    if value.startswith("'") and value[1:].startswith(_FORMULA_START):
        value = value[1:]  # before any rstrip: "'\t" is a neutralised TAB, not a quote
    return value.strip() or None

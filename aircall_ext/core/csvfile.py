"""Reading an extensions CSV: bytes in, rows and findings out, never an exception.

The file comes from people and spreadsheets, so every defect (encoding, delimiter, header,
field count, damaged cells) becomes a :class:`Finding` that names the physical line and
column an admin can open in an editor, and every readable row is still returned so that
one run reports everything at once.

Choices the format leaves open: a usable header needs an identity and an extension column, so a
one-column file is always a ``bad-header`` (the delimiter is sniffed on the header's known
names, never on data); a header with no data row is a ``no-rows`` error (a truncated file
must not pass as "in sync"); NUL bytes in the header mean "not a text file" while elsewhere
they are ordinary (invalid) characters; UTF-16 with a BOM (Excel's "Unicode text") and
Excel's ``sep=;`` first line are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from types import MappingProxyType

from aircall_ext.columns import Columns
from aircall_ext.core.account import Account
from aircall_ext.core.csvtable import (
    DELIMITERS,
    STDIN_SOURCE,
    Record,
    Table,
    decode,
    location,
    read_table,
)
from aircall_ext.core.extensions import ExtensionProblem, parse_extension, unwrap_excel_text
from aircall_ext.core.findings import Finding
from aircall_ext.names import FORMULA_START

EXPORT_COLUMNS = Columns.of("user_id", "email", "name", "extension")

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
_USER_ID = re.compile(r"[0-9]{1,18}")
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

    def finding(self, code: str, row: CsvRow, column: str, message: str) -> Finding:
        """A finding about ``row``, at its ``column`` cell: ``FILE:LINE:COLUMN: message``."""
        position = row.columns.get(column)
        return Finding(
            code,
            f"{location(self.source, row.line, position)}: {message}",
            user_id=row.user_id,
            email=row.email,
            extension=row.extension,
            line=row.line,
            column=position,
        )


def canonical_column(header: str) -> str | None:
    """The column a header cell names (``user_id``, ``email``, ``extension``, ``name``)."""
    key = re.sub(r"[^0-9a-z]", "", header.casefold())
    return _ALIASES.get(key)


def read_extension_csv(data: bytes, *, source: str) -> CsvFile:
    """Parse an extensions CSV. Never raises: every defect is a finding."""
    source = STDIN_SOURCE if source == "-" else source
    decoded = decode(data)
    findings = [] if decoded.bad_line is None else [_fallback(source, decoded.bad_line)]
    table = read_table(decoded.text, canonical_column, _usable)
    rows, columns, header_line = _Reader(source, findings).read(table)
    return CsvFile(
        source=source,
        rows=tuple(rows),
        findings=tuple(findings),
        encoding=decoded.encoding,
        delimiter=table.delimiter,
        columns=columns,
        header_line=header_line,
    )


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


# -- decoding and delimiter ------------------------------------------------------------


def _fallback(source: str, line: int) -> Finding:
    return Finding(
        "encoding-fallback",
        f"{location(source, line)}: not valid UTF-8 (first bad byte on line {line}); "
        "read as Windows-1252: check accented names, or save the file as UTF-8",
        line=line,
    )


def _usable(known: Set[str]) -> bool:
    """A header the reader can use: an identity column and an extension column."""
    return "extension" in known and bool(known & {"user_id", "email"})


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

    def read(self, table: Table) -> tuple[list[CsvRow], Mapping[str, int], int | None]:
        header = table.header
        columns = self._header(header)
        if header is None or columns is None:
            return [], {}, header.line if header else None
        rows: list[CsvRow] = []
        seen_data = False
        for record in table.rows:
            seen_data = True
            row = self._row(record, len(header.cells), columns)
            if row is not None:
                rows.append(row)
        if not seen_data:
            self.report("no-rows", header.line, None, "the file has a header but no data rows")
        return rows, columns, header.line

    def _header(self, record: Record | None) -> Mapping[str, int] | None:
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

    def _columns(self, record: Record) -> tuple[dict[str, int], list[tuple[int, str]]] | None:
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

    def _row(self, record: Record, width: int, columns: Mapping[str, int]) -> CsvRow | None:
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

    def _width_message(self, record: Record, width: int) -> str:
        message = f"the row has {len(record.cells)} fields, the header has {width}"
        if record.end_line > record.line:
            message += f" (the row runs to line {record.end_line}: an unbalanced quote?)"
        elif len(record.cells) == 1 and any(d in record.cells[0] for d in DELIMITERS):
            message += " (a different delimiter than the header's?)"
        return message

    def _user_id(self, raw: str, line: int, column: int | None) -> tuple[int | None, bool]:
        value = unwrap_excel_text(raw)  # ="42", the spreadsheet's text form
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
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        value = value[1:]  # before any rstrip: "'\t" is a neutralised TAB, not a quote
    return value.strip() or None

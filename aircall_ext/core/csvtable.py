"""Delimited text as people and spreadsheets save it: the generic half of every CSV reader.

Shared by the extensions CSV (:mod:`aircall_ext.core.csvfile`) and the ``dial --batch``
file (:mod:`aircall_ext.core.dialbatch`), so both accept the same encodings (UTF-8 with or
without BOM, UTF-16 with a BOM, else cp1252), the same delimiters (``,`` ``;`` TAB, or
Excel's ``sep=;`` first line) and number lines the same way: physical lines of the file,
header = 1, a quoted cell holding newlines counting as the lines it spans.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t")
STDIN_SOURCE = "<stdin>"

_SEP_HINT = re.compile(r"sep=(.)", re.IGNORECASE)
_NEWLINE = re.compile(r"\r\n|\r|\n")


def location(source: str, line: int | None, column: int | None = None) -> str:
    """``FILE:LINE:COL`` as compilers print it, so editors can jump there."""
    parts = [source] + [str(n) for n in (line, column) if n is not None]
    return ":".join(parts)


# -- decoding -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # utf-8, utf-8-sig, utf-16 or cp1252
    bad_line: int | None = None  # cp1252 only: the line of the first byte that is not UTF-8


def decode(data: bytes) -> Decoded:
    """UTF-8 (BOM or not), UTF-16 with a BOM (Excel's "Unicode text"), else cp1252.

    The fallback never fails: the five bytes cp1252 leaves undefined are replaced, so
    binary input still becomes text for the reader to diagnose.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return Decoded(data.decode("utf-16"), "utf-16")
        except UnicodeDecodeError:
            pass
    body, encoding = (
        (data[3:], "utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else (data, "utf-8")
    )
    try:
        return Decoded(body.decode("utf-8"), encoding)
    except UnicodeDecodeError as err:
        line = body.count(b"\n", 0, err.start) + 1
    return Decoded(body.decode("cp1252", errors="replace"), "cp1252", line)


# -- records --------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    line: int  # first physical line
    end_line: int  # last physical line (> line when a quoted cell holds newlines)
    cells: list[str]
    error: str | None = None  # the csv module gave up here


def records(text: str, delimiter: str, skip_first: bool = False) -> Iterator[Record]:
    """Records with their physical line span; ``line_num`` counts lines, not records.

    The whole input is in memory already, so no field can exceed it: the csv module's
    field size limit (128 KiB by default) is lifted to the text's length while a record is
    read, instead of turning a long cell into an error that derails the rows after it.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    limit = len(text) + 1
    while True:
        start = reader.line_num + 1
        previous = csv.field_size_limit()
        csv.field_size_limit(max(previous, limit))
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # not expected with strict=False; never let it escape
            yield Record(start, reader.line_num, [], error=str(err))
            return
        finally:
            csv.field_size_limit(previous)
        if skip_first and start == 1:
            continue
        yield Record(start, reader.line_num, cells)


def is_blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def header_record(rows: Iterator[Record]) -> Record | None:
    """The first record that is not blank (or where the csv module gave up), consumed."""
    return next(_not_blank(rows), None)


def _not_blank(rows: Iterator[Record]) -> Iterator[Record]:
    """The records that hold data, or where the csv module gave up."""
    return (r for r in rows if r.error or not is_blank(r.cells))


# -- delimiter ------------------------------------------------------------------------


def choose_delimiter(
    text: str,
    canonical: Callable[[str], str | None],
    usable: Callable[[Set[str]], bool],
) -> tuple[str, bool]:
    """The delimiter, and whether line 1 is Excel's ``sep=;`` hint (which says it).

    ``canonical`` names the known column a header cell means (None if unknown); ``usable``
    says whether a set of known names is enough for the reader. The delimiter is sniffed on
    the header rather than on data, so names like "Smith, Ann" or a semicolon in a cell
    cannot change the verdict: a usable header wins, then more known names, and a delimiter
    that yields no known name only wins by splitting the header into more cells (for a
    useful message about the header).
    """
    hint = _SEP_HINT.fullmatch(_NEWLINE.split(text, maxsplit=1)[0])
    if hint and hint.group(1) in DELIMITERS:
        return hint.group(1), True

    def score(delimiter: str) -> tuple[bool, int, int, int]:
        header = header_record(records(text, delimiter))
        cells = header.cells if header else []
        known = {name for name in map(canonical, cells) if name is not None}
        return usable(known), len(known), len(cells), -DELIMITERS.index(delimiter)

    return max(DELIMITERS, key=score), False


# -- the table ------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    delimiter: str
    header: Record | None  # None: the text holds no record that is not blank
    rows: Iterator[Record]  # after the header: records holding data or a read error


def read_table(
    text: str,
    canonical: Callable[[str], str | None],
    usable: Callable[[Set[str]], bool],
) -> Table:
    """Sniff the delimiter (see :func:`choose_delimiter`), find the header, skip blank rows."""
    delimiter, skip_first = choose_delimiter(text, canonical, usable)
    rows = records(text, delimiter, skip_first)
    return Table(delimiter, header_record(rows), _not_blank(rows))

"""The generic CSV pieces both readers share: decoding, records, delimiter choice."""

from __future__ import annotations

import csv
from collections.abc import Set

from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.core.csvtable import choose_delimiter, decode, header_record, records


def test_decode_names_the_encoding_and_the_first_line_that_is_not_utf8() -> None:
    assert (decode(b"a\nb").encoding, decode(b"a\nb").bad_line) == ("utf-8", None)
    bom = decode("\ufeffé".encode())
    assert (bom.text, bom.encoding) == ("é", "utf-8-sig")
    utf16 = decode(b"\xfe\xff" + "é\n".encode("utf-16-be"))
    assert (utf16.text, utf16.encoding) == ("é\n", "utf-16")
    fallback = decode(b"ok\nok\nGen\xe8ve\n")
    assert (fallback.text, fallback.encoding, fallback.bad_line) == (
        "ok\nok\nGenève\n",
        "cp1252",
        3,
    )


@given(st.binary(max_size=200))
def test_decode_never_fails(data: bytes) -> None:
    decoded = decode(data)
    assert (decoded.bad_line is not None) == (decoded.encoding == "cp1252")


def test_records_carry_their_physical_line_span() -> None:
    got = [(r.line, r.end_line, r.cells) for r in records('a,b\r\n\r\n"x\ny",z\nlast,1', ",")]
    assert got == [(1, 1, ["a", "b"]), (2, 2, []), (3, 4, ["x\ny", "z"]), (5, 5, ["last", "1"])]
    assert [r.line for r in records("sep=,\na\n", ",", skip_first=True)] == [2]


def test_records_leave_the_csv_field_limit_as_they_found_it() -> None:
    before = csv.field_size_limit()
    [record] = records("x" * (before + 10), ",")
    assert len(record.cells[0]) == before + 10 and record.error is None
    assert csv.field_size_limit() == before


def test_header_record_skips_blank_records() -> None:
    header = header_record(records("\n , \nname\n", ","))
    assert header is not None and (header.line, header.cells) == (3, ["name"])
    assert header_record(records("\n\n", ",")) is None


def _known(cell: str) -> str | None:
    name = cell.strip().casefold()
    return name if name in {"a", "b", "c"} else None


def _usable(names: Set[str]) -> bool:
    return {"a", "b"} <= names


def test_choose_delimiter_prefers_a_usable_header_then_known_names_then_cells() -> None:
    assert choose_delimiter("a;b;c,d,e,f\n", _known, _usable) == (";", False)
    assert choose_delimiter("a\tc\n1,2,3\n", _known, _usable) == ("\t", False)
    assert choose_delimiter("x;y;z\n", _known, _usable) == (";", False)
    assert choose_delimiter("", _known, _usable) == (",", False)
    assert choose_delimiter("SEP=\t\r\na,b\n", _known, _usable) == ("\t", True)

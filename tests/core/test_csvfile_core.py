"""The extensions CSV reader: every defect becomes a finding with a physical line and column."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from aircall_ext.core.csvfile import CsvFile, canonical_column, read_extension_csv
from aircall_ext.core.findings import SEVERITY, Finding
from aircall_ext.output import neutralise_cell

# "no-rows" (a header and nothing else) has no severity of its own; it defaults to an error.
KNOWN_CODES = {*SEVERITY, "no-rows"}


def read(text: str | bytes, source: str = "team.csv") -> CsvFile:
    data = text.encode() if isinstance(text, str) else text
    return read_extension_csv(data, source=source)


def codes(csv_file: CsvFile) -> list[tuple[str, int | None, int | None]]:
    return [(f.code, f.line, f.column) for f in csv_file.findings]


def only(csv_file: CsvFile, code: str) -> Finding:
    found = [f for f in csv_file.findings if f.code == code]
    assert len(found) == 1, csv_file.findings
    return found[0]


# -- header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("user_id", "user_id"),
        (" User ID ", "user_id"),
        ("USERID", "user_id"),
        ("user-id", "user_id"),
        ("id", "user_id"),
        ("E-Mail", "email"),
        ("mail", "email"),
        ("Email Address", "email"),
        ("Ext.", "extension"),
        ("Extension Number", "extension"),
        ("extension", "extension"),
        ("Name", "name"),
        ("team", None),
        ("", None),
    ],
)
def test_header_names_are_matched_loosely(header: str, expected: str | None) -> None:
    assert canonical_column(header) == expected


def test_columns_in_any_order_and_case() -> None:
    csv_file = read("EXT,Name,E-mail,ID\n101,Ann,ann@example.com,7\n")
    assert csv_file.findings == ()
    [row] = csv_file.rows
    assert (row.user_id, row.email, row.name, row.extension) == (7, "ann@example.com", "Ann", "101")
    assert dict(row.columns) == {"extension": 1, "name": 2, "email": 3, "user_id": 4}


def test_either_identity_column_is_enough() -> None:
    assert read("email,extension\na@x.io,101\n").rows[0].email == "a@x.io"
    assert read("user_id,extension\n5,101\n").rows[0].user_id == 5


def test_unknown_columns_are_noted_once_not_per_row() -> None:
    body = "".join(f"{n},{n}00,x,y\n" for n in range(1, 6))
    csv_file = read("user_id,extension,Team,Site\n" + body)
    finding = only(csv_file, "unknown-column")
    assert (finding.severity, finding.line, finding.column) == ("info", 1, 3)
    assert "'Team' (3)" in finding.message and "'Site' (4)" in finding.message
    assert len(csv_file.rows) == 5


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("\n\n  \n", "empty"),
        ("name,team\nAnn,x\n", "found 'name', 'team'"),
        ("user_id,email\n1,a@x.io\n", "extension"),
        ("extension\n101\n", "user_id"),
        ("user_id\n1\n", "user_id"),
    ],
)
def test_unusable_header_is_one_bad_header_on_line_1(text: str, why: str) -> None:
    csv_file = read(text)
    finding = only(csv_file, "bad-header")
    assert finding.line == 1
    assert why in finding.message
    assert finding.message.startswith("team.csv:1:")
    assert csv_file.rows == ()


def test_two_columns_meaning_the_same_thing_is_a_bad_header() -> None:
    csv_file = read("id,extension,user_id\n1,101,1\n")
    finding = only(csv_file, "bad-header")
    assert (finding.line, finding.column) == (1, 3)
    assert "columns 1 and 3 both mean user_id" in finding.message
    assert csv_file.rows == ()


def test_header_after_leading_blank_lines_keeps_physical_line_numbers() -> None:
    csv_file = read("\n\nuser_id,extension\n1,7\n")
    assert csv_file.header_line == 3
    assert codes(csv_file) == [("invalid-extension", 4, 2)]


def test_header_without_rows_is_reported() -> None:
    csv_file = read("user_id,extension\r\n\r\n,\r\n")
    finding = only(csv_file, "no-rows")
    assert finding.severity == "error"
    assert finding.line == 1


# -- delimiter, encoding, line endings -------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_sniffed_from_the_header(delimiter: str) -> None:
    # Names that contain the other candidate delimiters must not sway the sniffing.
    lines = [["user_id", "name", "extension"], ["1", "Smith, Ann; jr", "101"], ["2", "B\tC", ""]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(lines)
    csv_file = read(buffer.getvalue())
    assert csv_file.delimiter == delimiter
    assert [(r.user_id, r.name, r.extension) for r in csv_file.rows] == [
        (1, "Smith, Ann; jr", "101"),
        (2, "B\tC", None),
    ]


def test_excel_sep_hint_line_sets_the_delimiter() -> None:
    csv_file = read("sep=;\r\nuser_id;extension;name\r\n1;101;a,b,c,d\r\n")
    assert csv_file.delimiter == ";"
    assert csv_file.header_line == 2
    assert csv_file.rows[0].line == 3
    assert csv_file.rows[0].name == "a,b,c,d"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline: str) -> None:
    text = newline.join(["user_id,extension", "1,101", "", "2,7", ""])
    csv_file = read(text)
    assert [r.line for r in csv_file.rows] == [2, 4]
    assert codes(csv_file) == [("invalid-extension", 4, 2)]


def test_line_numbers_count_newlines_inside_quoted_cells() -> None:
    text = 'user_id,name,extension\n1,"two\nline name",101\n2,"three\r\nline\nname",102\n3,x,1\n'
    csv_file = read(text)
    assert [r.line for r in csv_file.rows] == [2, 4, 7]
    assert codes(csv_file) == [("invalid-extension", 7, 3)]


def test_utf8_bom_is_accepted() -> None:
    csv_file = read(b"\xef\xbb\xbfuser_id,name,extension\n1,Zo\xc3\xa9,101\n")
    assert csv_file.findings == ()
    assert csv_file.encoding == "utf-8-sig"
    assert csv_file.rows[0].name == "Zoé"


def test_cp1252_fallback_warns_with_the_first_bad_line() -> None:
    csv_file = read(b"user_id,name,extension\n1,Ann,101\n2,Zo\xe9 \x80,102\n")
    finding = only(csv_file, "encoding-fallback")
    assert (finding.severity, finding.line) == ("warning", 3)
    assert csv_file.encoding == "cp1252"
    assert csv_file.rows[1].name == "Zoé €"


def test_utf16_with_bom_as_excel_unicode_text_saves_it() -> None:
    csv_file = read("user_id\textension\r\n1\t007\r\n".encode("utf-16"))
    assert csv_file.encoding == "utf-16"
    assert csv_file.findings == ()
    assert csv_file.rows[0].extension == "007"


def test_stdin_source_is_named_for_messages() -> None:
    csv_file = read("user_id,extension\n1,7\n", source="-")
    assert csv_file.source == "<stdin>"
    assert csv_file.findings[0].message.startswith("<stdin>:2:2: ")


# -- rows -----------------------------------------------------------------------------


def test_wrong_field_count_names_the_physical_line() -> None:
    csv_file = read("user_id,email,extension\n1,a@x.io,101\n2,b@x.io\n3,c@x.io,103,extra\n")
    assert codes(csv_file) == [("bad-row", 3, None), ("bad-row", 4, None)]
    assert "2 fields, the header has 3" in csv_file.findings[0].message
    assert [r.user_id for r in csv_file.rows] == [1]


def test_unbalanced_quote_is_hinted() -> None:
    csv_file = read('user_id,name,extension\n1,"Ann,101\n2,Bob,102\n')
    finding = only(csv_file, "bad-row")
    assert finding.line == 2
    assert "unbalanced quote" in finding.message


def test_row_with_another_delimiter_is_hinted() -> None:
    finding = only(read("user_id,extension\n1;101\n"), "bad-row")
    assert "different delimiter" in finding.message


def test_fully_blank_lines_are_skipped_silently() -> None:
    csv_file = read("user_id,email,extension\n\n , ,\n,,\n1,,101\n")
    assert csv_file.findings == ()
    assert [r.line for r in csv_file.rows] == [5]


@pytest.mark.parametrize("cell", ["12.0", "abc", "1e5", "-3", "9" * 30, "1 2"])
def test_user_id_that_is_not_an_integer_is_a_bad_row(cell: str) -> None:
    csv_file = read(f"user_id,extension\n{cell},101\n")
    finding = only(csv_file, "bad-row")
    assert (finding.line, finding.column) == (2, 1)
    assert "user_id" in finding.message
    assert csv_file.rows == ()


def test_row_naming_no_user_is_a_bad_row() -> None:
    csv_file = read("email,user_id,extension\n , ,101\n")
    finding = only(csv_file, "bad-row")
    assert (finding.line, finding.column) == (2, 1)
    assert csv_file.rows == ()


def test_nul_byte_in_a_cell_is_judged_like_any_other_character() -> None:
    # Only the header's NUL means "not a text file"; in an unused cell it is harmless data.
    csv_file = read(b"user_id,name,extension\n1,a\x00b,101\n2,b,1\x0002\n")
    assert codes(csv_file) == [("invalid-extension", 3, 3)]
    assert [(r.user_id, r.name) for r in csv_file.rows] == [(1, "a\x00b"), (2, "b")]


def test_nul_bytes_in_the_header_mean_not_a_text_file() -> None:
    csv_file = read("user_id,extension\n1,101\n".encode("utf-16-le"))
    assert "NUL" in only(csv_file, "bad-header").message


# -- extension cells ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("007", "007"), ('"=""007"""', "007"), (" 101 ", "101"), ('"=""101"""', "101")],
)
def test_valid_extension_cells(cell: str, expected: str) -> None:
    csv_file = read(f"user_id,extension\n1,{cell}\n")
    assert csv_file.findings == ()
    assert csv_file.rows[0].extension == expected


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("7", "leading zeros lost? did you mean 007?"),
        ("07", "did you mean 007?"),
        ("101.0", "decimal"),
        ("1.01E+02", "scientific"),
        ("1O1", "not an extension"),
        ("1234", "4 digits"),
    ],
)
def test_damaged_extension_is_diagnosed_with_line_and_column(cell: str, words: str) -> None:
    csv_file = read(f"email,user_id,extension\nann@x.io,1,{cell}\n")
    finding = only(csv_file, "invalid-extension")
    assert (finding.severity, finding.line, finding.column) == ("error", 2, 3)
    assert finding.message.startswith("team.csv:2:3: extension: ")
    assert words in finding.message
    assert (finding.user_id, finding.email) == (1, "ann@x.io")
    # The row is still read (so the identity checks can run), but wants nothing.
    [row] = csv_file.rows
    assert (row.extension, row.raw_extension) == (None, cell)
    assert row.problem is not None


@pytest.mark.parametrize("cell", ["", "  ", '"="""""'])
def test_blank_extension_means_no_change(cell: str) -> None:
    csv_file = read(f"user_id,extension\n1,{cell}\n")
    finding = only(csv_file, "blank-extension")
    assert (finding.severity, finding.line, finding.column) == ("info", 2, 2)
    assert "no change" in finding.message
    assert (csv_file.rows[0].extension, csv_file.rows[0].problem) == (None, None)


def test_neutralised_export_cells_read_back_as_written() -> None:
    name, email = "=HYPERLINK(1)", "-odd@x.io"
    text = f"user_id,email,name,extension\n1,{neutralise_cell(email)},{neutralise_cell(name)},101\n"
    [row] = read(text).rows
    assert (row.email, row.name) == (email, name)


def test_huge_cells_are_read_and_the_csv_field_limit_is_restored() -> None:
    limit = csv.field_size_limit()
    big = "x" * (limit * 3)
    csv_file = read(f'user_id,name,extension\n1,"{big}",101\n2,y,{big}\n3,z,103\n')
    assert csv.field_size_limit() == limit
    assert [r.user_id for r in csv_file.rows] == [1, 2, 3]
    assert csv_file.rows[0].name == big
    finding = only(csv_file, "invalid-extension")
    assert finding.line == 3
    assert len(finding.message) < 300


# -- properties -----------------------------------------------------------------------


@settings(max_examples=500)
@given(st.binary(max_size=300))
@example(b"\xff\xfe\x00")
@example(b'user_id,extension\n"')
@example(b"user_id,extension\r\n1,\x00\r")
@example(b"sep=;\n")
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    csv_file = read(data)
    lines = max(1, len(data.splitlines()) + 1)
    for finding in csv_file.findings:
        assert finding.code in KNOWN_CODES
        assert finding.line is not None and 1 <= finding.line <= lines
        assert finding.message.startswith("team.csv:")
    for row in csv_file.rows:
        assert row.user_id is not None or row.email is not None
        assert row.extension is None or len(row.extension) == 3


def physical_line(text_before: str) -> int:
    """The 1-based line a record starts on, counted as editors count line breaks."""
    return 1 + len(re.findall(r"\r\n|\r|\n", text_before))


# Names are informational; one starting with a quote is ambiguous with a neutralised cell.
names = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00")).filter(
    lambda n: not n.strip().startswith("'")
)
rows_strategy = st.lists(
    st.tuples(
        st.integers(1, 10**12),
        st.from_regex(r"[a-z0-9._+=-]{1,12}@[a-z]{1,8}\.io", fullmatch=True),
        names,
        st.one_of(st.none(), st.integers(0, 999).map(lambda n: f"{n:03d}")),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300)
@given(
    rows_strategy,
    st.sampled_from([",", ";", "\t"]),
    st.sampled_from(["\n", "\r\n"]),
    st.sampled_from(["utf-8", "utf-8-sig"]),
    st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_round_trip_of_valid_rows_with_physical_lines(
    rows: list[tuple[int, str, str, str | None]],
    delimiter: str,
    newline: str,
    encoding: str,
    blank_before: list[bool],
) -> None:
    buffer = io.StringIO()
    # QUOTE_ALL: csv.writer leaves a lone CR unquoted when the terminator is LF.
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline, quoting=csv.QUOTE_ALL)
    writer.writerow(["user_id", "email", "name", "extension"])
    expected_lines = []
    for (user_id, email, name, ext), blank in zip(rows, blank_before, strict=False):
        if blank:
            buffer.write(newline)
        expected_lines.append(physical_line(buffer.getvalue()))
        writer.writerow([user_id, neutralise_cell(email), neutralise_cell(name), ext or ""])

    csv_file = read(buffer.getvalue().encode(encoding))

    assert csv_file.delimiter == delimiter
    blanks = sum(ext is None for *_rest, ext in rows)
    assert [f.code for f in csv_file.findings] == ["blank-extension"] * blanks
    assert [(r.user_id, r.email, r.extension) for r in csv_file.rows] == [
        (u, e, x) for u, e, _n, x in rows
    ]
    assert [r.name for r in csv_file.rows] == [n.strip() or None for _u, _e, n, _x in rows]
    assert [r.line for r in csv_file.rows] == expected_lines

"""Key positions in TOML text: every form a plan file may use, and round trips through tomli_w."""

from __future__ import annotations

import sys
import tomllib
from typing import Any

import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.core.tomlkeys import KeyPath, Position, locate_keys


def where(text: str, path: KeyPath) -> tuple[int, int, int, int]:
    place = locate_keys(text).places[path]
    return place.key.line, place.key.column, place.value.line, place.value.column


def test_plain_keys_and_array_elements_over_lines() -> None:
    text = '# plan\nreserved = ["100",\n  "911"]  # never\ndefault = "100-199"\n'
    assert where(text, ("reserved",)) == (2, 1, 2, 12)
    assert where(text, ("reserved", 0)) == (2, 13, 2, 13)
    assert where(text, ("reserved", 1)) == (3, 3, 3, 3)
    assert where(text, ("default",)) == (4, 1, 4, 11)


def test_table_header_and_quoted_keys() -> None:
    text = '[teams]\nSales = "200-299"\n"Customer Support" = ["300-349", \'360-399\']\n'
    assert where(text, ("teams",)) == (1, 1, 1, 1)
    assert where(text, ("teams", "Sales")) == (2, 1, 2, 9)
    assert where(text, ("teams", "Customer Support")) == (3, 1, 3, 22)
    assert where(text, ("teams", "Customer Support", 1)) == (3, 34, 3, 34)


def test_dotted_keys_open_their_tables_where_first_named() -> None:
    text = 'default = "100-199"\nteams . Sales = "200-299"\nteams."Night shift" = "300-399"\n'
    assert where(text, ("teams",)) == (2, 1, 2, 1)
    assert where(text, ("teams", "Sales")) == (2, 9, 2, 17)
    assert where(text, ("teams", "Night shift")) == (3, 7, 3, 23)


def test_dotted_table_header() -> None:
    text = "[teams.Sales]\nranges = 1\n"
    assert where(text, ("teams",)) == (1, 2, 1, 2)
    assert where(text, ("teams", "Sales")) == (1, 1, 1, 1)
    assert where(text, ("teams", "Sales", "ranges")) == (2, 1, 2, 10)


def test_inline_tables_nest() -> None:
    text = 'teams = { Sales = "200-299", "Night shift" = ["300-349"] }\n'
    assert where(text, ("teams", "Sales")) == (1, 11, 1, 19)
    assert where(text, ("teams", "Night shift")) == (1, 30, 1, 46)
    assert where(text, ("teams", "Night shift", 0)) == (1, 47, 1, 47)


def test_strings_and_comments_that_look_like_keys_are_skipped() -> None:
    text = (
        's = """\nfake = "x"\n"" \\""" b"""""\n'
        "lit = '''\n[teams]\n'''\n"
        'esc = "a \\" # = b"  # c = d\n'
        "when = 1979-05-27 07:32:00Z\n"
        "real = 1\n"
    )
    tomllib.loads(text)  # valid TOML, or the test means nothing
    places = locate_keys(text).places
    assert set(places) == {("s",), ("lit",), ("esc",), ("when",), ("real",)}
    assert where(text, ("real",)) == (9, 1, 9, 8)


def test_escapes_in_quoted_keys_are_decoded() -> None:
    text = '"caf\\u00e9 \\"x\\"" = 1\n\'lit\\eral\' = 2\n'
    assert set(locate_keys(text).places) == {('café "x"',), ("lit\\eral",)}


def test_nesting_deeper_than_the_stack_keeps_what_was_found() -> None:
    depth = sys.getrecursionlimit()
    text = 'default = "100-199"\nreserved = ' + "[" * depth + "]" * depth + "\n"
    places = locate_keys(text).places
    assert where(text, ("default",)) == (1, 1, 1, 11)
    assert where(text, ("reserved",)) == (2, 1, 2, 12)
    assert ("reserved", 0, 0) in places


def test_arrays_of_tables_are_indexed() -> None:
    text = "[[team]]\nname = 1\n[[team]]\nname = 2\n"
    assert where(text, ("team", 1)) == (3, 1, 3, 1)
    assert where(text, ("team", 1, "name")) == (4, 1, 4, 8)


def test_crlf_lines() -> None:
    text = 'a = 1\r\n[teams]\r\nSales = "200-299"\r\n'
    assert where(text, ("teams", "Sales")) == (3, 1, 3, 9)


def test_text_it_cannot_follow_keeps_what_came_before() -> None:
    places = locate_keys('a = 1\nb = "unterminated\nc = 3\n').places
    assert ("a",) in places
    assert ("c",) not in places


def test_nearest_falls_back_to_the_parent() -> None:
    positions = locate_keys('[teams]\nSales = "200-299"\n')
    place = positions.nearest(("teams", "Sales", 3))
    assert place is not None
    assert place.key == Position(2, 1)
    assert positions.nearest(("nowhere",)) is None


# -- every key of any document tomli_w writes is found, and points at its key ------------

keys = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=8
)
scalars = st.one_of(st.integers(), st.booleans(), st.text(max_size=8), st.floats(allow_nan=False))
documents = st.recursive(
    st.dictionaries(keys, scalars, max_size=4),
    lambda inner: st.dictionaries(
        keys, st.one_of(scalars, inner, st.lists(scalars, max_size=3)), max_size=4
    ),
    max_leaves=12,
)


def paths(doc: dict[str, Any], prefix: KeyPath = ()) -> list[KeyPath]:
    found: list[KeyPath] = []
    for key, value in doc.items():
        path = (*prefix, key)
        found.append(path)
        if isinstance(value, dict):
            found += paths(value, path)
        elif isinstance(value, list):
            found += [(*path, index) for index in range(len(value))]
    return found


@given(documents, st.booleans())
def test_every_key_tomli_w_writes_is_located(doc: dict[str, Any], multiline: bool) -> None:
    text = tomli_w.dumps(doc, multiline_strings=multiline)
    assert tomllib.loads(text) == doc
    places = locate_keys(text).places
    lines = text.split("\n")
    for path in paths(doc):
        assert path in places, (path, text)
        key = path[-1]
        if isinstance(key, str):
            position = places[path].key
            line = lines[position.line - 1]
            spelled = tomli_w.dumps({key: 1}).removesuffix(" = 1\n")  # as tomli_w writes it
            written = line[position.column - 1 :]
            assert written.startswith(spelled) or (written.startswith("[") and spelled in line)

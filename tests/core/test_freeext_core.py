"""Free-extension search: lowest free first, 100-999 before 000-099, ranges kept as text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aircall_ext.api.models import User
from aircall_ext.core.account import Account
from aircall_ext.core.freeext import (
    DEFAULT_ORDER,
    ExtensionRange,
    free_extensions,
    occupied,
    parse_range,
)

extensions = st.integers(0, 999).map(lambda n: f"{n:03d}")


def test_default_order_starts_at_100_and_ends_with_0xx() -> None:
    assert DEFAULT_ORDER[:2] == ("100", "101")
    assert DEFAULT_ORDER[899:901] == ("999", "000")
    assert DEFAULT_ORDER[-1] == "099"
    assert sorted(DEFAULT_ORDER) == [f"{n:03d}" for n in range(1000)]


def test_lowest_free_skips_taken() -> None:
    assert free_extensions({"100", "102"}, 3) == ["101", "103", "104"]


def test_0xx_only_after_999() -> None:
    taken = {f"{n:03d}" for n in range(100, 1000)}
    assert free_extensions(taken, 2) == ["000", "001"]


def test_nothing_free() -> None:
    assert free_extensions(set(DEFAULT_ORDER), 1) == []


def test_fewer_than_requested_returns_what_exists() -> None:
    rng = parse_range("200-204")
    assert free_extensions({"201", "203"}, 5, rng.candidates()) == ["200", "202", "204"]


@given(st.sets(extensions), st.integers(1, 1000))
def test_free_are_the_lowest_untaken(taken: set[str], count: int) -> None:
    free = free_extensions(taken, count)
    assert not set(free) & taken
    available = [e for e in DEFAULT_ORDER if e not in taken]
    assert free == available[:count]


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [("200-299", "200", "299"), ("007-010", "007", "010"), (" 100 - 100 ", "100", "100")],
)
def test_parse_range(text: str, first: str, last: str) -> None:
    assert parse_range(text) == ExtensionRange(first, last)


def test_range_candidates_keep_leading_zeros_in_order() -> None:
    assert parse_range("008-011").candidates() == ("008", "009", "010", "011")


@given(extensions, extensions)
def test_range_candidates_are_every_extension_between_its_bounds(a: str, b: str) -> None:
    first, last = sorted((a, b))
    expected = tuple(e for e in DEFAULT_ORDER if first <= e <= last)
    assert parse_range(f"{first}-{last}").candidates() == tuple(sorted(expected))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("300-200", "did you mean 200-300?"),
        ("1-2000", "leading zeros lost"),
        ("100-2000", "4 digits"),
        ("abc", "expected A-B"),
        ("100-200-300", "expected A-B"),
        ("-", "empty"),
    ],
)
def test_bad_ranges_say_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_range(text)


def test_occupied_protects_what_damaged_extensions_stand_for() -> None:
    account = Account.of(
        [
            User(id=1, extension="101"),
            User(id=2, extension="7"),
            User(id=3, extension=" 102"),
            User(id=4, extension=None),
            User(id=5, extension="abc"),
        ]
    )
    assert occupied(account) == {"101", "7", "007", " 102", "102", "abc"}

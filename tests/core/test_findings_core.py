"""The one helper that keeps lists in messages short."""

from __future__ import annotations

from aircall_ext.core.findings import LIST_LIMIT, listed


def test_short_lists_are_joined_whole() -> None:
    assert listed([]) == ""
    assert listed(["a"]) == "a"
    assert listed(str(n) for n in range(LIST_LIMIT)) == ", ".join(str(n) for n in range(10))


def test_long_lists_show_the_first_ten_then_how_many_more() -> None:
    text = listed(str(n) for n in range(1000))
    assert text == "0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 990 more"
    assert listed(["a", "b", "c"], limit=2, sep="; ") == "a; b and 1 more"

"""Rendering: colour only where it belongs, tables aligned by display width."""

from __future__ import annotations

import io
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from aircall_ext import output
from aircall_ext.columns import Columns
from aircall_ext.output import display_width, render_table
from tests.conftest import RunCli
from tests.scenes import api_user

ESC = "\x1b"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def tty_stderr(monkeypatch: pytest.MonkeyPatch) -> Tty:
    """A terminal as stderr (in the test body: pytest sets its own at each phase)."""
    stream = Tty()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


# -- colour ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "0", " "])
def test_no_color_on_a_terminal_writes_no_escape_at_all(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NO_COLOR", value)
    stderr = tty_stderr(monkeypatch)
    output.warn("user 3 has no extension")
    output.status("plain status")
    output.status("green status", fg="green")
    assert stderr.getvalue() == ("warning: user 3 has no extension\nplain status\ngreen status\n")


def test_a_terminal_without_no_color_gets_colour_only_where_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stderr = tty_stderr(monkeypatch)
    output.status("plain status")
    output.warn("careful")
    assert stderr.getvalue().splitlines() == [
        "plain status",  # no style asked: not even a reset sequence
        f"{ESC}[33mwarning: careful{ESC}[0m",
    ]


def test_an_empty_no_color_does_not_count_as_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    tty_stderr(monkeypatch)
    assert output.use_color()


def test_off_a_terminal_there_is_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    output.warn("careful")
    assert stream.getvalue() == "warning: careful\n"
    assert not output.use_color()


# -- tables ------------------------------------------------------------------------------

DECOMPOSED = "Rene\u0301e"  # "Renée" as a Mac or a copy from a PDF may type it


def column_starts(line: str, cells: list[str]) -> list[int]:
    """Display column where each cell starts in ``line``."""
    starts, position = [], 0
    for cell in cells:
        index = line.index(cell, position)
        starts.append(display_width(line[:index]))
        position = index + len(cell)
    return starts


def test_table_columns_line_up_by_display_width() -> None:
    rows = [
        {"extension": "101", "name": "張偉", "email": "zhang@example.com"},
        {"extension": "102", "name": DECOMPOSED, "email": "renee@example.com"},
        {"extension": "103", "name": "Bob", "email": "bob@example.com"},
    ]
    lines = render_table(rows, Columns.of("extension", "name", "email")).splitlines()
    body = lines[2:]
    names = ["張偉", unicodedata.normalize("NFC", DECOMPOSED), "Bob"]
    starts = [
        column_starts(line, [row["extension"], name, row["email"]])
        for line, row, name in zip(body, rows, names, strict=True)
    ]
    assert starts[0] == starts[1] == starts[2]
    assert column_starts(lines[0], ["extension", "name", "email"]) == starts[0]


def test_table_shows_names_in_nfc() -> None:
    table = render_table([{"name": DECOMPOSED}], Columns.of("name"))
    assert "Ren\u00e9e" in table
    assert "\u0301" not in table


def test_list_table_aligns_cjk_and_decomposed_names(
    run_cli: RunCli, write_state: Callable[..., Path]
) -> None:
    write_state(
        [
            api_user(1, "101", name="張偉", email="zhang@example.com"),
            api_user(2, "102", name=DECOMPOSED, email="renee@example.com"),
            api_user(3, "103", name="Bob", email="bob@example.com"),
        ]
    )
    result = run_cli("--sandbox", "list")
    assert result.exit_code == 0, result.stderr
    body = [line for line in result.stdout.splitlines() if line[:3] in {"101", "102", "103"}]
    emails = [
        display_width(line[: line.index("@")]) - len(line[: line.index("@")].split()[-1])
        for line in body
    ]
    assert len(body) == 3 and len(set(emails)) == 1, result.stdout

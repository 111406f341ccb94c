"""Rendering: data to stdout as a table, one JSON document or CSV; everything else to stderr.

Commands build plain rows and one JSON document; this module is the only place that
decides how they look. tabulate is imported lazily so that ``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import click

Format = Literal["table", "json", "csv"]
FORMATS: tuple[Format, ...] = ("table", "json", "csv")

# Cells a spreadsheet would evaluate as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Prefix a quote so that a spreadsheet shows the cell as text instead of running it."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def render_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    headers: Sequence[str] | None = None,
) -> str:
    from tabulate import tabulate

    body = [[_cell(row.get(col)) for col in columns] for row in rows]
    # disable_numparse: "007" must print as 007, never as 7.
    return tabulate(
        body, headers=list(headers or columns), tablefmt="simple", disable_numparse=True
    )


def render_csv(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    neutralise: bool = True,
) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # With LF line ends the csv module leaves a lone CR unquoted, which would split the row
    # for every reader: such rows are written fully quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(columns)
    for row in rows:
        cells = [_csv_cell(row.get(col)) for col in columns]
        if neutralise:
            cells = [neutralise_cell(c) for c in cells]
        (quoted if any("\r" in c for c in cells) else writer).writerow(cells)
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _cell(value)


def render_json(doc: Mapping[str, Any]) -> str:
    import json

    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def emit(
    fmt: Format,
    doc: Mapping[str, Any],
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    headers: Sequence[str] | None = None,
    empty: str | None = None,
) -> None:
    """Print one result in ``fmt``: ``doc`` for JSON, ``rows`` for table and CSV.

    ``empty`` is said on stderr instead of an empty table, so stdout stays clean.
    """
    if fmt == "json":
        click.echo(render_json(doc), nl=False)
    elif fmt == "csv":
        click.echo(render_csv(rows, columns), nl=False)
    elif not rows and empty:
        status(empty)
    else:
        click.echo(render_table(rows, columns, headers))


def use_color() -> bool:
    return "NO_COLOR" not in os.environ and sys.stderr.isatty()


def status(message: str, *, fg: str | None = None) -> None:
    """A line for people, on stderr."""
    click.secho(message, err=True, fg=fg if use_color() else None)


def warn(message: str) -> None:
    status(f"warning: {message}", fg="yellow")

"""Rendering: data to stdout as a table, one JSON document or CSV; everything else to stderr.

Commands build plain rows and one JSON document; this module is the only place that
decides how they look. Every start-up (``--help`` included) imports this module, so what
only rendering needs (tabulate, wcwidth, json, csv) is imported where it is used.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TextIO

import click

from aircall_ext.names import FORMULA_START
from aircall_ext.textwidth import display_width, fit

if TYPE_CHECKING:
    from aircall_ext.columns import Columns

Format = Literal["table", "json", "csv", "github"]
# The formats of every command that prints data; "github" (GitHub Actions workflow
# commands, aircall_ext/github.py) only on the commands that report findings.
FORMATS: tuple[Format, ...] = ("table", "json", "csv")
ALL_FORMATS: tuple[Format, ...] = (*FORMATS, "github")


def neutralise_cell(value: str) -> str:
    """Prefix a quote so that a spreadsheet shows the cell as text instead of running it."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def render_table(rows: Sequence[Mapping[str, Any]], columns: Columns) -> str:
    """A table aligned by display width (tabulate measures with wcwidth: a CJK character
    takes two columns, a combining accent none), with text in NFC so that a decomposed
    "é" shows as the one character every terminal draws alike."""
    import unicodedata

    from tabulate import tabulate

    keys = columns.keys
    body = [[unicodedata.normalize("NFC", _cell(row.get(key))) for key in keys] for row in rows]
    # disable_numparse: "007" must print as 007, never as 7.
    return tabulate(body, headers=columns.headers, tablefmt="simple", disable_numparse=True)


def render_csv(rows: Sequence[Mapping[str, Any]], columns: Columns) -> str:
    """CSV for scripts and spreadsheets, headed by the columns' keys (what scripts match
    on); a cell a spreadsheet would run as a formula is neutralised."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # With LF line ends the csv module leaves a lone CR unquoted, which would split the row
    # for every reader: such rows are written fully quoted.
    quoted = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    keys = columns.keys
    writer.writerow(keys)
    for row in rows:
        cells = [neutralise_cell(_csv_cell(row.get(key))) for key in keys]
        (quoted if any("\r" in c for c in cells) else writer).writerow(cells)
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _cell(value)


def render_json(doc: Mapping[str, Any]) -> str:
    import json

    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


# -- count lines: how a result's counts read, on stderr and in step summaries alike -----


def severity_counts(summary: Mapping[str, int]) -> str:
    """``1 error, 2 warnings, 0 infos`` from a findings summary (``errors``, ``warnings``,
    ``infos``)."""
    from aircall_ext.core.findings import plural

    return ", ".join(plural(summary[f"{word}s"], word) for word in ("error", "warning", "info"))


def drift_counts(summary: Mapping[str, int]) -> str:
    return f"{summary['drifted']} drifted, {summary['in_sync']} in sync, {summary['blank']} blank"


def dial_counts(counts: Mapping[str, int]) -> str:
    errors = counts.get("errors", 0)
    unrun = f" ({errors} could not be dry-run)" if errors else ""
    return f"{counts['rows']} row(s): {counts['passed']} passed, {counts['failed']} failed{unrun}"


def use_color(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal (``stream``, stderr by default), and never when
    ``NO_COLOR`` holds any non-empty value."""
    return not os.environ.get("NO_COLOR") and _isatty(sys.stderr if stream is None else stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or minimal stream is no terminal
        return False


def status(message: str, *, fg: str | None = None) -> None:
    """A line for people, on stderr; styled only when colour is on, so that without colour
    not even a reset sequence is written."""
    click.echo(click.style(message, fg=fg) if fg and use_color() else message, err=True)


def warn(message: str) -> None:
    status(f"warning: {message}", fg="yellow")


# -- progress --------------------------------------------------------------------------


def terminal_width(stream: TextIO) -> int:
    """Columns of the terminal ``stream`` writes to: ``COLUMNS`` first, as the shell exports
    it, then the terminal itself, else 80."""
    import shutil

    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return shutil.get_terminal_size().columns


def duration(seconds: float) -> str:
    """A rough, readable duration: 40 s, 14 min, 1 h 05 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class Progress:
    """Progress of a long job on stderr, for people and for CI logs alike.

    On a terminal: one line redrawn in place (a bar, done/total, ETA, rate-limit pauses),
    fitted to the terminal's width so that it never wraps. Elsewhere (a CI log, a file): a
    plain line now and then, at the start, every ``INTERVAL`` seconds or every tenth of the
    work, whichever comes first, and at the end, so that a long job is never silent. The
    clock is injected so that tests never wait.
    """

    BAR = 24
    STEP = 0.10
    INTERVAL = 30.0  # seconds between plain lines, at the most
    UNIT = "writes"

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.clock = clock or time.monotonic
        self.interactive = _isatty(self.stream)
        self.total = 0
        self.done = 0
        self.wait: float | None = None  # a rate-limit pause in progress, in seconds
        self.started: float | None = None
        self.active = False
        self._frame = ""  # terminal: the line drawn last, and its width in columns
        self._shown = 0
        self._last_time = 0.0  # plain: when the last line was printed, and at what count
        self._last_done = -1

    # -- what the job reports -----------------------------------------------------------
    def begin(self, total: int) -> None:
        self.total = max(total, 0)
        if self.started is None:
            self.started = self.clock()
        self.active = True
        self._update()

    def advance(self, done: int, total: int) -> None:
        if self.active:
            self.done, self.total, self.wait = done, total, None
            self._update()

    def waiting(self, seconds: float) -> None:
        if self.active:
            self.wait = seconds
            self._update()

    def end(self) -> None:
        """Settle on the done count, then let go: later waits (the read-back) draw nothing."""
        if not self.active:
            return
        self.wait = None
        if self.interactive:
            self._draw()
            self._write("\n")
        elif self.done != self._last_done:
            self._print()
        self.active = False

    # -- what it looks like ------------------------------------------------------------
    def line(self) -> str:
        """The plain form, one line of a CI log:
        ``import: 120/1000 writes (12 %), waiting for rate limit, ETA 14 min``."""
        parts = [f"{self.label}: {self.done}/{self.total} {self.UNIT} ({self._percent()} %)"]
        if self.wait is not None:
            parts.append("waiting for rate limit")
        eta = self._eta()
        if eta is not None:
            parts.append(f"ETA {duration(eta)}")
        return ", ".join(parts)

    def frame(self, width: int) -> str:
        """The terminal form in at most ``width`` columns: the label (what is going on) is
        what gets cut, then the bar is dropped; the counts stay whole as long as they fit."""
        label = self.label
        if self.wait is not None:
            label += f": waiting for rate limit ({self.wait:.1f}s)"
        counts = f" {self.done}/{self.total} ({self._percent()} %)"
        eta = self._eta()
        if eta is not None:
            counts += f" ETA {duration(eta)}"
        total = max(self.total, 1)
        filled = self.BAR * min(self.done, total) // total if self.total else self.BAR
        bar = f" [{'#' * filled}{'-' * (self.BAR - filled)}]"
        if display_width(label + bar + counts) > width:
            bar = ""
        room = width - display_width(bar + counts)
        if room < min(display_width(label), 8):  # a narrow terminal: whatever fits
            return fit(label + bar + counts, width)
        return fit(label, room) + bar + counts

    def _percent(self) -> int:
        return 100 * self.done // self.total if self.total else 100

    def _eta(self) -> float | None:
        if self.started is None or not 0 < self.done < self.total:
            return None
        eta = (self.clock() - self.started) / self.done * (self.total - self.done)
        return eta if eta >= 1 else None  # "ETA 0 s" says nothing

    def _update(self) -> None:
        if self.interactive:
            self._draw()
            return
        now = self.clock()
        step = max(1, int(self.total * self.STEP))
        if (
            self._last_done < 0
            or now - self._last_time >= self.INTERVAL
            or self.done - self._last_done >= step
        ):
            self._print()

    def _draw(self) -> None:
        # The last column would wrap on some terminals: leave it free.
        text = self.frame(terminal_width(self.stream) - 1)
        if text == self._frame:
            return
        self._frame = text
        shown = display_width(text)
        self._write("\r" + text + " " * max(0, self._shown - shown))
        self._shown = shown

    def _print(self) -> None:
        self._last_time, self._last_done = self.clock(), self.done
        self._write(self.line() + "\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

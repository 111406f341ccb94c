"""Progress on stderr: plain lines now and then off a terminal (CI logs), one line fitted to
the terminal's width on it; neither with -q or --no-progress. The clock is injected."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from aircall_ext.output import Progress, display_width, duration, fit
from tests.conftest import RunCli
from tests.scenes import api_user


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def plain(clock: Clock) -> tuple[Progress, io.StringIO]:
    stream = io.StringIO()
    return Progress("import", stream=stream, clock=clock), stream


# -- off a terminal: a line at the start, every 30 s or 10 %, and at the end ---------------


def test_a_slow_job_prints_a_line_every_thirty_seconds() -> None:
    clock = Clock()
    progress, stream = plain(clock)
    progress.begin(1000)
    for done in range(1, 121):  # 60 writes a minute: the rate limit decides the pace
        clock.now += 1
        progress.advance(done, 1000)
    progress.waiting(0.8)  # said at the next line, not now
    clock.now += 30  # a long wait: a line even though no write was done
    progress.waiting(0.8)
    assert stream.getvalue().splitlines() == [
        "import: 0/1000 writes (0 %)",
        "import: 30/1000 writes (3 %), ETA 16 min",
        "import: 60/1000 writes (6 %), ETA 16 min",
        "import: 90/1000 writes (9 %), ETA 15 min",
        "import: 120/1000 writes (12 %), ETA 15 min",
        "import: 120/1000 writes (12 %), waiting for rate limit, ETA 18 min",
    ]


def test_a_fast_job_prints_a_line_every_tenth_of_the_work_and_at_the_end() -> None:
    clock = Clock()
    progress, stream = plain(clock)
    progress.begin(25)
    for done in range(1, 26):
        clock.now += 0.1
        progress.advance(done, 25)
    progress.end()
    progress.waiting(3.0)  # the read-back after the job prints nothing
    lines = stream.getvalue().splitlines()
    counts = [int(re.match(r"import: (\d+)/25 writes", line)[1]) for line in lines]  # type: ignore[index]
    assert counts == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25]
    assert lines[-1] == "import: 25/25 writes (100 %)"


def test_the_end_is_not_repeated_when_already_said() -> None:
    clock = Clock()
    progress, stream = plain(clock)
    progress.begin(2)
    progress.advance(1, 2)
    progress.advance(2, 2)
    progress.end()
    assert stream.getvalue().splitlines()[-2:] == [
        "import: 1/2 writes (50 %)",
        "import: 2/2 writes (100 %)",
    ]


# -- on a terminal: one line, redrawn, never wider than the terminal ------------------------


@pytest.mark.parametrize("columns", [200, 80, 40, 24, 10])
def test_the_terminal_line_fits_the_width_and_never_wraps(
    monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    clock = Clock()
    stream = Tty()
    progress = Progress("import", stream=stream, clock=clock)
    progress.begin(1000)
    for done in range(1, 200):
        clock.now += 1
        progress.advance(done, 1000)
        progress.waiting(12.5)
    progress.end()
    frames = stream.getvalue()
    assert frames.endswith("\n") and frames.count("\n") == 1  # one line, redrawn in place
    for frame in frames.rstrip("\n").split("\r")[1:]:
        assert 0 < display_width(frame) <= columns - 1, repr(frame)
    paused = frames.rstrip("\n").split("\r")[-2].rstrip()
    if columns >= 40:  # the label is what gets cut; the counts stay whole
        assert paused.endswith(" 199/1000 (19 %) ETA 13 min")
        assert paused.startswith("import")
    if columns == 40:
        assert paused == "import: wai\u2026 199/1000 (19 %) ETA 13 min"


def test_the_terminal_line_says_what_is_waited_for() -> None:
    stream = Tty()
    progress = Progress("import", stream=stream, clock=Clock())
    progress.begin(3)
    progress.advance(1, 3)
    progress.waiting(4.2)
    progress.end()
    progress.waiting(3.0)
    frames = stream.getvalue().rstrip("\n").split("\r")
    assert "import: waiting for rate limit (4.2s)" in frames[-2]
    assert frames[-1].startswith("import [")  # the last frame is not a pause
    assert "3.0s" not in stream.getvalue()


def test_fit_and_duration() -> None:
    assert fit("abcdef", 4) == "abc\u2026"
    assert fit("abc", 4) == "abc"
    assert fit("日本語です", 5) == "日本\u2026"
    assert [duration(s) for s in (0.4, 59, 60, 840, 3900)] == [
        "0 s",
        "59 s",
        "1 min",
        "14 min",
        "1 h 05 min",
    ]


# -- through the command line ---------------------------------------------------------------


@pytest.fixture
def import_file(tmp_path: Path, write_state: Callable[..., Path]) -> Path:
    write_state([api_user(n, f"{100 + n}") for n in range(1, 21)])
    path = tmp_path / "moves.csv"
    rows = "".join(f"{n},,{200 + n}\n" for n in range(1, 21))
    path.write_text("user_id,email,extension\n" + rows, encoding="utf-8")
    return path


def test_import_off_a_terminal_prints_plain_progress_lines(
    run_cli: RunCli, import_file: Path
) -> None:
    result = run_cli("--sandbox", "import", str(import_file), "--yes")
    assert result.exit_code == 0, result.stderr
    said = re.findall(r"^import: (\d+)/20 writes \(\d+ %\)", result.stderr, re.MULTILINE)
    assert said == [str(n) for n in range(0, 21, 2)]  # the start, then every tenth
    assert result.stderr.splitlines()[-1] == "import: 20/20 writes (100 %)"
    assert "import:" not in result.stdout


@pytest.mark.parametrize("flag", ["-q", "--no-progress"])
def test_quiet_and_no_progress_print_none(run_cli: RunCli, import_file: Path, flag: str) -> None:
    result = run_cli("--sandbox", flag, "import", str(import_file), "--yes")
    assert result.exit_code == 0, result.stderr
    assert "import: " not in result.stderr

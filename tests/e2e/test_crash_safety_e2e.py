"""Crash safety: SIGKILL the import at chosen points, then ``import --resume`` converges.

Each point is an event the test waits for, never a moment it hopes to hit:

- between two requests: the client keeps the server's budget, so with ``--rate-limit
  R/30`` it sends R requests and then waits half a minute before the next. R is chosen so
  that the pause comes before the first write (the plan's read alone), right after the
  first cycle's parking write, mid-way, or after the last write (before the verification's
  read); the kill lands once the journal shows the first step started, or the last write
  before the pause done;
- with a write in flight: every request is held by a slow fault (``--faults slow:1``), and
  the server says so when one arrives; once the journal shows the step started and the
  server holds its PUT, the process dies while the server still sleeps on it; the write
  lands afterwards: the journal says "started", the account says "done".

Then the first server is stopped (it finishes what is in flight; its writes are committed), a
plain one is started on the same port, state and write log, and the journal is resumed,
twice. A torn last journal line (cut mid-record by hand) is tolerated. The write log,
replayed from the initial state across both servers, proves no two users ever shared an
extension and that nothing was written twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    CLI,
    DEADLINE,
    SandboxServer,
    Serve,
    holdings_db,
    read_json_lines,
    wait_for,
    write_holdings,
)
from tests.scenes import (
    CRASH_BEFORE,
    CRASH_CYCLES,
    CRASH_MOVES,
    CRASH_WANTS,
    renumbering,
    replay_writes,
)

SLOW = ("--faults", "slow:1", "--seed", "1", "--slow-seconds", "0.25", "--rate-limit", "off")


class Run:
    """One crash scenario's files."""

    def __init__(self, tmp_path: Path) -> None:
        self.state = tmp_path / "state.db"
        self.writes = tmp_path / "writes.jsonl"
        self.journal = tmp_path / "journal.jsonl"
        self.report = tmp_path / "report.csv"
        self.csv = tmp_path / "renumber.csv"
        write_holdings(self.state, CRASH_BEFORE, company="Crash")
        self.csv.write_text(renumbering(CRASH_WANTS))

    def records(self) -> list[dict[str, Any]]:
        return read_json_lines(self.journal)

    def applied(self) -> list[dict[str, Any]]:
        return read_json_lines(self.writes)


Trigger = Callable[[Run, SandboxServer], bool]


def starts(run: Run) -> list[dict[str, Any]]:
    return [r for r in run.records() if r["type"] == "start"]


def put_in_flight(run: Run, server: SandboxServer, *, parking: bool = False) -> bool:
    """The last journalled step's PUT is on the server, held, not answered: every PUT is
    held, so the server has held one PUT per step started, the last one that step's."""
    records = run.records()
    if not records or records[-1]["type"] != "start" or records[-1]["parking"] is not parking:
        return False
    held = server.held("PUT")
    return len(held) == len(starts(run)) and held[-1] == f"PUT /v2/users/{records[-1]['user_id']}"


def parking_of(run: Run) -> str | None:
    records = run.records()
    if not records:
        return None
    return next((s["to"] for s in records[0]["steps"] if s["parking"]), None)


def pause_after(writes: int) -> tuple[str, ...]:
    """A server whose budget lets the client send the plan's read (one page), ``writes``
    writes and the first one's read-back, then makes it wait half a minute."""
    return ("--rate-limit", f"{1 + writes + 1}/30")


def done(writes: int) -> Trigger:
    """The client has journalled ``writes`` writes done (and then waits for the budget)."""
    return lambda run, _server: sum(r["type"] == "done" for r in run.records()) >= writes


PARKED = 4  # the chain's 3 writes come first, then the 4-cycle's parking write
# name → (server options, when to kill)
POINTS: dict[str, tuple[tuple[str, ...], Trigger]] = {
    "before-first-write": (("--rate-limit", "1/30"), lambda run, _server: len(starts(run)) >= 1),
    "first-write-in-flight": (SLOW, put_in_flight),
    "mid-way": (pause_after(CRASH_MOVES // 2), done(CRASH_MOVES // 2)),
    "parking-in-flight": (SLOW, lambda run, server: put_in_flight(run, server, parking=True)),
    "just-parked": (pause_after(PARKED), done(PARKED)),
    "after-last-write": (
        pause_after(CRASH_MOVES + CRASH_CYCLES),
        done(CRASH_MOVES + CRASH_CYCLES),
    ),
}


def kill_when(run: Run, server: SandboxServer, point: str) -> None:
    """Start the import and SIGKILL it as soon as ``point`` is reached."""
    trigger = POINTS[point][1]
    process = subprocess.Popen(
        [CLI, "import", str(run.csv), "--yes", "--journal", str(run.journal)],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: trigger(run, server), f"the kill point {point}", process)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=DEADLINE)
    assert process.returncode == -signal.SIGKILL


def tear_last_line(journal: Path) -> str:
    """Cut the journal's last record in the middle, as a crash mid-write would."""
    data = journal.read_bytes()
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    cut = last_start + (len(data) - last_start) // 2
    journal.write_bytes(data[:cut])
    return data[last_start:].decode()


@pytest.mark.parametrize(
    ("point", "torn"),
    [
        ("before-first-write", False),
        ("first-write-in-flight", False),
        ("mid-way", True),
        ("parking-in-flight", True),
        ("just-parked", False),
        ("after-last-write", False),
    ],
)
def test_sigkill_then_resume_converges(
    serve: Serve, tmp_path: Path, point: str, torn: bool
) -> None:
    run = Run(tmp_path)
    first = serve(*POINTS[point][0], "--write-log", str(run.writes), state=run.state)
    kill_when(run, first, point)
    assert first.stop() == 0  # lets an in-flight write finish
    before_resume = run.applied()
    last = run.records()[-1]

    # The scenario really is the one named.
    if point == "before-first-write":
        assert before_resume == [] and first.requests("PUT") == []
        assert last["type"] == "start"
    elif point.endswith("in-flight"):
        assert last["type"] == "start"  # the client never heard back ...
        assert before_resume[-1]["user_id"] == last["user_id"]  # ... but the write landed
        assert before_resume[-1]["to"] == last["to"]
        assert last["parking"] is (point == "parking-in-flight")
    elif point == "mid-way":
        assert len(before_resume) == CRASH_MOVES // 2
    elif point == "just-parked":
        assert len(before_resume) == PARKED and before_resume[-1]["to"] == parking_of(run)
    else:
        assert len(before_resume) == CRASH_MOVES + CRASH_CYCLES
        assert last["type"] == "done"
        assert len(first.requests("GET", "/v2/users")) == 1  # the verification's read is not sent
    if torn:
        fragment = tear_last_line(run.journal)
        assert not run.journal.read_bytes().endswith(b"\n")
        assert json.loads(fragment)  # what was cut was a whole record

    # Same port: the journal belongs to that account (host:port), and resume checks it.
    second = serve(
        "--port", first.port, "--rate-limit", "off", "--write-log", str(run.writes),
        state=run.state,
    )  # fmt: skip
    resumed = second.cli(
        "-o", "json", "import", "--resume", str(run.journal), "--report", str(run.report)
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)["summary"]
    assert summary["applied"] + summary["unchanged"] == CRASH_MOVES
    assert summary["failed"] == summary["not_run"] == 0
    report_lines = run.report.read_text().splitlines()
    assert len(report_lines) == 1 + CRASH_MOVES
    assert all(",applied," in line or ",unchanged," in line for line in report_lines[1:])
    puts = len(second.requests("PUT"))
    assert puts == CRASH_MOVES + CRASH_CYCLES - len(before_resume)  # only what was missing

    again = second.cli("-o", "json", "import", "--resume", str(run.journal))
    assert again.returncode == 0, again.stderr
    assert len(second.requests("PUT")) == puts  # the second resume writes nothing
    assert second.stop() == 0

    final = holdings_db(run.state)
    assert final == {**CRASH_BEFORE, **CRASH_WANTS}
    assert replay_writes(CRASH_BEFORE, run.applied()) == final
    assert len(run.applied()) == CRASH_MOVES + CRASH_CYCLES  # each write once, across the crash
    lines = run.journal.read_text().splitlines()
    assert all(json.loads(line)["type"] for line in lines)  # the torn tail was cut, not kept
    assert sum(1 for line in lines if '"type":"resume"' in line) == 2

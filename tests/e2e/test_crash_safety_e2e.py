"""Crash safety: SIGKILL the import at chosen points, then ``import --resume`` converges.

The points are hit deterministically, without relying on timing luck:

- before the first write: the server's rate limit (1 request per 30 s) makes the client
  pace between journalling the first step and sending it; the kill lands in that pause;
- with a write in flight: every answer is slowed (``--faults slow:1``); once the journal
  shows the step started and the server holds the PUT's connection (``/proc/net/tcp``),
  the process dies while the server still sleeps on it; the write lands afterwards: the
  journal says "started", the account says "done";
- mid-way, right after a cycle's parking write, after the last write: the test polls the
  server's ``--write-log`` and kills as soon as the N-th (or the parking) write is applied.

Then the first server is stopped (it finishes what is in flight; its writes are committed), a
plain one is started on the same port, state and write log, and the journal is resumed,
twice.
A torn last journal line (cut mid-record by hand) is tolerated. The write log, replayed
from the initial state across both servers, proves no two users ever shared an extension
and that nothing was written twice.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from aircall_ext.api.client import ApiClient
from tests.conftest import RunCli
from tests.e2e.conftest import (
    CLI,
    SandboxServer,
    Serve,
    holdings_db,
    read_write_log,
    replay_writes,
    write_holdings,
)
from tests.scenes import WriteState, renumbering, users_holding

# A 4-cycle (1-4), a 3-cycle (5-7), a swap (8, 9), a chain (10 → free 405, 11 → 401, 12 with
# none → 402); 13 and 14 are not in the file.
INITIAL: dict[int, Any] = {
    1: "101", 2: "102", 3: "103", 4: "104",
    5: "201", 6: "202", 7: "203",
    8: "301", 9: "302",
    10: "401", 11: "402", 12: None,
    13: "100", 14: "500",
}  # fmt: skip
DESIRED = {
    1: "102", 2: "103", 3: "104", 4: "101",
    5: "202", 6: "203", 7: "201",
    8: "302", 9: "301",
    10: "405", 11: "401", 12: "402",
}  # fmt: skip
MOVES, CYCLES = len(DESIRED), 3
SLOW = ("--faults", "slow:1", "--seed", "1", "--slow-seconds", "0.25", "--rate-limit", "off")
DEADLINE = 60.0


class Run:
    """One crash scenario's files."""

    def __init__(self, tmp_path: Path) -> None:
        self.state = tmp_path / "state.db"
        self.writes = tmp_path / "writes.jsonl"
        self.journal = tmp_path / "journal.jsonl"
        self.report = tmp_path / "report.csv"
        self.csv = tmp_path / "renumber.csv"
        write_holdings(self.state, INITIAL, company="Crash")
        self.csv.write_text(renumbering(DESIRED))

    def records(self) -> list[dict[str, Any]]:
        """Complete journal records so far (a line being written is not one yet)."""
        if not self.journal.exists():
            return []
        text = self.journal.read_text()
        complete = text[: text.rfind("\n") + 1]
        return [json.loads(line) for line in complete.splitlines()]

    def applied(self) -> list[dict[str, Any]]:
        return read_write_log(self.writes)


def starts(run: Run) -> list[dict[str, Any]]:
    return [r for r in run.records() if r["type"] == "start"]


def connections(port: int) -> int:
    """Established connections the server (local port ``port``) holds: requests it is still
    answering. The server closes each connection once it has answered, so with every
    answer slowed this counts requests in flight."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as lines:
            for line in list(lines)[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def put_in_flight(run: Run, port: int, *, parking: bool = False) -> bool:
    """The last journalled step was sent and the server is still sleeping on it (checked
    twice: the previous request's connection may linger a moment after its answer)."""
    started = starts(run)
    if not started or started[-1]["parking"] is not parking or run.records()[-1]["type"] != "start":
        return False
    if connections(port) != 1:
        return False
    time.sleep(0.03)
    return connections(port) == 1


# name → (server options, when to kill)
Trigger = Callable[[Run, int], bool]
POINTS: dict[str, tuple[tuple[str, ...], Trigger]] = {
    "before-first-write": (("--rate-limit", "1/30"), lambda run, _port: len(starts(run)) >= 1),
    "first-write-in-flight": (SLOW, put_in_flight),
    "mid-way": (SLOW, lambda run, _port: len(run.applied()) >= MOVES // 2),
    "parking-in-flight": (SLOW, lambda run, port: put_in_flight(run, port, parking=True)),
    "just-parked": (
        SLOW,
        lambda run, _port: any(w["to"] == parking_of(run) for w in run.applied()),
    ),
    "after-last-write": (SLOW, lambda run, _port: len(run.applied()) >= MOVES + CYCLES),
}


def parking_of(run: Run) -> str | None:
    records = run.records()
    if not records:
        return None
    return next((s["to"] for s in records[0]["steps"] if s["parking"]), None)


def align_with_a_fresh_window(seconds: float) -> None:
    """Start inside a rate-limit window with time to spare before it ends (pacing then
    holds the first PUT back for over a second: the kill lands before it is sent)."""
    left = seconds - time.time() % seconds
    if left < 3.0:
        time.sleep(left + 0.05)


def kill_when(run: Run, server: SandboxServer, trigger: Trigger) -> None:
    process = subprocess.Popen(
        [CLI, "import", str(run.csv), "--yes", "--journal", str(run.journal)],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + DEADLINE
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
        while not trigger(run, port):
            assert process.poll() is None, "the import ended before the kill point"
            assert time.monotonic() < deadline, "the kill point was never reached"
            time.sleep(0.005)
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


@pytest.mark.e2e
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
    if point.endswith("in-flight") and not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux's /proc/net/tcp to see the request in flight")
    run = Run(tmp_path)
    options, trigger = POINTS[point]
    first = serve(*options, "--write-log", str(run.writes), state=run.state)
    if point == "before-first-write":
        align_with_a_fresh_window(30)
    kill_when(run, first, trigger)
    assert first.stop() == 0  # lets an in-flight write finish
    before_resume = run.applied()
    journal = run.records()
    last = journal[-1]

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
        assert MOVES // 2 <= len(before_resume) < MOVES + CYCLES
    elif point == "just-parked":
        parked = [w for w in before_resume if w["to"] == parking_of(run)]
        assert len(parked) == 1 and len(before_resume) < MOVES + CYCLES
    else:
        assert len(before_resume) == MOVES + CYCLES
    if torn:
        fragment = tear_last_line(run.journal)
        assert not run.journal.read_bytes().endswith(b"\n")
        assert json.loads(fragment)  # what was cut was a whole record

    # Same port: the journal belongs to that account (host:port), and resume checks it.
    port = first.base_url.rsplit(":", 1)[1].split("/")[0]
    second = serve(
        "--port", port, "--rate-limit", "off", "--write-log", str(run.writes), state=run.state
    )
    resumed = second.cli(
        "-o", "json", "import", "--resume", str(run.journal), "--report", str(run.report)
    )
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)["summary"]
    assert summary["applied"] + summary["unchanged"] == MOVES
    assert summary["failed"] == summary["not_run"] == 0
    report_lines = run.report.read_text().splitlines()
    assert len(report_lines) == 1 + MOVES
    assert all(",applied," in line or ",unchanged," in line for line in report_lines[1:])
    puts = len(second.requests("PUT"))
    assert puts == MOVES + CYCLES - len(before_resume)  # only what was missing

    again = second.cli("-o", "json", "import", "--resume", str(run.journal))
    assert again.returncode == 0, again.stderr
    assert len(second.requests("PUT")) == puts  # the second resume writes nothing
    assert second.stop() == 0

    final = holdings_db(run.state)
    assert final == {**INITIAL, **DESIRED}
    assert replay_writes(INITIAL, run.applied()) == final
    assert len(run.applied()) == MOVES + CYCLES  # each write exactly once, across the crash
    lines = run.journal.read_text().splitlines()
    assert all(json.loads(line)["type"] for line in lines)  # the torn tail was cut, not kept
    assert sum(1 for line in lines if '"type":"resume"' in line) == 2


@pytest.mark.e2e
def test_resume_of_a_journal_cut_inside_its_header_is_a_clear_usage_error(
    serve: Serve, tmp_path: Path
) -> None:
    """A kill while the header itself was being written leaves no usable journal: nothing
    was written, and the message says to run the import again."""
    run = Run(tmp_path)
    server = serve("--rate-limit", "off", state=run.state)
    run.journal.write_text('{"type":"header","version":1,"file":')
    result = server.cli("import", "--resume", str(run.journal))
    assert result.returncode == 2
    assert "run the import again" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert server.requests("PUT") == []


# -- a resume that cannot even read the account (in-process: the failures cost no time) --


class Flaky(httpx.BaseTransport):
    """The in-process sandbox, but requests of a failing method, or PUTs past a budget, get
    a 503 (retried by the client without waiting: its sleep is a no-op here)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.failing: set[str] = set()
        self.max_puts: int | None = None
        self.puts = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        over = request.method == "PUT" and self.max_puts is not None and self.puts >= self.max_puts
        if request.method in self.failing or over:
            return httpx.Response(503, json={"error": "Service Unavailable"})
        self.puts += request.method == "PUT"
        return self.inner.handle_request(request)


def test_a_resume_that_fails_to_read_the_account_still_exits_5_naming_the_journal(
    run_cli: RunCli,
    write_state: WriteState,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The job is still unfinished whatever stopped the resume: a script looping on exit 5
    must not take a failed re-read (exit 4) for the end of the import."""
    from aircall_ext.services import session

    write_state(users_holding(INITIAL))
    transport = Flaky(session._sandbox_transport())
    monkeypatch.setattr(session, "_sandbox_transport", lambda: transport)
    monkeypatch.setattr(session, "ApiClient", functools.partial(ApiClient, sleep=lambda _s: None))
    run = Run(tmp_path)
    transport.max_puts = 3
    stopped = run_cli("--sandbox", "import", str(run.csv), "--yes", "--journal", str(run.journal))
    assert stopped.exit_code == 5, stopped.stderr

    transport.max_puts, transport.failing = None, {"GET"}
    failed = run_cli("--sandbox", "import", "--resume", str(run.journal))
    assert failed.exit_code == 5, failed.stderr
    errors = [line for line in failed.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(run.journal) in errors[0] and "--resume" in errors[0]
    assert transport.puts == 3

    transport.failing = set()
    done = run_cli("--sandbox", "-o", "json", "import", "--resume", str(run.journal))
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["failed"] == 0
    assert transport.puts == MOVES + CYCLES

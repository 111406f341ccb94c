"""One run per journal: real processes contending for one job's journal.

A CI retry of `import --resume J` beside a manual one used to interleave their records in J
and send every write twice. The run that appends to a journal (a new import, a resume) or
takes its import back (an undo) holds an OS lock on it; a second run is refused at once
(exit 1) without touching the journal or the account. The kernel drops the lock with the
process, so a killed run never leaves the job stuck.

The runs are made slow by the server's rate limit and paused (SIGSTOP) at a chosen record
of the journal, so each contention happens at an exact point, never by timing luck. The
server's write log, replayed, proves no write was sent twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import (
    DEADLINE,
    Serve,
    pause_when,
    read_json_lines,
)
from tests.scenes import renumbering, replay_writes

# Eight chain moves into free extensions, then a swap: ten writes.
INITIAL: dict[int, Any] = {**{i: f"50{i}" for i in range(1, 9)}, 9: "701", 10: "702"}
WANTS = {**{i: f"60{i}" for i in range(1, 9)}, 9: "702", 10: "701"}
WRITES = 8 + 2 + 1


class Job:
    def __init__(self, serve: Serve, tmp_path: Path) -> None:
        self.server = serve("--rate-limit", "4/1", holdings=INITIAL, company="Lock")
        self.csv = tmp_path / "wants.csv"
        self.csv.write_text(renumbering(WANTS))
        self.journal = tmp_path / "job.jsonl"

    def start(self, *args: str) -> subprocess.Popen[str]:
        return self.server.start("import", *args)

    def records(self) -> list[dict[str, Any]]:
        return read_json_lines(self.journal)

    def count(self, kind: str) -> int:
        return sum(1 for record in self.records() if record["type"] == kind)

    def pause_when(self, process: subprocess.Popen[str], ready: Callable[[], bool]) -> None:
        pause_when(process, ready, "the run's pause point")

    def refused(self, *args: str) -> None:
        """A second run on the journal: refused at once, the journal untouched (that it
        sent no write, the write log's count at the end shows: a write the paused run had
        in flight may still land meanwhile)."""
        before = self.journal.read_bytes()
        result = self.server.cli("import", *args)
        assert result.returncode == 1, result.stderr
        errors = [line for line in result.stderr.splitlines() if "error:" in line]
        assert errors == [
            f"aircall-ext: error: journal {self.journal} is in use by another run "
            "(wait for that run to end (`aircall-ext jobs` shows where the job stands); "
            "the lock goes away with the process that holds it)"
        ], result.stderr
        assert self.journal.read_bytes() == before


def resume_twice_at_once(job: Job) -> None:
    stop = job.start(str(job.csv), "--yes", "--journal", str(job.journal))
    job.pause_when(stop, lambda: job.count("done") >= 2)
    stop.send_signal(signal.SIGTERM)
    os.kill(stop.pid, signal.SIGCONT)
    assert stop.wait(timeout=DEADLINE) == 5

    first = job.start("--resume", str(job.journal))
    job.pause_when(first, lambda: job.count("done") >= 4)  # the resume is writing
    job.refused("--resume", str(job.journal))  # the CI retry beside it
    job.refused("--undo", str(job.journal), "--yes")  # nor is the job taken back meanwhile
    os.kill(first.pid, signal.SIGCONT)
    _out, err = first.communicate(timeout=DEADLINE)
    assert first.returncode == 0, err


def test_a_second_resume_of_a_journal_in_use_is_refused_and_nothing_is_sent_twice(
    serve: Serve, tmp_path: Path
) -> None:
    job = Job(serve, tmp_path)
    resume_twice_at_once(job)

    final = job.server.holdings()
    assert final == {**INITIAL, **WANTS}
    writes = job.server.applied()
    assert replay_writes(INITIAL, writes) == final
    assert len(writes) == WRITES  # each write once
    numbers = [r["step"] for r in job.records() if r["type"] == "start"]
    assert numbers == sorted(set(numbers))  # one run's records, in order
    assert job.records()[-1]["type"] == "end" and job.records()[-1]["status"] == "complete"


def test_a_killed_run_leaves_no_lock_behind(serve: Serve, tmp_path: Path) -> None:
    job = Job(serve, tmp_path)
    running = job.start(str(job.csv), "--yes", "--journal", str(job.journal))
    job.pause_when(running, lambda: job.count("done") >= 3)
    job.refused("--resume", str(job.journal))  # a new import holds its own journal's lock
    running.kill()  # SIGKILL: no handler runs, the kernel drops the lock
    running.wait(timeout=DEADLINE)

    resumed = job.server.cli("import", "--resume", str(job.journal))
    assert resumed.returncode == 0, resumed.stderr
    final = job.server.holdings()
    assert final == {**INITIAL, **WANTS}
    assert replay_writes(INITIAL, job.server.applied()) == final

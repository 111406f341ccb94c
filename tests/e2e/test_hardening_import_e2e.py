"""How a real import process ends when it is stopped from outside, and where it writes.

Against a real ``sandbox serve`` whose every answer is slowed, the installed console script
is signalled at an exact point: the journal shows a write started and the server holds its
PUT (it says so when the request arrives). SIGTERM (``timeout``, CI cancellation), SIGHUP
(a lost terminal) and SIGINT (Ctrl-C) must all end the same way: the write in flight
settles and is journalled, exit 5, the resume command on stderr, the report written, and
that resume converges. Outputs to pipes and ``/dev/stdout`` are written directly.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CLI, DEADLINE, SandboxServer, Serve, sandbox_env, wait_for
from tests.e2e.test_crash_safety_e2e import SLOW, Run, put_in_flight, starts
from tests.scenes import CRASH_BEFORE, CRASH_CYCLES, CRASH_MOVES, CRASH_WANTS, replay_writes

# Runs argv with SIGHUP at its default: the import honours an ignored SIGHUP (``nohup``), and
# a test run under nohup would hand that on to the process it means to hang up.
HANGUP_BY_DEFAULT = [
    sys.executable,
    "-c",
    "import os, signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])",
]


def start_import(run: Run, server: SandboxServer) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *HANGUP_BY_DEFAULT,
            CLI,
            "import",
            str(run.csv),
            "--yes",
            "--journal",
            str(run.journal),
            "--report",
            str(run.report),
        ],
        env=server.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_put_in_flight(run: Run, server: SandboxServer, process: subprocess.Popen[str]) -> None:
    """A write done, and the next one's PUT on the server, not yet answered."""
    wait_for(
        lambda: len(starts(run)) >= 2 and put_in_flight(run, server),
        "the second write's PUT held by the server",
        process,
    )


def resume_command(stderr: str) -> list[str]:
    command = stderr.split("finish it with `", 1)[1].split("`", 1)[0]
    return shlex.split(command)[1:]


def records_of(run: Run, kind: str) -> list[dict[str, Any]]:
    return [r for r in run.records() if r["type"] == kind]


def assert_resume_converges(run: Run, serve: Serve, server: SandboxServer, stderr: str) -> None:
    """The resume the message names finishes the job, against the same account (same port,
    database and write log) served without the slowness that made the stop point reachable."""
    assert server.stop() == 0  # lets a write still in flight finish
    fast = serve(
        "--port", server.port, "--rate-limit", "off", "--write-log", str(run.writes),
        state=run.state,
    )  # fmt: skip
    resumed = fast.cli(*resume_command(stderr))
    assert resumed.returncode == 0, resumed.stderr
    assert fast.stop() == 0
    final = replay_writes(CRASH_BEFORE, run.applied())
    assert {u: final[u] for u in CRASH_WANTS} == CRASH_WANTS
    assert len(run.applied()) == CRASH_MOVES + CRASH_CYCLES  # nothing written twice


@pytest.mark.parametrize(
    ("signum", "reason"),
    [
        (signal.SIGTERM, "stopped by SIGTERM"),
        (signal.SIGHUP, "stopped by SIGHUP"),
        (signal.SIGINT, "interrupted"),
    ],
)
def test_a_stop_signal_settles_the_write_in_flight_then_exits_5_with_a_report(
    serve: Serve, tmp_path: Path, signum: int, reason: str
) -> None:
    run = Run(tmp_path)
    server = serve(*SLOW, "--write-log", str(run.writes), state=run.state)
    process = start_import(run, server)
    wait_for_put_in_flight(run, server, process)
    in_flight = starts(run)[-1]["step"]
    process.send_signal(signum)
    _out, err = process.communicate(timeout=DEADLINE)

    assert process.returncode == 5, err
    error = [line for line in err.splitlines() if "error:" in line]
    assert len(error) == 1 and reason in error[0] and str(run.journal) in error[0]
    assert "import --resume" in error[0]
    # The write on the wire was let finish and its answer journalled; nothing after it.
    assert in_flight in [r["step"] for r in records_of(run, "done")]
    assert [r["step"] for r in records_of(run, "start")] == [
        r["step"] for r in records_of(run, "done")
    ]
    assert records_of(run, "interrupted") == []
    assert run.records()[-1]["type"] == "end" and run.records()[-1]["status"] == "stopped"
    assert len(run.applied()) == len(records_of(run, "done"))
    # The report: every row, private.
    assert stat.S_IMODE(run.report.stat().st_mode) == 0o600
    rows = run.report.read_text().splitlines()[1:]
    assert len(rows) == CRASH_MOVES
    assert any(",applied," in r for r in rows) and any(",not-run," in r for r in rows)

    assert_resume_converges(run, serve, server, err)


def test_a_second_signal_stops_at_once_and_the_journal_still_ends(
    serve: Serve, tmp_path: Path
) -> None:
    """A lost terminal, then a kill: two different signals, which the kernel never merges
    (two SIGTERMs sent at once may arrive as one). The first waits for the write on the
    wire; the second does not."""
    run = Run(tmp_path)
    server = serve(*SLOW, "--write-log", str(run.writes), state=run.state)
    process = start_import(run, server)
    wait_for_put_in_flight(run, server, process)
    process.send_signal(signal.SIGHUP)
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=DEADLINE)

    assert process.returncode == 5, err
    assert "stopped by SIGHUP" in err and "import --resume" in err
    last = run.records()[-3:]
    assert [r["type"] for r in last] == ["start", "interrupted", "end"]
    assert last[1]["sent"] is True  # its outcome is left to --resume, which reads the account
    assert len(run.report.read_text().splitlines()) == 1 + CRASH_MOVES
    assert_resume_converges(run, serve, server, err)


def test_report_and_export_to_dev_stdout_and_a_process_substitution(tmp_path: Path) -> None:
    run = Run(tmp_path)
    env = sandbox_env(run.state)
    imported = subprocess.run(
        [CLI, "--sandbox", "-q", "import", str(run.csv), "--yes", "--report", "/dev/stdout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert imported.returncode == 0, imported.stderr
    assert "line,user_id,email,from,to,status,error" in imported.stdout
    assert imported.stdout.count(",applied,") == CRASH_MOVES

    exported = subprocess.run(
        [CLI, "--sandbox", "export", "/dev/stdout"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("user_id,email,name,extension\n")

    log = tmp_path / "log.txt"  # `>> log`: /dev/stdout must append, not truncate or replace
    log.write_text("earlier lines\n")
    with log.open("ab") as appended:
        logged = subprocess.run(
            [CLI, "--sandbox", "export", "/dev/stdout"], env=env, stdout=appended, timeout=DEADLINE
        )
    assert logged.returncode == 0
    assert log.read_text() == "earlier lines\n" + exported.stdout

    refused = subprocess.run(
        [
            CLI,
            "--sandbox",
            "-o",
            "json",
            "import",
            str(run.csv),
            "--yes",
            "--report",
            "/dev/stdout",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert "-o json" in refused.stderr

    bash = shutil.which("bash")
    assert bash is not None
    copy = tmp_path / "x"
    substituted = subprocess.run(
        [bash, "-c", f"{shlex.quote(CLI)} --sandbox export >(cat > {shlex.quote(str(copy))})"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert substituted.returncode == 0, substituted.stderr
    # bash does not wait for the substituted `cat`: the copy is complete once it ends a line.
    wait_for(lambda: copy.exists() and copy.read_text().endswith("\n"), "the substitution's copy")
    assert copy.read_text() == exported.stdout


def test_two_imports_of_same_named_files_at_once_get_their_own_journals(tmp_path: Path) -> None:
    """Each names its own journal, and each journal is its own job's."""
    run = Run(tmp_path)
    files = []
    for team, (user_id, extension) in enumerate([(13, "600"), (14, "700")]):
        folder = tmp_path / f"team{team}"
        folder.mkdir()
        path = folder / "users.csv"
        path.write_text(f"user_id,extension\n{user_id},{extension}\n")
        files.append(path)
    env = sandbox_env(run.state, XDG_STATE_HOME=str(tmp_path / "state"))
    processes = [
        subprocess.Popen(
            [CLI, "--sandbox", "import", str(path), "--yes"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files
    ]
    journals = []
    for process, path in zip(processes, files, strict=True):
        _out, err = process.communicate(timeout=DEADLINE)
        assert process.returncode == 0, err
        (line,) = [line for line in err.splitlines() if line.startswith("journal: ")]
        journal = Path(line.removeprefix("journal: "))
        assert json.loads(journal.read_text().splitlines()[0])["file"] == str(path)
        journals.append(journal)
    assert journals[0] != journals[1]
    assert sorted(p.name for p in journals[0].parent.iterdir()) == sorted(p.name for p in journals)
    assert os.path.commonpath(journals) == str(tmp_path / "state" / "aircall-ext" / "journals")

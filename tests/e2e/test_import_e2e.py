"""``import`` with the installed console script against a rate-limited ``sandbox serve``.

The server's access log counts requests exactly; its write log (every applied change, in
order) is replayed to prove no two users ever shared an extension at any moment.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import API_TOKEN, CLI, SandboxServer, Serve, replay_writes
from tests.scenes import renumbering

pytestmark = pytest.mark.e2e

# A 3-cycle (1 → 2 → 3), a 2-cycle (4 ↔ 5), and a chain ending in an assignment
# (7 → free 303, 6 → 7's 302, 8 → 6's 301); 9 and 10 are not in the file.
INITIAL: dict[int, Any] = {
    1: "101", 2: "102", 3: "103", 4: "201", 5: "202", 6: "301", 7: "302", 8: None,
    9: "100", 10: "500",
}  # fmt: skip
DESIRED = {1: "102", 2: "103", 3: "101", 4: "202", 5: "201", 6: "302", 7: "303", 8: "301"}
CHANGES, CYCLES = 8, 2
CSV = renumbering(DESIRED)


def start(serve: Serve) -> SandboxServer:
    return serve("--rate-limit", "5/1", holdings=INITIAL)


def test_cycles_and_chain_import_with_zero_429_and_exactly_c_plus_k_puts(
    serve: Serve, tmp_path: Path
) -> None:
    server = start(serve)
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(CSV)
    journal = tmp_path / "journal.jsonl"
    report = tmp_path / "report.csv"
    began = time.monotonic()
    result = server.cli(
        "-o", "json", "import", str(csv_file), "--yes", "--journal", str(journal),
        "--report", str(report),
    )  # fmt: skip
    elapsed = time.monotonic() - began
    assert result.returncode == 0, result.stderr
    puts = server.requests("PUT")  # counted while the server runs (the fixture settles)
    assert len(puts) == CHANGES + CYCLES
    assert all(r.status == "200" for r in puts)
    assert [r for r in server.requests() if r.status == "429"] == []
    assert len(server.requests("GET", "/v2/users")) == 2  # plan read + verification read
    assert len(server.requests("GET")) == 3  # ... and the first write read back
    assert len(server.requests()) == 3 + CHANGES + CYCLES  # nothing else: no numbers, no company
    # 13 requests at 5 per second-aligned window need at least 2 window changes.
    assert elapsed >= 1.0

    assert server.stop() == 0
    doc = json.loads(result.stdout)
    assert doc["summary"] == {"applied": 8, "unchanged": 0, "skipped": 0, "failed": 0, "not_run": 0}
    assert server.holdings() == {**DESIRED, 9: "100", 10: "500"}
    assert replay_writes(INITIAL, server.applied()) == server.holdings()
    for text in (result.stdout, result.stderr, journal.read_text(), report.read_text()):
        assert API_TOKEN not in text
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600


def wait_for_done(journal: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        text = journal.read_text() if journal.exists() else ""
        if text.count('"type":"done"') >= count:
            return
        assert process.poll() is None, "the import finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)


@pytest.mark.parametrize("kill_after", [1, 4])  # the 4th write parks the 3-cycle
def test_sigkill_mid_import_then_resume_converges(
    serve: Serve, tmp_path: Path, kill_after: int
) -> None:
    server = start(serve)
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(CSV)
    journal = tmp_path / "journal.jsonl"
    process = subprocess.Popen(
        [CLI, "import", str(csv_file), "--yes", "--journal", str(journal)],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_for_done(journal, kill_after, process)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL

    resumed = server.cli("-o", "json", "import", "--resume", str(journal))
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["summary"]["applied"] == 8
    again = server.cli("import", "--resume", str(journal))
    assert again.returncode == 0, again.stderr
    assert [r for r in server.requests() if r.status == "429"] == []
    assert server.stop() == 0

    assert server.holdings() == {**DESIRED, 9: "100", 10: "500"}
    writes = server.applied()
    assert replay_writes(INITIAL, writes) == server.holdings()
    assert len(writes) == CHANGES + CYCLES  # nothing written twice

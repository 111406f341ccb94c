"""``import --undo`` stopped by a signal, with the installed console script against
``sandbox serve``, then resumed to the end.

What an undo writes and what it costs is counted in-process
(tests/cli/test_request_floor_cli.py, tests/cli/test_undo_cli.py); here a real undo process
is stopped with a write on the wire. The server's write log, replayed from the state before
the import across the import, the undo and its resume, proves no two users ever shared an
extension and nothing was written twice.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CLI, DEADLINE, Serve, read_json_lines, wait_for
from tests.scenes import renumbering, replay_writes

# A 3-cycle (1 → 2 → 3) and a swap (4 ↔ 5); 9 and 10 are not in the file.
INITIAL: dict[int, Any] = {1: "101", 2: "102", 3: "103", 4: "201", 5: "202", 9: "100", 10: "500"}
DESIRED = {1: "102", 2: "103", 3: "101", 4: "202", 5: "201"}
CHANGES, CYCLES = 5, 2
SLOW = ("--faults", "slow:1", "--seed", "1", "--slow-seconds", "0.25", "--rate-limit", "off")


def test_a_stopped_undo_resumes_to_the_end(serve: Serve, tmp_path: Path) -> None:
    fast = serve("--rate-limit", "off", holdings=INITIAL)
    csv_file, journal = tmp_path / "users.csv", tmp_path / "import.jsonl"
    csv_file.write_text(renumbering(DESIRED))
    imported = fast.cli("import", str(csv_file), "--yes", "--journal", str(journal))
    assert imported.returncode == 0, imported.stderr
    assert fast.stop() == 0
    assert fast.write_log is not None
    # The same account (host and port) for the journal, served slowly for the undo.
    log = ("--write-log", str(fast.write_log))
    server = serve(*SLOW, "--port", fast.port, *log, state=fast.state)

    undo = tmp_path / "undo.jsonl"
    process = subprocess.Popen(
        [CLI, "import", "--undo", str(journal), "--yes", "--journal", str(undo)],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def mid_undo_with_a_put_held() -> bool:
            started = [r for r in read_json_lines(undo) if r["type"] == "start"]
            return len(started) >= 3 and len(server.held("PUT")) == len(started)

        wait_for(mid_undo_with_a_put_held, "the undo's third PUT held by the server", process)
        process.send_signal(signal.SIGTERM)  # the write in flight settles, then it stops
        _out, err = process.communicate(timeout=DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 5, err
    assert "--resume" in err and str(undo) in err
    assert server.stop() == 0  # lets a write still in flight finish
    assert server.holdings() not in (INITIAL, {**INITIAL, **DESIRED})  # stopped part-way

    again = serve("--rate-limit", "off", "--port", fast.port, *log, state=fast.state)
    resumed = again.cli("import", "--resume", str(undo))
    assert resumed.returncode == 0, resumed.stderr
    assert again.stop() == 0
    assert again.holdings() == INITIAL
    writes = read_json_lines(fast.write_log)
    assert len(writes) == 2 * (CHANGES + CYCLES)  # nothing written twice across the stop
    assert replay_writes(INITIAL, writes) == INITIAL

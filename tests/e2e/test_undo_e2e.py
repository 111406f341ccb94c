"""``import --undo`` with the installed console script against ``sandbox serve``.

The server's write log (every applied change, in order), replayed from the state before the
import across the import, the undo and the undo of the undo, proves no two users ever shared
an extension at any moment; its access log counts the undo's requests exactly.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CLI, SandboxServer, Serve, replay_writes
from tests.scenes import renumbering

pytestmark = pytest.mark.e2e

# A 3-cycle (1 → 2 → 3) and a swap (4 ↔ 5); 9 and 10 are not in the file.
INITIAL: dict[int, Any] = {1: "101", 2: "102", 3: "103", 4: "201", 5: "202", 9: "100", 10: "500"}
DESIRED = {1: "102", 2: "103", 3: "101", 4: "202", 5: "201"}
CHANGES, CYCLES = 5, 2
CSV = renumbering(DESIRED)
SLOW = ("--faults", "slow:1", "--seed", "1", "--slow-seconds", "0.2", "--rate-limit", "off")


def start(serve: Serve, *options: str) -> SandboxServer:
    return serve(*(options or ("--rate-limit", "off")), holdings=INITIAL)


def imported(server: SandboxServer, tmp_path: Path) -> Path:
    csv_file = tmp_path / "users.csv"
    csv_file.write_text(CSV)
    journal = tmp_path / "import.jsonl"
    result = server.cli("import", str(csv_file), "--yes", "--journal", str(journal))
    assert result.returncode == 0, result.stderr
    return journal


def test_undo_of_a_cycle_import_restores_everything_without_a_collision_at_c_plus_k_puts(
    serve: Serve, tmp_path: Path
) -> None:
    server = start(serve)
    journal = imported(server, tmp_path)
    assert server.holdings() == {**INITIAL, **DESIRED}
    before = len(server.requests())

    undo = tmp_path / "undo.jsonl"
    result = server.cli("-o", "json", "import", "--undo", str(journal), "--yes",
                        "--journal", str(undo))  # fmt: skip
    assert result.returncode == 0, result.stderr
    requests = server.requests()[before:]
    puts = [r for r in requests if r.method == "PUT"]
    assert len(puts) == CHANGES + CYCLES and all(r.status == "200" for r in puts)
    # One listing page to plan (7 users), the writes with the first read back, one page to
    # verify: nothing else.
    gets = [r.path for r in requests if r.method == "GET"]
    assert gets == ["/v2/users", puts[0].path, "/v2/users"]
    assert len(requests) == 3 + CHANGES + CYCLES
    assert json.loads(result.stdout)["summary"]["applied"] == CHANGES
    assert server.holdings() == INITIAL

    redo = server.cli("import", "--undo", str(undo), "--yes")  # undoing the undo
    assert redo.returncode == 0, redo.stderr
    assert server.holdings() == {**INITIAL, **DESIRED}
    assert server.stop() == 0

    writes = server.applied()
    assert len(writes) == 3 * (CHANGES + CYCLES)
    assert replay_writes(INITIAL, writes) == {**INITIAL, **DESIRED}
    assert replay_writes(INITIAL, writes[: 2 * (CHANGES + CYCLES)]) == INITIAL


def test_a_row_changed_by_another_client_is_skipped_and_named(serve: Serve, tmp_path: Path) -> None:
    server = start(serve)
    journal = imported(server, tmp_path)
    moved = server.cli("assign", "4", "299")  # another admin, after the import
    assert moved.returncode == 0, moved.stderr

    result = server.cli("import", "--undo", str(journal), "--yes")
    assert result.returncode == 1
    assert "skipped: user 4 has 299 now, not 202 as the import left it" in result.stderr
    assert server.stop() == 0
    # 5 still goes back to 202: 4 left it for 299, so the swap is a plain move now.
    assert server.holdings() == {**INITIAL, 4: "299"}
    assert replay_writes(INITIAL, server.applied()) == server.holdings()


def test_a_stopped_undo_resumes_to_the_end(serve: Serve, tmp_path: Path) -> None:
    server = start(serve, *SLOW)
    journal = imported(server, tmp_path)
    undo = tmp_path / "undo.jsonl"
    process = subprocess.Popen(
        [CLI, "import", "--undo", str(journal), "--yes", "--journal", str(undo)],
        env=server.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (undo.exists() and undo.read_text().count('"type":"done"') >= 3):
            assert process.poll() is None, "the undo ended before it could be stopped"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        process.send_signal(signal.SIGTERM)  # the write in flight settles, then it stops
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 5, err
    assert "--resume" in err and str(undo) in err
    assert server.holdings() != INITIAL

    resumed = server.cli("import", "--resume", str(undo))
    assert resumed.returncode == 0, resumed.stderr
    assert server.holdings() == INITIAL
    assert server.stop() == 0
    writes = server.applied()
    assert len(writes) == 2 * (CHANGES + CYCLES)  # nothing written twice across the stop
    assert replay_writes(INITIAL, writes) == INITIAL

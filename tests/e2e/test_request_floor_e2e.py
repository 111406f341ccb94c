"""The request floor and pacing through the installed script and a real server.

The floor itself is counted in-process (tests/cli/test_request_floor_cli.py): a counting
transport sees what the server's access log would show. Here the installed script runs the
same import against ``sandbox serve`` rate-limited as the live API is, and its access log
holds exactly those requests, none refused: the in-process count is the real one. The
write log, replayed, proves no two users ever shared an extension; no secret reaches an
output, the journal or the report.

Pacing on a terminal: the progress bar says when the import waits for the budget.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pty
import stat
import subprocess
import threading
from pathlib import Path

from aircall_ext.sandbox.demo import generate_account
from tests.e2e.conftest import API_TOKEN, CLI, SandboxServer, Serve, read_json_lines
from tests.scenes import Request, floor_import, only, replay_writes, save_state

USERS = 120
PAGES_U = math.ceil(USERS / 50)  # 3


class Audit:
    """The server's requests since the last call, so one server serves several commands."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.seen = 0

    def new(self) -> list[Request]:
        requests = self.server.requests()
        fresh, self.seen = requests[self.seen :], len(requests)
        return fresh


def test_the_installed_script_sends_a_real_server_exactly_the_requests_counted_in_process(
    serve: Serve, tmp_path: Path
) -> None:
    state = tmp_path / "big.db"
    account = generate_account(USERS, seed=8, numbers=3)
    save_state(state, account)
    initial = {u["id"]: u["extension"] for u in account.users()}
    # 19 requests at 10 per second: the client must pace across windows, never refused.
    write_log = tmp_path / "writes.jsonl"
    server = serve("--rate-limit", "10/1", "--write-log", str(write_log), state=state)
    audit = Audit(server)
    text, changes, cycles, desired = floor_import(account)
    csv_file, journal, report = tmp_path / "desired.csv", tmp_path / "j.jsonl", tmp_path / "r.csv"
    csv_file.write_text(text)

    dry = server.cli("-o", "json", "import", str(csv_file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    only(audit.new(), GET_users=PAGES_U)

    result = server.cli(
        "-o", "json", "import", str(csv_file), "--yes", "--journal", str(journal),
        "--report", str(report),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    sent = audit.new()
    writes = changes + cycles
    only(sent, GET_users=2 * PAGES_U, PUT_users_one=writes, GET_users_one=1)
    puts = ["PUT", "GET", *["PUT"] * (writes - 1)]  # the first write is read back
    assert [r.method for r in sent] == ["GET"] * PAGES_U + puts + ["GET"] * PAGES_U
    assert [r.status for r in sent] == ["200"] * len(sent)  # paced: no 429
    assert json.loads(result.stdout)["summary"]["applied"] == changes

    again = server.cli("import", str(csv_file), "--yes")  # done already
    assert again.returncode == 0, again.stderr
    only(audit.new(), GET_users=PAGES_U)
    assert server.stop() == 0

    final = replay_writes(initial, read_json_lines(write_log))
    assert final == server.holdings() and {u: final[u] for u in desired} == desired
    for text in (result.stdout, result.stderr, journal.read_text(), report.read_text()):
        assert API_TOKEN not in text
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600


# -- pacing on a terminal -----------------------------------------------------------------


def rotation(users: list[dict[str, object]]) -> str:
    """Each user takes the next one's extension: len(users) + 1 writes."""
    rows = [
        f"{user['id']},{users[(i + 1) % len(users)]['extension']}" for i, user in enumerate(users)
    ]
    return "user_id,extension\n" + "\n".join(rows) + "\n"


def run_with_terminal_stderr(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stderr on a pseudo-terminal (progress bars only draw on one)."""
    master, slave = pty.openpty()
    chunks: list[bytes] = []

    def drain() -> None:
        with contextlib.suppress(OSError):  # EIO once the child side is closed
            while chunk := os.read(master, 4096):
                chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        done = subprocess.run(
            [CLI, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=slave,
            timeout=120,
            check=False,
        )
    finally:
        os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    return done.returncode, b"".join(chunks).decode(errors="replace")


def test_the_import_progress_bar_shows_rate_limit_waits(serve: Serve, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    account = generate_account(20, seed=8)
    save_state(state, account)
    server = serve("--rate-limit", "4/1", state=state)
    csv_file = tmp_path / "rotate.csv"
    csv_file.write_text(rotation(account.users()[:8]))
    code, terminal = run_with_terminal_stderr(
        ["import", str(csv_file), "--yes", "--journal", str(tmp_path / "j.jsonl")],
        server.env(COLUMNS="100"),
    )
    assert code == 0, terminal
    assert "waiting for rate limit" in terminal
    assert "import [" in terminal and "9/9" in terminal
    assert [r for r in server.requests() if r.status == "429"] == []

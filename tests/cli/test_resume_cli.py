"""``import --resume`` of what a crash or a failing API leaves behind, through the in-process
sandbox (the kills themselves are in tests/e2e/test_crash_safety_e2e.py)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import httpx
import pytest

from aircall_ext.api.client import ApiClient
from tests.conftest import RequestLog, RunCli
from tests.scenes import (
    CRASH_BEFORE,
    CRASH_CYCLES,
    CRASH_MOVES,
    CRASH_WANTS,
    WriteState,
    renumbering,
    users_holding,
)


def test_resume_of_a_journal_cut_inside_its_header_is_a_clear_usage_error(
    run_cli: RunCli, sandbox_requests: RequestLog, write_state: WriteState, tmp_path: Path
) -> None:
    """A kill while the header itself was being written leaves no usable journal: nothing
    was written, and the message says to run the import again."""
    write_state(users_holding(CRASH_BEFORE))
    journal = tmp_path / "journal.jsonl"
    journal.write_text('{"type":"header","version":1,"file":')
    result = run_cli("--sandbox", "import", "--resume", str(journal))
    assert result.exit_code == 2
    assert "run the import again" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sandbox_requests("PUT") == []


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

    write_state(users_holding(CRASH_BEFORE))
    transport = Flaky(session._sandbox_transport())
    monkeypatch.setattr(session, "_sandbox_transport", lambda: transport)
    monkeypatch.setattr(session, "ApiClient", functools.partial(ApiClient, sleep=lambda _s: None))
    csv_file, journal = tmp_path / "renumber.csv", tmp_path / "journal.jsonl"
    csv_file.write_text(renumbering(CRASH_WANTS))
    transport.max_puts = 3
    stopped = run_cli("--sandbox", "import", str(csv_file), "--yes", "--journal", str(journal))
    assert stopped.exit_code == 5, stopped.stderr

    transport.max_puts, transport.failing = None, {"GET"}
    failed = run_cli("--sandbox", "import", "--resume", str(journal))
    assert failed.exit_code == 5, failed.stderr
    errors = [line for line in failed.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and str(journal) in errors[0] and "--resume" in errors[0]
    assert transport.puts == 3

    transport.failing = set()
    done = run_cli("--sandbox", "-o", "json", "import", "--resume", str(journal))
    assert done.exit_code == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["failed"] == 0
    assert transport.puts == CRASH_MOVES + CRASH_CYCLES

"""The apply loop against the sandbox app, with faults injected at the HTTP edge.

Every applied write is checked by the sandbox's ``on_write`` hook: no two users may ever
share an extension. The clock and sleep are fake: nothing here waits for real.
"""

from __future__ import annotations

import io
import json
import os
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from aircall_ext.api.client import ApiClient
from aircall_ext.api.ratelimit import Budget
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.errors import Hint, ImportStopped, Refused, UsageError
from aircall_ext.sandbox import SandboxApp
from aircall_ext.sandbox.app import AppliedWrite
from aircall_ext.sandbox.ratelimit import RateLimit
from aircall_ext.sandbox.state import SandboxAccount
from aircall_ext.services import journal as journal_module
from aircall_ext.services.identity import account_identity
from aircall_ext.services.importjob import (
    Connected,
    FromCsv,
    FromJournal,
    FromUndo,
    ImportJob,
    ImportOptions,
    ImportResult,
    ImportUi,
    JobSource,
    Progress,
)
from aircall_ext.services.journal import read_journal
from aircall_ext.services.journalrecords import EndRecord, InterruptedRecord
from aircall_ext.services.stopsignals import StopSignals
from tests.conftest import WriteState
from tests.scenes import (
    IMPORT_BEFORE,
    IMPORT_CSV,
    IMPORT_DESIRED,
    extensions,
    renumbering,
    users_holding,
)

BASE_URL = "http://sandbox.test"
IDENTITY = account_identity(BASE_URL, "id", sandbox=False)

# A 3-cycle, a 2-cycle, a chain, an assignment, a blank cell, an unchanged row, and a user
# the file does not mention holding 100 (so the parking extension is 104).
USERS = users_holding({
    1: "101", 2: "102", 3: "103", 4: "201", 5: "202", 6: "301", 7: "302", 8: None,
    9: "501", 10: "601", 11: "100",
})  # fmt: skip
DESIRED = {1: "102", 2: "103", 3: "101", 4: "202", 5: "201", 6: "302", 7: "303", 8: "401"}
CSV = renumbering({**DESIRED, 9: None, 10: "601"}, emails=True)
CHANGES, CYCLES = 8, 2

Hook = Callable[[httpx.Request], httpx.Response | None]


class Transport(httpx.BaseTransport):
    """The sandbox app behind a hook per PUT attempt (1-based), and a request log."""

    def __init__(self, app: SandboxApp) -> None:
        self.inner = httpx.WSGITransport(app=app)
        self.hooks: dict[int, Hook] = {}
        self.after: dict[int, Hook] = {}
        self.fail_from: int | None = None
        self.puts = 0
        self.log: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts += 1
            if self.fail_from is not None and self.puts >= self.fail_from:
                return self._logged(request, httpx.Response(500, json={"error": "down"}))
            hook = self.hooks.get(self.puts)
            if hook is not None and (early := hook(request)) is not None:
                return self._logged(request, early)
        response = self._logged(request, self.inner.handle_request(request))
        late = self.after.get(self.puts) if request.method == "PUT" else None
        if late is not None and (replaced := late(request)) is not None:
            return replaced
        return response

    def _logged(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.log.append(f"{request.method} {request.url.path} {response.status_code}")
        return response

    def count(self, method: str, status: int | None = None) -> int:
        return sum(
            1
            for line in self.log
            if line.startswith(method + " ") and (status is None or line.endswith(f" {status}"))
        )


@dataclass
class Recorder:
    events: list[tuple[str, Any]] = field(default_factory=list)

    def begin(self, total: int) -> None:
        self.events.append(("begin", total))

    def advance(self, done: int, total: int) -> None:
        self.events.append(("advance", (done, total)))

    def waiting(self, seconds: float) -> None:
        self.events.append(("waiting", seconds))

    def end(self) -> None:
        self.events.append(("end", None))


class Ui(ImportUi):
    """The job's callbacks, recorded; a stopped job's result is taken from ``finished``."""

    def __init__(self, progress: Recorder | None = None) -> None:
        self.recorder = progress
        self.said: list[Hint] = []
        self.result: ImportResult | None = None

    def say(self, message: Hint) -> None:
        self.said.append(message)

    def progress(self) -> Progress:
        return self.recorder or super().progress()

    def finished(self, result: ImportResult) -> None:
        self.result = result

    def outcome(self, job: ImportJob) -> ImportResult:
        try:
            return job.run()
        except ImportStopped:
            assert self.result is not None and self.result.stopped is not None
            return self.result


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sandbox:
    """One account, and a fresh client (with its transport) per command run."""

    tmp_path: Path
    users: list[dict[str, Any]]
    rate_limit: RateLimit | None = None
    time: FakeTime = field(default_factory=FakeTime)
    writes: list[AppliedWrite] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.account = SandboxAccount.from_document({"company": {"name": "T"}, "users": self.users})
        self.app = SandboxApp(
            self.account,
            on_write=self._check_unique,
            rate_limit=self.rate_limit,
            clock=self.time.clock,
            sleep=self.time.sleep,
        )
        self.csv = self.tmp_path / "users.csv"
        self.csv.write_text(CSV)
        self.journal = self.tmp_path / "journal.jsonl"

    def _check_unique(self, write: AppliedWrite) -> None:
        self.writes.append(write)
        held = Counter(u["extension"] for u in self.account.users() if u["extension"])
        shared = {ext: n for ext, n in held.items() if n > 1}
        assert not shared, f"after {write}: shared extensions {shared}"

    def client(self) -> tuple[ApiClient, Transport]:
        transport = Transport(self.app)
        client = ApiClient(
            BASE_URL,
            "id",
            "tok",
            transport=transport,
            allow_http=True,
            sleep=self.time.sleep,
            clock=self.time.clock,
            random=lambda: 0.5,
            budget=Budget(self.rate_limit.requests, self.rate_limit.seconds)
            if self.rate_limit
            else None,
        )
        return client, transport

    def extensions(self) -> dict[int, str | None]:
        return {u["id"]: u["extension"] for u in self.account.users()}

    def job(
        self,
        client: ApiClient,
        source: JobSource | None = None,
        progress: Recorder | None = None,
        stop: StopSignals | None = None,
        **options: Any,
    ) -> tuple[ImportJob, Ui]:
        ui = Ui(progress)
        defaults: dict[str, Any] = {"yes": True, "journal": self.journal, "fsync": False}
        job = ImportJob(
            source or FromCsv(str(self.csv)),
            Connected(client, IDENTITY),
            ImportOptions(**{**defaults, **options}),
            ui,
            stop=stop,
        )
        return job, ui

    def run(
        self,
        client: ApiClient,
        progress: Recorder | None = None,
        stop: StopSignals | None = None,
        **options: Any,
    ) -> ImportResult:
        """The job's result, whether it completed or stopped part-way."""
        job, ui = self.job(client, None, progress, stop, **options)
        return ui.outcome(job)

    def run_failing_from(self, put: int) -> ImportResult:
        """A run whose API answers 500 from its ``put``-th PUT (1-based) on."""
        client, transport = self.client()
        transport.fail_from = put
        return self.run(client)

    def resume(self, client: ApiClient) -> ImportResult:
        job, ui = self.job(client, FromJournal(self.journal), journal=None)
        return ui.outcome(job)

    def assert_desired(self) -> None:
        actual = self.extensions()
        assert {u: actual[u] for u in DESIRED} == DESIRED
        assert actual[9] == "501" and actual[10] == "601" and actual[11] == "100"


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path, [dict(u) for u in USERS])


def journal_types(path: Path) -> list[str]:
    return [r.kind for r in read_journal(path).records]


# -- the happy path ---------------------------------------------------------------------


def test_import_reaches_the_desired_state_with_the_floor_of_requests(sandbox: Sandbox) -> None:
    client, transport = sandbox.client()
    progress = Recorder()
    outcome = sandbox.run(client, progress)
    assert outcome.stopped is None
    sandbox.assert_desired()
    assert transport.count("PUT") == CHANGES + CYCLES
    # plan read, the first write read back, verification read (11 users: one page)
    assert transport.log[:3] == ["GET /v2/users 200", "PUT /v2/users/7 200", "GET /v2/users/7 200"]
    assert transport.count("GET") == 3
    assert client.request_count == 3 + CHANGES + CYCLES
    assert outcome.summary() == {
        "applied": 8,
        "unchanged": 1,
        "skipped": 1,
        "failed": 0,
        "not_run": 0,
    }
    assert [(w.user_id, w.extension) for w in sandbox.writes] == [
        (7, "303"),
        (6, "302"),
        (8, "401"),
        (1, "104"),  # parks the 3-cycle
        (3, "101"),
        (2, "103"),
        (1, "102"),
        (4, "104"),  # parks the 2-cycle
        (5, "201"),
        (4, "202"),
    ]
    assert progress.events[0] == ("begin", 10)
    assert progress.events[-2:] == [("advance", (10, 10)), ("end", None)]


def test_journal_brackets_every_write_and_holds_no_secret(sandbox: Sandbox) -> None:
    client, _transport = sandbox.client()
    sandbox.run(client)
    types = journal_types(sandbox.journal)
    assert types == ["start", "done"] * 10 + ["verified", "end"]
    text = sandbox.journal.read_text()
    assert "tok" not in text and '"id"' not in text.replace('"api_id_sha256"', "")
    assert read_journal(sandbox.journal).finished()


def test_rerunning_a_finished_import_writes_nothing(sandbox: Sandbox) -> None:
    sandbox.run(sandbox.client()[0])
    client, transport = sandbox.client()
    outcome = sandbox.run(client)
    assert transport.log == ["GET /v2/users 200"]
    assert outcome.journal is None
    assert outcome.summary()["unchanged"] == 9


def test_rate_limit_waits_are_reported_and_never_hit_429(tmp_path: Path) -> None:
    sandbox = Sandbox(tmp_path, [dict(u) for u in USERS], rate_limit=RateLimit(3, 1.0))
    client, transport = sandbox.client()
    progress = Recorder()
    outcome = sandbox.run(client, progress)
    assert outcome.stopped is None
    assert transport.count("GET", 429) + transport.count("PUT", 429) == 0
    assert any(kind == "waiting" for kind, _ in progress.events)
    sandbox.assert_desired()


# -- stopping and resuming --------------------------------------------------------------


def test_fatal_error_stops_cleanly_and_resume_converges(sandbox: Sandbox) -> None:
    client, transport = sandbox.client()
    transport.fail_from = 4  # the API goes down on the 4th write
    outcome = sandbox.run(client)
    assert outcome.stopped is not None and "HTTP 500" in outcome.stopped
    assert outcome.writes == 3
    assert outcome.summary() == {
        "applied": 3,
        "unchanged": 1,
        "skipped": 1,
        "failed": 1,
        "not_run": 4,
    }
    assert journal_types(sandbox.journal)[-3:] == ["start", "failed", "end"]

    client, transport = sandbox.client()
    resumed = sandbox.resume(client)
    assert resumed.stopped is None
    sandbox.assert_desired()
    assert resumed.summary()["applied"] == 8  # the job's result, earlier run included
    # Only what was left: no write repeated.
    assert transport.count("PUT") == CHANGES + CYCLES - 3
    assert len(sandbox.writes) == CHANGES + CYCLES


def test_ctrl_c_mid_write_stops_and_resume_converges(sandbox: Sandbox) -> None:
    def interrupt(_request: httpx.Request) -> httpx.Response | None:
        raise KeyboardInterrupt

    client, transport = sandbox.client()
    transport.hooks[5] = interrupt
    outcome = sandbox.run(client)
    assert outcome.stopped == "interrupted"
    types = journal_types(sandbox.journal)
    # The write in flight: started, never confirmed, and said to have been sent.
    assert types[-3:] == ["start", "interrupted", "end"]
    records = read_journal(sandbox.journal).records
    assert isinstance(records[-2], InterruptedRecord) and records[-2].sent is True
    assert isinstance(records[-1], EndRecord) and records[-1].status == "stopped"
    resumed = sandbox.resume(sandbox.client()[0])
    assert resumed.stopped is None
    sandbox.assert_desired()
    assert len(sandbox.writes) == CHANGES + CYCLES


# The plan: 7→303, 6→302, 8→401, then 1→104 (park), 3, 2, 1→102, then 4→104 (park), 5, 4.
@pytest.mark.parametrize("killed_after", [1, 3, 4, 5, 8, 10])
def test_kill_after_any_write_then_resume_converges(sandbox: Sandbox, killed_after: int) -> None:
    """A kill after the write reached the server but before the journal saw the answer
    (including right after a parking write): the account is the truth, not the journal."""

    def die(_request: httpx.Request) -> httpx.Response | None:
        raise KeyboardInterrupt

    client, transport = sandbox.client()
    transport.after[killed_after] = die
    first = sandbox.run(client)
    assert first.stopped == "interrupted"
    assert len(sandbox.writes) == killed_after
    client, transport = sandbox.client()
    resumed = sandbox.resume(client)
    assert resumed.stopped is None
    sandbox.assert_desired()
    assert len(sandbox.writes) == CHANGES + CYCLES  # a parked user is moved on, not re-parked
    # The write whose answer was lost landed: the report counts it as this job's work.
    assert resumed.summary()["applied"] == CHANGES


def test_two_resumes_are_harmless(sandbox: Sandbox) -> None:
    sandbox.run_failing_from(6)
    sandbox.resume(sandbox.client()[0])
    client, transport = sandbox.client()
    again = sandbox.resume(client)
    assert transport.log == ["GET /v2/users 200"]  # the read that re-plans; then nothing
    assert again.stopped is None
    sandbox.assert_desired()
    assert journal_types(sandbox.journal).count("resume") == 2


def test_resume_refuses_a_changed_file(sandbox: Sandbox) -> None:
    sandbox.run_failing_from(2)
    sandbox.csv.write_text(CSV.replace("8,user8@example.com,401", "8,user8@example.com,402"))
    with pytest.raises(Refused, match="changed since the import started"):
        sandbox.job(sandbox.client()[0], FromJournal(sandbox.journal))[0].open()


@pytest.mark.parametrize("source", [FromJournal, FromUndo])
@pytest.mark.parametrize(
    "other",
    [
        account_identity("https://api.example.com/v1", "id", sandbox=False),
        account_identity(BASE_URL, "another-id", sandbox=False),
        # The same host and API ID, but the sandbox: the rule saved plans always had.
        account_identity(BASE_URL, "id", sandbox=True),
    ],
)
def test_a_journal_is_resumed_or_undone_on_its_own_account_only(
    sandbox: Sandbox, source: Callable[[Path], JobSource], other: AccountIdentity
) -> None:
    sandbox.run_failing_from(2)
    job = ImportJob(source(sandbox.journal), Connected(sandbox.client()[0], other))
    with pytest.raises(Refused, match="belongs to another account"):
        job.open()
    lock = read_journal(sandbox.journal, lock=True).lock  # the refused run let it go
    assert lock is not None
    lock.release()


def test_resume_of_a_stdin_import_without_a_copy_is_refused_clearly(sandbox: Sandbox) -> None:
    """A journal written before standard input was kept (or whose copy is gone)."""
    sandbox.run_failing_from(2)
    lines = sandbox.journal.read_text().splitlines()
    header = json.loads(lines[0])
    header["file"] = "-"
    sandbox.journal.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(UsageError, match="standard input and kept no copy"):
        sandbox.job(sandbox.client()[0], FromJournal(sandbox.journal))[0].open()
    header["input_copy"] = str(sandbox.tmp_path / "gone.input.csv")
    sandbox.journal.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    with pytest.raises(UsageError, match=r"gone\.input\.csv"):
        sandbox.job(sandbox.client()[0], FromJournal(sandbox.journal))[0].open()


def test_a_stopped_import_of_standard_input_resumes_from_the_private_copy(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(CSV.encode())))
    client, transport = sandbox.client()
    transport.fail_from = 4
    job, ui = sandbox.job(client, FromCsv("-"), journal=None)
    stopped = ui.outcome(job)
    assert stopped.journal is not None
    header = read_journal(stopped.journal).header
    assert header.file == "-"
    copy = Path(str(header.input_copy))
    assert copy.parent == stopped.journal.parent
    assert copy.read_bytes() == CSV.encode()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert ui.said[-1] == f"standard input is kept in {copy}, for --resume"

    job, ui = sandbox.job(sandbox.client()[0], FromJournal(stopped.journal), journal=None)
    outcome = job.run()
    assert outcome.stopped is None
    assert ui.said[0] == (
        f"resuming standard input (kept in {copy}) from journal {stopped.journal}"
    )
    sandbox.assert_desired()

    copy.write_bytes(CSV.encode() + b"11,user11@example.com,100\n")
    with pytest.raises(Refused, match="changed since the import started"):
        sandbox.job(sandbox.client()[0], FromJournal(stopped.journal))[0].open()


def test_default_journal_names_never_collide_in_the_same_second(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same file name, same clock second, and the random part drawn twice alike: the second
    import still gets a journal of its own (created exclusively) and names it."""
    suffixes = iter(["aaaaaa", "aaaaaa", "bbbbbb"])
    monkeypatch.setattr(journal_module, "_random_suffix", lambda: next(suffixes))
    frozen = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    paths: list[Path] = []
    announced: list[Path] = []
    for _run in range(2):
        client, transport = sandbox.client()
        transport.fail_from = 1  # each stops at its first write, journal written
        job, ui = sandbox.job(client, journal=None, clock=lambda: frozen)
        outcome = ui.outcome(job)
        assert outcome.journal is not None
        paths.append(outcome.journal)
        announced += [Path(m.removeprefix("journal: ")) for m in ui.said if isinstance(m, str)]
    assert announced == paths
    assert [p.name for p in paths] == [
        "20260304T050607Z-users-aaaaaa.jsonl",
        "20260304T050607Z-users-bbbbbb.jsonl",
    ]
    assert [read_journal(p).records[-1].kind for p in paths] == ["end", "end"]


# -- stop signals (SIGINT, SIGTERM, SIGHUP) --------------------------------------------


def test_a_signal_during_a_write_lets_it_settle_then_stops(sandbox: Sandbox) -> None:
    stop = StopSignals()

    def signalled(_request: httpx.Request) -> httpx.Response | None:
        stop.deliver("SIGTERM")  # the PUT is on the wire: it must finish and be journalled
        return None

    client, transport = sandbox.client()
    transport.hooks[5] = signalled
    outcome = sandbox.run(client, stop=stop)
    assert outcome.stopped == "stopped by SIGTERM"
    assert transport.count("PUT") == 5 and len(sandbox.writes) == 5
    records = read_journal(sandbox.journal).records
    assert [r.kind for r in records[-3:]] == ["start", "done", "end"]
    assert isinstance(records[-1], EndRecord) and records[-1].status == "stopped"
    assert outcome.summary()["applied"] + outcome.summary()["not_run"] == CHANGES
    resumed = sandbox.resume(sandbox.client()[0])
    assert resumed.stopped is None
    sandbox.assert_desired()
    assert len(sandbox.writes) == CHANGES + CYCLES


def test_a_second_signal_stops_at_once_and_the_journal_still_ends(sandbox: Sandbox) -> None:
    stop = StopSignals()

    def signalled_twice(_request: httpx.Request) -> httpx.Response | None:
        stop.deliver("SIGTERM")
        stop.deliver("SIGTERM")
        return None

    client, transport = sandbox.client()
    transport.hooks[3] = signalled_twice
    outcome = sandbox.run(client, stop=stop)
    assert outcome.stopped == "stopped by SIGTERM"
    records = read_journal(sandbox.journal).records
    assert [r.kind for r in records[-3:]] == ["start", "interrupted", "end"]
    assert isinstance(records[-2], InterruptedRecord)
    assert records[-2].sent is True  # its outcome is for --resume to read
    resumed = sandbox.resume(sandbox.client()[0])
    assert resumed.stopped is None
    sandbox.assert_desired()


def test_a_signal_while_no_write_is_in_flight_stops_before_sending(tmp_path: Path) -> None:
    """Waiting for the rate limit before a PUT: nothing is sent, nothing to settle."""
    sandbox = Sandbox(tmp_path, [dict(u) for u in USERS], rate_limit=RateLimit(3, 1.0))
    stop = StopSignals()

    client, transport = sandbox.client()

    class SignalWhileWaiting(Recorder):
        def waiting(self, seconds: float) -> None:
            super().waiting(seconds)
            if transport.count("GET") == 2:  # planned and read back: a PUT is next
                stop.deliver("SIGHUP")

    outcome = sandbox.run(client, SignalWhileWaiting(), stop)
    assert outcome.stopped == "stopped by SIGHUP"
    records = read_journal(sandbox.journal).records
    interrupted = [r for r in records if isinstance(r, InterruptedRecord)]
    assert len(interrupted) == 1 and interrupted[0].sent is False
    assert transport.count("PUT") == len([r for r in records if r.kind == "done"])
    assert records[-1].kind == "end"


def signal_while_writing(
    monkeypatch: pytest.MonkeyPatch, stop: StopSignals, kind: str, name: str = "SIGTERM"
) -> None:
    """A stop signal arrives while the journal is writing the first record of ``kind``."""
    real = os.write
    sent = False

    def write(fd: int, data: bytes) -> int:
        nonlocal sent
        if not sent and bytes(data).startswith(b'{"type":"' + kind.encode()):
            sent = True
            stop.deliver(name)
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


def test_a_signal_while_a_replan_is_journalled_is_noted_and_stops_after_it(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``replan`` record is written whole, so the journal knows the steps left."""

    def concurrent(_request: httpx.Request) -> httpx.Response | None:
        sandbox.account.set_extension(6, "303")  # as in the re-plan test below
        return None

    stop = StopSignals()
    client, transport = sandbox.client()
    transport.hooks[1] = concurrent
    signal_while_writing(monkeypatch, stop, "replan")
    outcome = sandbox.run(client, stop=stop)
    assert outcome.stopped == "stopped by SIGTERM"
    assert journal_types(sandbox.journal) == ["start", "failed", "replan", "end"]
    assert transport.count("PUT") == 1
    monkeypatch.undo()
    assert sandbox.resume(sandbox.client()[0]).stopped is None
    sandbox.assert_desired()


def test_a_signal_while_the_verification_is_journalled_is_only_noted(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every write is done and verified: the job is complete, on record."""
    stop = StopSignals()
    signal_while_writing(monkeypatch, stop, "verified")
    outcome = sandbox.run(sandbox.client()[0], stop=stop)
    assert outcome.stopped is None
    assert journal_types(sandbox.journal)[-2:] == ["verified", "end"]
    assert read_journal(sandbox.journal).finished()
    sandbox.assert_desired()


def test_a_signal_while_a_resume_is_journalled_stops_it_cleanly(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``resume`` record is written whole, then the job stops before its first write
    (exit 5, resumable), never with the signal escaping the job."""
    sandbox.run_failing_from(4)
    stop = StopSignals()
    client, transport = sandbox.client()
    job, ui = sandbox.job(client, FromJournal(sandbox.journal), stop=stop, journal=None)
    signal_while_writing(monkeypatch, stop, "resume", "SIGHUP")
    try:
        resumed = ui.outcome(job)
    except KeyboardInterrupt:  # uncaught, it would end the test run itself
        pytest.fail("the signal escaped the job")
    assert resumed.stopped == "stopped by SIGHUP"
    assert journal_types(sandbox.journal)[-2:] == ["resume", "end"]
    assert transport.count("PUT") == 0
    monkeypatch.undo()
    assert sandbox.resume(sandbox.client()[0]).stopped is None
    sandbox.assert_desired()


# -- someone else writes at the same time ----------------------------------------------


def test_422_rereads_and_replans_instead_of_retrying(sandbox: Sandbox) -> None:
    """Another admin moves user 6 (chain 301→302) to 303 first, the very extension our
    plan gives user 7: our write of 7→303 is refused, we read again and re-plan."""

    def concurrent(_request: httpx.Request) -> httpx.Response | None:
        sandbox.account.set_extension(6, "303")
        return None

    client, transport = sandbox.client()
    transport.hooks[1] = concurrent  # the first step is the chain's end: user 7 → 303
    outcome = sandbox.run(client)
    assert outcome.stopped is None
    sandbox.assert_desired()
    assert transport.log[:3] == ["GET /v2/users 200", "PUT /v2/users/7 422", "GET /v2/users 200"]
    assert "replan" in journal_types(sandbox.journal)
    assert outcome.summary()["applied"] == 8


LIVE_REFUSAL = {  # the live shape of a uniqueness refusal (the sentence is ours)
    "error": "Bad Request",
    "data": None,
    "message": "BAD_REQUEST",
    "errors": "Extension 303 is already used by another user of this company.",
    "troubleshoot": "BAD_REQUEST",
    "success": False,
}


def test_a_400_refusal_of_a_taken_extension_replans_as_a_422_does(sandbox: Sandbox) -> None:
    """The live API may refuse a taken extension with a 400, not a 422."""

    def concurrent(_request: httpx.Request) -> httpx.Response | None:
        sandbox.account.set_extension(6, "303")
        return httpx.Response(400, json=LIVE_REFUSAL)

    client, transport = sandbox.client()
    transport.hooks[1] = concurrent
    outcome = sandbox.run(client)
    assert outcome.stopped is None
    sandbox.assert_desired()
    assert transport.log[:3] == ["GET /v2/users 200", "PUT /v2/users/7 400", "GET /v2/users 200"]
    assert "replan" in journal_types(sandbox.journal)


@pytest.mark.parametrize("status", [400, 422])
def test_a_refusal_with_the_extension_still_free_stops_with_the_apis_sentence(
    sandbox: Sandbox, status: int
) -> None:
    """One read shows nobody holds 303: the refusal is the API's own, not a race to
    re-plan around (which would send the same write again, and again)."""
    client, transport = sandbox.client()
    transport.hooks[1] = lambda _request: httpx.Response(status, json=LIVE_REFUSAL)
    outcome = sandbox.run(client)
    assert outcome.stopped == (
        "the API refused to set 303 on user 7: Extension 303 is already used by another "
        "user of this company"
    )
    assert transport.log == [
        "GET /v2/users 200",
        f"PUT /v2/users/7 {status}",
        "GET /v2/users 200",
    ]
    statuses = {r.user_id: r.status for r in outcome.rows}
    assert statuses[7] == "failed" and statuses[6] == "not-run"
    assert "BAD_REQUEST" not in (outcome.rows[6].error or "")


def test_an_api_that_stores_no_write_stops_the_import_after_the_first(sandbox: Sandbox) -> None:
    """It answers 200 with the new extension and stores nothing: the first write read
    back says so, instead of the closing verification after every write was sent."""

    def echo_only(request: httpx.Request) -> httpx.Response:
        user_id = int(request.url.path.rsplit("/", 1)[1])
        user = dict(sandbox.account.user(user_id) or {})
        return httpx.Response(200, json={"user": {**user, **json.loads(request.content)}})

    client, transport = sandbox.client()
    transport.hooks = dict.fromkeys(range(1, 11), echo_only)
    outcome = sandbox.run(client)
    assert outcome.stopped == (
        "the API answered the write, but user 7 still has extension 302, not 303: writes "
        "are not taking effect"
    )
    assert transport.log == ["GET /v2/users 200", "PUT /v2/users/7 200", "GET /v2/users/7 200"]
    assert (outcome.writes, outcome.planned) == (0, 10)
    statuses = {r.user_id: r.status for r in outcome.rows}
    assert statuses[7] == "failed" and statuses[6] == "not-run"
    records = read_journal(sandbox.journal).records
    assert [r.kind for r in records] == ["start", "done", "failed", "end"]
    assert isinstance(records[-1], EndRecord) and records[-1].status == "stopped"  # resumable


def test_conflicting_concurrent_change_stops_with_a_clear_message(sandbox: Sandbox) -> None:
    """Someone gives user 11 (not in the file) extension 303, which the file wants for 7."""

    def concurrent(_request: httpx.Request) -> httpx.Response | None:
        sandbox.account.set_extension(11, "303")
        return None

    client, transport = sandbox.client()
    transport.hooks[1] = concurrent
    outcome = sandbox.run(client)
    assert outcome.stopped is not None
    assert "account changed during the import" in outcome.stopped
    assert "303" in outcome.stopped
    assert transport.count("PUT") == 1  # nothing written after the conflict


def test_verification_catches_a_write_that_did_not_stick(sandbox: Sandbox) -> None:
    """An API that answers 200 but drops the change must not pass as success."""

    def swallow(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/users/8"):
            return None
        user = dict(sandbox.account.user(8) or {})
        return httpx.Response(200, json={"user": {**user, "extension": "401"}})

    client, transport = sandbox.client()
    transport.hooks = dict.fromkeys(range(1, 11), swallow)  # user 8's assignment to 401
    outcome = sandbox.run(client)
    assert outcome.stopped is not None
    assert outcome.stopped.startswith("verification failed: user 8 has None, expected 401")
    statuses = {r.user_id: r.status for r in outcome.rows}
    assert statuses[8] == "failed"
    assert statuses[1] == "applied"


# -- from Python, without the CLI --------------------------------------------------------


def test_python_callers_run_an_import_through_the_service_api_alone(
    write_state: WriteState, tmp_path: Path
) -> None:
    """No Click, no command: settings, a client of the in-process sandbox, a job, a result.
    Its callbacks default to silence, and writing needs ``yes`` (or a ``confirm``)."""
    from aircall_ext.config import resolve_settings
    from aircall_ext.services.identity import settings_identity
    from aircall_ext.services.session import open_client

    write_state(users_holding(IMPORT_BEFORE))
    csv = tmp_path / "users.csv"
    csv.write_text(IMPORT_CSV)
    settings = resolve_settings(sandbox=True)
    warnings: list[str] = []
    with open_client(settings, warn=warnings.append) as client:
        connection = Connected(client, settings_identity(settings))
        with pytest.raises(UsageError, match="refusing to write without confirmation"):
            ImportJob(FromCsv(str(csv)), connection).run()
        assert extensions() == IMPORT_BEFORE
        journal = tmp_path / "job.jsonl"
        options = ImportOptions(yes=True, journal=journal)
        result = ImportJob(FromCsv(str(csv)), connection, options).run()
    assert (result.stage, result.exit_code, result.journal) == ("applied", 0, journal)
    assert result.summary() == {
        "applied": 5, "unchanged": 1, "skipped": 1, "failed": 0, "not_run": 0,
    }  # fmt: skip
    assert extensions() == IMPORT_DESIRED
    assert read_journal(journal).header.account.sandbox
    assert warnings == []

"""Bulk import: read the file and the account, check, plan, then apply with a journal.

Safety rests on three habits. Nothing is written unless the whole file checks clean. Every
write is journalled before it is sent and after it returns, so any stop (fatal API error,
Ctrl-C, a kill) can be finished by ``--resume``, which plans again from the account's
REAL state instead of trusting the journal. No answer is taken at its word: a refused
write (400 or 422) is followed by one read of the account, and when someone else took the
extension we re-plan (a bounded number of times) rather than retry blindly, else the API's
own sentence stops the job; the run's first write is read back, so an API that answers
writes without storing them stops the job after one write.

Requests: ⌈U/50⌉ listing pages + one PUT per change + one per cycle + one GET reading the
first write back + ⌈U/50⌉ to verify.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from aircall_ext.api.client import ApiClient
from aircall_ext.core.account import Account
from aircall_ext.core.csvfile import CsvRow
from aircall_ext.core.desired import check_desired
from aircall_ext.core.findings import Finding, listed, sort_findings
from aircall_ext.core.planner import Action, Plan, PlanRow, RowChange, Step, plan_import
from aircall_ext.errors import (
    AircallExtError,
    ApiError,
    ImportStopped,
    NotFound,
    Refused,
    Remedy,
    Unprocessable,
    UsageError,
)
from aircall_ext.files import check_distinct, rereadable
from aircall_ext.services.csvcheck import Checked, Source, check_source, read_source
from aircall_ext.services.journal import (
    Clock,
    Header,
    JournalContents,
    JournalExists,
    JournalWriteError,
    JournalWriter,
    default_journal_path,
    input_copy_path,
    keep_input_copy,
    read_journal,
    utc_now,
)
from aircall_ext.services.users import load_account

MAX_REPLANS = 3  # refused writes answered by a fresh read before we give up and stop
NAME_ATTEMPTS = 5  # fresh random default journal names tried before giving up

Status = Literal["applied", "unchanged", "skipped", "failed", "not-run"]
STATUSES: tuple[Status, ...] = ("applied", "unchanged", "skipped", "failed", "not-run")


# -- reading and planning ----------------------------------------------------------------


@dataclass(frozen=True)
class Prepared(Checked):
    """Everything decided before the first write."""

    plan: Plan | None  # None when the file has errors: no plan is made for a bad file
    never_park: frozenset[str] = frozenset()  # kept for re-planning (see ``plan_import``)

    @property
    def findings(self) -> list[Finding]:
        planned = self.plan.findings if self.plan else ()
        return sort_findings([*self.desired.findings, *planned])

    def plan_json(self) -> dict[str, Any]:
        """The plan document, file findings included."""
        plan = self.plan if self.plan is not None else Plan((), (), ())
        return plan.to_json(self.desired.findings)

    def rejected_results(self) -> tuple[RowResult, ...]:
        """Every row of a file that will not be imported, with the errors of its line."""
        errors: dict[int, list[str]] = {}
        for finding in self.findings:
            if finding.line is not None and finding.severity != "info":
                errors.setdefault(finding.line, []).append(finding.message)
        return tuple(self._rejected(row, errors.get(row.line, [])) for row in self.csv_file.rows)

    def _rejected(self, row: CsvRow, errors: list[str]) -> RowResult:
        user = None
        if row.user_id is not None:
            user = self.account.user_by_id(row.user_id)
        elif row.email is not None:
            user = self.account.user_by_email(row.email)
        return RowResult(
            row.line,
            row.user_id if row.user_id is not None else (user.id if user else None),
            row.email,
            user.extension if user else None,
            row.extension if row.extension is not None else row.raw_extension or None,
            "not-run",
            "; ".join(errors) or None,
        )


def planned(checked: Checked, never_park: frozenset[str] = frozenset()) -> Prepared:
    """``checked`` with its plan; a file with errors gets none. ``never_park``: extensions
    no cycle may park a user on (a numbering plan's reserved ones)."""
    desired = checked.desired
    plan = (
        None
        if desired.has_errors
        else plan_import(checked.account, desired.rows, never_park=never_park)
    )
    return Prepared(checked.source, checked.csv_file, checked.account, desired, plan, never_park)


def prepare(
    client: ApiClient, source: Source, *, never_park: frozenset[str] = frozenset()
) -> Prepared:
    """Read the account (⌈U/50⌉ requests), check the file against it and plan.
    A file without a usable row needs no account: it cannot plan a write."""
    return planned(check_source(client, source), never_park)


def prepare_resume(
    client: ApiClient, source: Source, journal: str, *, never_park: frozenset[str] = frozenset()
) -> Prepared:
    """Read and plan a resume. One that cannot read the account leaves the job unfinished:
    that is still exit 5 with the journal named and the command that tries again, so a
    script resuming on 5 does not stop at 4."""
    try:
        return prepare(client, source, never_park=never_park)
    except ApiError as err:
        raise ImportStopped(
            f"could not resume: {err.message}; the import is still unfinished; journal: {journal}",
            hint=("try again with ", Remedy("import", "--resume", journal)),
        ) from None


def recheck(client: ApiClient, prepared: Prepared) -> Prepared:
    """Plan again from a fresh read after the confirmation: people take time to answer,
    and a different plan is not the one they agreed to."""
    assert prepared.plan is not None
    fresh = prepare(client, prepared.source, never_park=prepared.never_park)
    if fresh.plan is None or fresh.plan.steps != prepared.plan.steps:
        raise Refused(
            "the account changed while the plan was shown: nothing was written",
            hint="run the import again to review the new plan",
        )
    return fresh


def check_import_files(
    file: str | None, journal: str | None, report: str | None, save_plan: str | None
) -> None:
    """No output of an import may overwrite its input or another of its outputs."""
    copy = None
    if file is not None and journal is not None and not rereadable(file):
        copy = str(input_copy_path(Path(journal).absolute()))
    check_distinct(
        [
            ("FILE", file),
            ("--journal", journal),
            ("the copy of FILE kept beside --journal", copy),
            ("--report", report),
            ("--save-plan", save_plan),
        ]
    )


def check_resume_files(header: Header, resume: str, report: str | None) -> None:
    """Nor may the report of a resume overwrite what the job reads."""
    check_distinct(
        [
            ("the journal's input file", None if header.input_copy else header.file),
            ("the journal's copy of its input file", header.input_copy),
            ("--resume", resume),
            ("--report", report),
        ]
    )


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult(RowChange):
    """One row of the report: what became of a row of the file."""

    status: Status
    error: str | None = None

    def report_row(self) -> dict[str, Any]:
        return {**self.to_json(), "status": self.status, "error": self.error}


REPORT_COLUMNS = ("line", "user_id", "email", "from", "to", "status", "error")
# What the report says of a planned row that is not applied (a dry run, a blocked plan).
_NOT_APPLIED: dict[Action, Status] = {
    "unchanged": "unchanged",
    "skip": "skipped",
    "assign": "not-run",
    "change": "not-run",
}


def planned_results(plan: Plan) -> tuple[RowResult, ...]:
    """The report of a plan that is not applied: each row as it stands before any write."""
    return tuple(
        RowResult(r.line, r.user_id, r.email, r.from_ext, r.to_ext, _NOT_APPLIED[r.action])
        for r in plan.rows
    )


@dataclass(frozen=True)
class Outcome:
    journal: Path | None
    rows: tuple[RowResult, ...]
    stopped: str | None = None  # why the job stopped part-way; None when it completed
    writes: int = 0  # writes sent and confirmed in this run
    planned: int = 0  # writes this run set out to make (re-plans included)

    def summary(self) -> dict[str, int]:
        counts = {status: 0 for status in STATUSES}
        for row in self.rows:
            counts[row.status] += 1
        return {status.replace("-", "_"): n for status, n in counts.items()}

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary(), "journal": str(self.journal) if self.journal else None}


# -- applying --------------------------------------------------------------------------


class Progress(Protocol):
    """What the apply loop reports; the CLI draws it, tests record it."""

    def begin(self, total: int) -> None: ...

    def advance(self, done: int, total: int) -> None: ...

    def waiting(self, seconds: float) -> None: ...

    def end(self) -> None: ...


class NoProgress:
    def begin(self, total: int) -> None:
        return None

    def advance(self, done: int, total: int) -> None:
        return None

    def waiting(self, seconds: float) -> None:
        return None

    def end(self) -> None:
        return None


class _Stop(Exception):
    """The job cannot go on; the reason is shown with the journal path."""


# -- stopping from outside ---------------------------------------------------------------

# Ctrl-C; `timeout` and CI cancellation; a terminal that went away.
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(KeyboardInterrupt):
    """A stop signal ended the apply loop; ``name`` is the signal's."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class StopSignals:
    """Every way a person or a pipeline stops an import ends the same way: the write already
    sent settles (its answer is journalled), nothing more is sent, the job ends with its
    journal closed and its report written (exit 5, resume command named).

    A signal while no write is in flight stops at once. A signal while one is in flight lets
    it settle and stops before the next; a second one stops at once, leaving that write's
    outcome to ``--resume`` (which reads the account). Journal records and the report are
    never cut: a signal there is only noted.
    """

    def __init__(self) -> None:
        self.requested: str | None = None
        self._count = 0
        self._in_flight: Callable[[], bool] = lambda: False
        self._shield = 0

    def deliver(self, name: str) -> None:
        """What a signal does (the handler's body; tests call it directly)."""
        self._count += 1
        self.requested = self.requested or name
        if self._shield:
            return
        if self._count == 1 and self._in_flight():
            return
        raise Interrupted(self.requested)

    def check(self) -> None:
        """Stop here if a signal was noted while it could not stop the job."""
        if self.requested is not None:
            raise Interrupted(self.requested)

    @contextmanager
    def settling(self, in_flight: Callable[[], bool]) -> Iterator[None]:
        """Around a write: ``in_flight`` says whether its request may have been sent."""
        previous, self._in_flight = self._in_flight, in_flight
        try:
            yield
        finally:
            self._in_flight = previous

    @contextmanager
    def shielded(self) -> Iterator[None]:
        self._shield += 1
        try:
            yield
        finally:
            self._shield -= 1


@contextmanager
def stop_signals() -> Iterator[StopSignals]:
    """Route SIGINT, SIGTERM and SIGHUP to a :class:`StopSignals` while the block runs,
    then put the previous handlers back. A signal the caller ignores (``nohup``, a
    background job) stays ignored."""
    stop = StopSignals()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():

        def handle(signum: int, _frame: object) -> None:
            stop.deliver(signal.Signals(signum).name)

        for name in STOP_SIGNALS:
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) is not signal.SIG_IGN:
                previous[number] = signal.signal(number, handle)
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _stop_reason(err: KeyboardInterrupt) -> str:
    name = err.name if isinstance(err, Interrupted) else "SIGINT"
    return "interrupted" if name == "SIGINT" else f"stopped by {name}"


def start_import(
    client: ApiClient,
    prepared: Prepared,
    identity: Mapping[str, Any],
    *,
    journal_path: Path | None = None,
    progress: Progress | None = None,
    clock: Clock = utc_now,
    fsync: bool = True,
    stop: StopSignals | None = None,
    on_journal: Callable[[Header, Path], None] | None = None,
    undo_of: str | None = None,
) -> Outcome:
    """Apply a clean plan. Nothing to write → no journal and no request beyond the plan read.
    ``on_journal`` hears where the journal is, before the first write; ``undo_of`` names the
    journal this job takes back, in its header."""
    plan = _clean_plan(prepared)
    if not plan.steps:
        return Outcome(None, _statuses(plan.rows, {}, {}, prepared.account))
    journal = _create_journal(prepared, identity, plan, journal_path, clock, fsync, undo_of)
    if on_journal is not None:
        on_journal(journal.header, journal.path)
    job = _Job(client, prepared, journal, progress or NoProgress(), {}, stop or StopSignals())
    return job.run(plan)


def _create_journal(
    prepared: Prepared,
    identity: Mapping[str, Any],
    plan: Plan,
    journal_path: Path | None,
    clock: Clock,
    fsync: bool,
    undo_of: str | None = None,
) -> JournalWriter:
    """The job's new journal: at ``journal_path``, or under a fresh default name (retried
    if another import took it). Bytes that cannot be read again at their path (standard
    input, a pipe, a saved plan's copy) and a source that exists only in memory are kept
    beside it first, so ``--resume`` works."""
    source = prepared.source
    now = clock()
    for _attempt in range(NAME_ATTEMPTS):
        path = (journal_path or default_journal_path(source.shown, now)).expanduser().absolute()
        copy = input_copy_path(path) if source.read_once else None
        kept = copy or (Path(source.path) if source.keep else None)
        header = Header(
            source.path,
            source.sha256,
            identity,
            now.isoformat(),
            plan.steps,
            str(copy) if copy else None,
            undo_of,
            source.plan,
        )
        try:
            if kept is not None:
                keep_input_copy(kept, source.data, what=source.keep or f"a copy of {source.shown}")
            try:
                return JournalWriter.create(path, header, clock=clock, fsync=fsync)
            except BaseException:
                if kept is not None:
                    kept.unlink(missing_ok=True)
                raise
        except JournalExists:
            if journal_path is not None:
                raise
    raise UsageError(
        f"cannot find a free journal name in {path.parent}", hint="give --journal PATH"
    )


def open_journal(path: Path, identity: Mapping[str, Any]) -> tuple[JournalContents, Source]:
    """The journal to resume, locked (another run of the job is refused at once), and the
    very file it was started from (sha256-checked). The caller releases
    ``journal.lock`` when the run ends."""
    journal = read_journal(path, lock=True)
    try:
        return journal, _journal_source(path, journal.header, identity)
    except BaseException:
        assert journal.lock is not None
        journal.lock.release()
        raise


def _journal_source(path: Path, header: Header, identity: Mapping[str, Any]) -> Source:
    check_account(path, header, identity, "resume")
    source = _kept_copy(path, header) if header.input_copy else _named_file(path, header)
    if source.sha256 != header.file_sha256:
        raise Refused(
            f"{header.file} changed since the import started (sha256 differs); "
            "--resume only finishes the same file",
            hint=f"to import the new version, run `aircall-ext import {header.file}`",
        )
    return source


def _named_file(path: Path, header: Header) -> Source:
    if header.file == "-":
        raise UsageError(
            f"cannot resume {path}: that import read standard input and kept no copy of it",
            hint="run the import again from a file",
        )
    if not rereadable(header.file):  # a pipe, which an older journal names: never reopened
        raise UsageError(
            f"cannot resume {path}: its input {header.file} is not a regular file, and the "
            "import kept no copy of it",
            hint="run the import again from a file",
        )
    return read_source(header.file)


def check_account(path: Path, header: Header, identity: Mapping[str, Any], verb: str) -> None:
    """A journal is only ever resumed (or undone) on the account it was written on."""
    mine = {k: identity.get(k) for k in ("host", "api_id_sha256")}
    theirs = {k: header.account.get(k) for k in ("host", "api_id_sha256")}
    if mine != theirs:
        raise Refused(
            f"journal {path} belongs to another account ({theirs['host']}), "
            f"not the one configured now ({mine['host']})",
            hint=f"{verb} with the same --profile/--base-url/credentials as the import",
        )


def _kept_copy(path: Path, header: Header) -> Source:
    """What the import read (standard input, a pipe, a plan's CSV), from the copy kept
    beside its journal."""
    assert header.input_copy is not None
    try:
        data = Path(header.input_copy).read_bytes()
    except OSError as err:
        raise UsageError(
            f"cannot resume {path}: the copy of its input it kept, {header.input_copy}, "
            f"cannot be read: {err.strerror or err}",
            hint="run the import again from a file",
        ) from None
    return Source(header.file, header.input_copy, data, stream=True, plan=header.plan)


def resume_import(
    client: ApiClient,
    prepared: Prepared,
    journal: JournalContents,
    *,
    progress: Progress | None = None,
    clock: Clock = utc_now,
    fsync: bool = True,
    stop: StopSignals | None = None,
) -> Outcome:
    """Finish a stopped job from the account's real state: ``prepared`` was planned from a
    fresh read, so what was done is ``unchanged`` now and a parked user is simply moved on."""
    plan = _clean_plan(prepared)
    writer = JournalWriter.reopen(journal, clock=clock, fsync=fsync)
    written = _written_before(journal, prepared.account)
    try:
        writer.record("resume", steps=[s.to_json() for s in plan.steps])
    except JournalWriteError as err:
        writer.close()
        rows = _statuses(plan.rows, written, {}, None)
        return Outcome(journal.path, rows, str(err), planned=len(plan.steps))
    job = _Job(client, prepared, writer, progress or NoProgress(), written, stop or StopSignals())
    job.number = sum(1 for r in journal.records if r.get("type") == "start")
    return job.run(plan)


def _written_before(journal: JournalContents, account: Account) -> dict[int, str]:
    """What earlier runs of the job wrote, per user. A write cut off before its answer was
    journalled (a kill, a lost response) may still have landed: it counts when the
    account now holds exactly what that user's last started write asked for."""
    written = {step.user_id: step.to_ext for step in journal.done_steps()}
    for step in journal.last_started().values():
        user = account.user_by_id(step.user_id)
        if user is not None and user.extension == step.to_ext:
            written[step.user_id] = step.to_ext
    return written


def _clean_plan(prepared: Prepared) -> Plan:
    if prepared.plan is None or prepared.plan.blocked or prepared.desired.has_errors:
        raise Refused("the file has errors; nothing was written by this run")
    return prepared.plan


class _Job:
    """One run of the apply loop over a journal."""

    def __init__(
        self,
        client: ApiClient,
        prepared: Prepared,
        journal: JournalWriter,
        progress: Progress,
        written: dict[int, str],
        stop: StopSignals,
    ) -> None:
        self.client = client
        self.stop = stop
        self.csv_file = prepared.csv_file
        self.journal = journal
        self.progress = progress
        self.written = written  # user → extension this job wrote last (earlier runs too)
        self.errors: dict[int, str] = {}
        self.number = 0  # steps started in this journal, for the records
        self.number_run = 0  # steps started in this run
        self.writes = 0
        self.planned = 0
        self.final: Account | None = None
        self.read_back = False  # whether a write of this run was read back and held
        self.fresh = prepared.account  # the read the plan was made from
        self.never_park = prepared.never_park
        self.progress_ended = False

    def run(self, plan: Plan) -> Outcome:
        stopped: str | None = None
        previous_hook = self.client.on_wait
        self.client.on_wait = self.progress.waiting
        try:
            self._apply(plan)
            self._end_progress()  # the bar is about writes; the read-back is not one
            self._verify(plan)
        except _Stop as stop:
            stopped = str(stop)
        except JournalWriteError as err:  # a full disk: the job stops there, like any stop
            stopped = str(err)
        except KeyboardInterrupt as err:
            stopped = _stop_reason(err)
        finally:
            self.client.on_wait = previous_hook
            with self.stop.shielded():
                self._end_progress()
        outcome = Outcome(
            self.journal.path,
            _statuses(plan.rows, self.written, self.errors, self.final),
            stopped,
            self.writes,
            self.planned,
        )
        unrecorded = self._finish(outcome)
        if unrecorded is not None and outcome.stopped is None:
            # Done, but not on record: the resume reads the account, and records it.
            outcome = dataclasses.replace(outcome, stopped=unrecorded)
        return outcome

    def _end_progress(self) -> None:
        if not self.progress_ended:
            self.progress_ended = True
            self.progress.end()

    def _finish(self, outcome: Outcome) -> str | None:
        """Close the journal with its ``end`` record; why that could not be written, if so."""
        status = "stopped" if outcome.stopped else "complete"
        with self.stop.shielded():
            try:
                self.journal.record(
                    "end", status=status, reason=outcome.stopped, summary=outcome.summary()
                )
            except JournalWriteError as err:
                return str(err)
            finally:
                self.journal.close()
        return None

    def _apply(self, plan: Plan) -> None:
        steps = list(plan.steps)
        self.planned = len(steps)
        self.progress.begin(self.planned)
        replans = 0
        index = 0
        while index < len(steps):
            try:
                self._write(steps[index])
                index += 1
            except (Unprocessable, NotFound) as err:
                replans += 1
                if replans > MAX_REPLANS:
                    raise _Stop(f"the account keeps changing under the import: {err}") from None
                steps = list(self._replan(steps[index], err).steps)
                index = 0
                self.planned = self.writes + len(steps)
                self.progress.begin(self.planned)
                self.progress.advance(self.writes, self.planned)

    def _write(self, step: Step) -> None:
        self.stop.check()
        self.number += 1
        self.number_run += 1
        number = self.number
        before = self.client.request_count  # counted before a request is sent
        try:
            with self.stop.shielded():
                self.journal.start(number, step)
            with self.stop.settling(lambda: self.client.request_count != before):
                self.stop.check()
                self.client.set_extension(step.user_id, step.to_ext)
        except (Unprocessable, NotFound) as err:
            self._failed(number, step, err)
            raise
        except AircallExtError as err:
            self._failed(number, step, err)
            raise _Stop(str(err)) from None
        except KeyboardInterrupt as err:
            with self.stop.shielded():  # was it sent? --resume reads the account to know
                sent = self.client.request_count != before
                self.journal.record(
                    "interrupted", step=number, **step.to_json(), sent=sent, reason=str(err)
                )
            raise
        self.written[step.user_id] = step.to_ext  # landed, even if its record does not fit
        self.writes += 1
        with self.stop.shielded():
            self.journal.done(number, step)
        self.progress.advance(self.writes, self.planned)
        if not self.read_back:
            self._read_back(number, step)

    def _read_back(self, number: int, step: Step) -> None:
        """Read the run's first write back (one GET): an API that answers writes without
        storing them stops the run after one write, not after all of them."""
        try:
            user = self.client.get_user(step.user_id)
        except AircallExtError as err:
            raise _Stop(f"reading the first write back failed: {err}") from None
        if user.extension != step.to_ext:
            del self.written[step.user_id]
            self.writes -= 1
            self._failed(
                number,
                step,
                f"the API answered the write, but user {step.user_id} still has extension "
                f"{user.extension or 'none'}, not {step.to_ext}: writes are not taking effect",
            )
            raise _Stop(self.errors[step.user_id])
        self.read_back = True

    def _failed(self, number: int, step: Step, err: AircallExtError | str) -> None:
        with self.stop.shielded():
            self.journal.failed(number, step, str(err))
        self.errors[step.user_id] = str(err)

    def _replan(self, step: Step, err: AircallExtError) -> Plan:
        """A write was refused, or its user is gone: read the account again (once). When
        someone now holds the extension, or the user left, plan the rest from what is really
        there, unless that conflicts with the file; a refusal with the extension still free
        is the API's own, and its sentence stops the job."""
        account = self._read()
        if isinstance(err, Unprocessable) and not account.holders(step.to_ext):
            said = err.reason or err.message
            raise _Stop(f"the API refused to set {step.to_ext} on user {step.user_id}: {said}")
        desired = check_desired(self.csv_file, account)
        errors = [f for f in sort_findings(desired.findings) if f.severity == "error"]
        if errors:
            raise _Stop(f"the account changed during the import: {errors[0].message}")
        plan = plan_import(account, desired.rows, never_park=self.never_park)
        if plan.blocked:
            raise _Stop(f"the account changed during the import: {plan.findings[0].message}")
        self.journal.record("replan", reason=str(err), steps=[s.to_json() for s in plan.steps])
        return plan

    def _verify(self, plan: Plan) -> None:
        """Read back once: the job is done only if every row holds what the file says.
        A run that wrote nothing (a resume of a finished job) trusts the read it planned on."""
        account = self._read() if self.number_run else self.fresh
        self.final = account
        wrong = []
        for user_id, wanted in plan.desired().items():
            user = account.user_by_id(user_id)
            actual = user.extension if user else "no such user"
            if actual != wanted:
                wrong.append(f"user {user_id} has {actual}, expected {wanted}")
                self.errors[user_id] = f"after the import: has {actual}, expected {wanted}"
        self.journal.record("verified", ok=not wrong, mismatches=wrong[:20])
        if wrong:
            raise _Stop(f"verification failed: {listed(wrong, limit=1)}")

    def _read(self) -> Account:
        try:
            return load_account(self.client)
        except AircallExtError as err:
            raise _Stop(str(err)) from None


def _statuses(
    rows: Iterable[PlanRow],
    written: Mapping[int, str],
    errors: Mapping[int, str],
    final: Account | None,
) -> tuple[RowResult, ...]:
    return tuple(_status(row, written, errors, final) for row in rows)


def _status(
    row: PlanRow, written: Mapping[int, str], errors: Mapping[int, str], final: Account | None
) -> RowResult:
    def result(status: Status, error: str | None = None) -> RowResult:
        return RowResult(row.line, row.user_id, row.email, row.from_ext, row.to_ext, status, error)

    if row.action == "skip":
        return result("skipped")
    actual = _final_extension(row, written, final)
    if actual == row.to_ext:
        return result("applied" if written.get(row.user_id) == row.to_ext else "unchanged")
    if row.user_id in errors:
        return result("failed", errors[row.user_id])
    return result("not-run")


def _final_extension(row: PlanRow, written: Mapping[int, str], final: Account | None) -> str | None:
    """What the user holds at the end: read back when verified, else what we know."""
    if final is not None:
        user = final.user_by_id(row.user_id)
        return user.extension if user else None
    if row.user_id in written:
        return written[row.user_id]
    return row.from_ext

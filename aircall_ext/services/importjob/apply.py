"""The apply loop: the plan's writes, one at a time, each journalled before and after.

No answer is taken at its word. A refused write (400 or 422), or one whose user is gone
(404), is followed by one read of the account: when someone else took the extension, or the
user left, the rest is planned again from what is really there (a bounded number of times);
a refusal with the extension still free is the API's own, and its sentence stops the job.
The run's first write is read back (one GET), so an API that answers writes without storing
them stops the job after one write. After the last write the account is read once more:
the job is done only when every row holds what its input asks for.

Any stop (a fatal API error, a stop signal, a journal record that does not fit) ends the
loop with the journal closed, so ``import --resume`` can finish the job.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from aircall_ext.api.client import ApiClient
from aircall_ext.core.account import Account
from aircall_ext.core.findings import failing, listed, sort_findings
from aircall_ext.core.planner import Plan, Step, plan_import
from aircall_ext.errors import AircallExtError, NotFound, Unprocessable
from aircall_ext.services.importjob.prepared import Prepared
from aircall_ext.services.importjob.results import ImportResult, summary
from aircall_ext.services.journal import JournalWriteError, JournalWriter
from aircall_ext.services.journalrecords import (
    DoneRecord,
    EndRecord,
    FailedRecord,
    InterruptedRecord,
    Record,
    ReplanRecord,
    StartRecord,
    VerifiedRecord,
)
from aircall_ext.services.stopsignals import StopSignals, stop_reason
from aircall_ext.services.users import load_account

MAX_REPLANS = 3  # refused writes answered by a fresh read before we give up and stop


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


class ApplyLoop:
    """One run of the apply loop over a journal.

    ``written``: what earlier runs of the job wrote, per user; ``number``: the writes its
    journal has started already (a resumed job numbers on)."""

    def __init__(
        self,
        client: ApiClient,
        prepared: Prepared,
        journal: JournalWriter,
        progress: Progress,
        stop: StopSignals,
        *,
        written: dict[int, str] | None = None,
        number: int = 0,
    ) -> None:
        self.client = client
        self.prepared = prepared
        self.journal = journal
        self.progress = progress
        self.stop = stop
        self.written = dict(written or {})  # user → extension this job wrote last
        self.errors: dict[int, str] = {}
        self.number = number  # steps started in this journal, for the records
        self.number_run = 0  # steps started in this run
        self.writes = 0
        self.planned = 0
        self.final: Account | None = None
        self.read_back = False  # whether a write of this run was read back and held
        self.progress_ended = False

    def run(self) -> ImportResult:
        plan = self.prepared.plan
        assert plan is not None
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
            stopped = stop_reason(err)
        finally:
            self.client.on_wait = previous_hook
            with self.stop.shielded():
                self._end_progress()
        result = self.result(stopped)
        unrecorded = self._finish(result)
        if unrecorded is not None and result.stopped is None:
            # Done, but not on record: the resume reads the account, and records it.
            result = dataclasses.replace(result, stopped=unrecorded)
        return result

    def result(self, stopped: str | None) -> ImportResult:
        return ImportResult(
            "applied",
            self.prepared,
            self.prepared.applied_results(self.written, self.errors, self.final),
            self.journal.path,
            stopped,
            self.writes,
            self.planned,
        )

    def _end_progress(self) -> None:
        if not self.progress_ended:
            self.progress_ended = True
            self.progress.end()

    def _finish(self, result: ImportResult) -> str | None:
        """Close the journal with its ``end`` record; why that could not be written, if so."""
        with self.stop.shielded():
            try:
                self._record(
                    EndRecord(
                        "stopped" if result.stopped else "complete",
                        result.stopped,
                        summary(result.rows),
                    )
                )
            except JournalWriteError as err:
                return str(err)
            finally:
                self.journal.close()
        return None

    def _record(self, record: Record) -> None:
        """Journal ``record`` whole: a stop signal meanwhile is only noted."""
        with self.stop.shielded():
            self.journal.write(record)

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
        self._record(StartRecord(number, step))  # one that does not fit stops the job unsent
        try:
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
                self._record(InterruptedRecord(number, step, sent, str(err)))
            raise
        self.written[step.user_id] = step.to_ext  # landed, even if its record does not fit
        self.writes += 1
        self._record(DoneRecord(number, step))
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
        self._record(FailedRecord(number, step, str(err)))
        self.errors[step.user_id] = str(err)

    def _replan(self, step: Step, err: AircallExtError) -> Plan:
        """A write was refused, or its user is gone: read the account again (once). When
        someone now holds the extension, or the user left, plan the rest from what is really
        there, unless that conflicts with the input; a refusal with the extension still free
        is the API's own, and its sentence stops the job."""
        account = self._read()
        if isinstance(err, Unprocessable) and not account.holders(step.to_ext):
            said = err.reason or err.message
            raise _Stop(f"the API refused to set {step.to_ext} on user {step.user_id}: {said}")
        desired = self.prepared.input.desired(account)
        errors = failing(sort_findings(desired.findings))
        if errors:
            raise _Stop(f"the account changed during the import: {errors[0].message}")
        plan = plan_import(account, desired.rows, never_park=self.prepared.never_park)
        if plan.blocked:
            raise _Stop(f"the account changed during the import: {plan.findings[0].message}")
        self._record(ReplanRecord(plan.steps, str(err)))
        return plan

    def _verify(self, plan: Plan) -> None:
        """Read back once: the job is done only if every row holds what the input says.
        A run that wrote nothing (a resume of a finished job) trusts the read it planned on."""
        account = self._read() if self.number_run else self.prepared.account
        self.final = account
        wrong = []
        for user_id, wanted in plan.desired().items():
            user = account.user_by_id(user_id)
            actual = user.extension if user else "no such user"
            if actual != wanted:
                wrong.append(f"user {user_id} has {actual}, expected {wanted}")
                self.errors[user_id] = f"after the import: has {actual}, expected {wanted}"
        self._record(VerifiedRecord(not wrong, tuple(wrong[:20])))
        if wrong:
            raise _Stop(f"verification failed: {listed(wrong, limit=1)}")

    def _read(self) -> Account:
        try:
            return load_account(self.client)
        except AircallExtError as err:
            raise _Stop(str(err)) from None

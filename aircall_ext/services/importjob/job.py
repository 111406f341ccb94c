"""One import job, whatever its source: check, plan, confirm, re-check, apply, verify.

The job reads the account and plans from its source (a CSV, a saved plan, an undo, a
journal to resume); an input with errors is refused, a blocked plan or a dry run ends
there. Before writing it asks (``JobUi.confirm``, not for a resume: that job was agreed
to when it started), and because people take time to answer, it then reads the account
again: the plan shown must still hold (``core/staleness.py``), or nothing is written. The
steps shown are the steps applied, with a journal, under stop signals, and verified; the
result goes to ``JobUi.finished`` while a stop signal can no longer cut it short.

Requests: ⌈U/50⌉ GETs to plan (again after a confirmation), one PUT per change and one per
cycle, one GET reading the first write back, ⌈U/50⌉ GETs to verify.
"""

from __future__ import annotations

import dataclasses

from aircall_ext.core.findings import listed
from aircall_ext.core.savedplan import STALE_LIMIT, save_plan_remedy
from aircall_ext.core.staleness import Basis
from aircall_ext.errors import Refused, Remedy, UsageError
from aircall_ext.files import Destination, open_destination
from aircall_ext.services.importjob.apply import ApplyLoop
from aircall_ext.services.importjob.journaling import create_journal, reopen_journal
from aircall_ext.services.importjob.options import Connection, ImportOptions, ImportUi, JobUi
from aircall_ext.services.importjob.prepared import CsvInput, Prepared
from aircall_ext.services.importjob.results import ImportResult
from aircall_ext.services.importjob.sources import JobSource, copied
from aircall_ext.services.journal import JournalWriteError
from aircall_ext.services.plans import save_plan
from aircall_ext.services.stopsignals import StopSignals, handling
from aircall_ext.services.users import load_account


class ImportJob:
    """An import job. :meth:`open` checks and locks before anything is read (a caller may
    then check its own outputs); :meth:`run` does the rest and releases what it took."""

    def __init__(
        self,
        source: JobSource,
        connection: Connection,
        options: ImportOptions | None = None,
        ui: JobUi | None = None,
        *,
        stop: StopSignals | None = None,
    ) -> None:
        self.source = source
        self.connection = connection
        self.options = options or ImportOptions()
        self.ui: JobUi = ui or ImportUi()
        self.stop = stop  # tests deliver signals to it directly
        self._opened = False
        self._plan_to: Destination | None = None

    def __enter__(self) -> ImportJob:
        return self.open()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def open(self) -> ImportJob:
        if not self._opened:
            self.source.open(self.connection, self.options, self.ui)
            self._opened = True
            try:
                self._plan_to = self._plan_destination()
            except BaseException:
                self.close()
                raise
        return self

    def close(self) -> None:
        self.source.close()
        if self._plan_to is not None:
            self._plan_to.close()

    def run(self) -> ImportResult:
        """The job's result; :class:`~aircall_ext.errors.ImportStopped` when it stopped
        part-way (after :meth:`JobUi.finished` had the result)."""
        try:
            self.open()
            return self._run()
        finally:
            self.close()

    def _run(self) -> ImportResult:
        greeting = self.source.greeting()
        if greeting is not None:
            self.ui.say(greeting)
        prepared = self.source.prepare(self.connection.client(), self.options.never_park)
        if prepared.stale:
            raise self._refused("plan is stale", prepared.stale)
        for note in prepared.notes:
            self.ui.say(note)
        if prepared.fails(strict=self.options.strict):
            return self._end(ImportResult("refused", prepared, prepared.rejected_results()))
        plan = prepared.plan
        assert plan is not None
        self.ui.show(prepared)
        if plan.blocked or self.options.dry_run:
            result = self._end(ImportResult("planned", prepared, prepared.planned_results()))
            if not plan.blocked and self._plan_to is not None:
                self._save_plan(prepared, self._plan_to)
            return result
        if self.source.asks and plan.steps and not self.options.yes:
            self.ui.confirm(len(plan.steps))
            prepared = self._recheck(prepared)
        return self._apply(prepared)

    def _end(self, result: ImportResult) -> ImportResult:
        self.ui.finished(result)
        return result

    def _refused(self, why: str, reasons: tuple[str, ...] | list[str]) -> Refused:
        return Refused(
            f"{why}: {listed(reasons, limit=STALE_LIMIT, sep='; ')}; nothing was written",
            hint=self.source.review,
        )

    def _recheck(self, shown: Prepared) -> Prepared:
        """The one rule after a confirmation, whatever the source: read the account again
        (⌈U/50⌉ GETs); the plan shown must still hold on it, and its steps are applied."""
        assert shown.plan is not None
        account = load_account(self.connection.client())
        basis = Basis.of(shown.plan, shown.account)
        reasons = basis.stale_reasons(account)
        reasons += basis.moved_rows(shown.input.resolved(account))
        if reasons:
            raise self._refused("the account changed while the plan was shown", reasons)
        return dataclasses.replace(shown, account=account)

    def _apply(self, prepared: Prepared) -> ImportResult:
        """Apply under stop signals; the result is handed over while they only note."""
        stop = self.stop or StopSignals()
        with handling(stop):
            result = self._write(prepared, stop)
            with stop.shielded():
                self.ui.finished(result)
        if result.stopped is not None:
            raise result.stop_error()
        return result

    def _write(self, prepared: Prepared, stop: StopSignals) -> ImportResult:
        plan = prepared.plan
        assert plan is not None
        options = self.options
        client = self.connection.client()
        resumed = self.source.resumes
        if resumed is not None:
            written = resumed.landed(prepared.account)
            try:
                writer = reopen_journal(
                    resumed, plan.steps, stop, clock=options.clock, fsync=options.fsync
                )
            except JournalWriteError as err:
                rows = prepared.applied_results(written, {}, None)
                return ImportResult(
                    "applied", prepared, rows, resumed.path, str(err), planned=len(plan.steps)
                )
            number = resumed.writes_started()
            loop = ApplyLoop(
                client, prepared, writer, self.ui.progress(), stop, written=written, number=number
            )
            return loop.run()
        if not plan.steps:  # no journal, and no request beyond the plan's read
            self.ui.say(self.source.nothing_to_write(prepared))
            rows = prepared.applied_results({}, {}, prepared.account)
            return ImportResult("applied", prepared, rows)
        writer = create_journal(
            prepared.input,
            self.connection.identity(),
            plan.steps,
            path=options.journal,
            clock=options.clock,
            fsync=options.fsync,
        )
        self.ui.say(f"journal: {writer.path}")
        if writer.header.input_copy is not None:
            self.ui.say(
                f"{copied(writer.header)} is kept in {writer.header.input_copy}, for --resume"
            )
        return ApplyLoop(client, prepared, writer, self.ui.progress(), stop).run()

    # -- saving the plan of a dry run --------------------------------------------------------

    def _plan_destination(self) -> Destination | None:
        """Where --save-plan writes, checked before the account is read."""
        path = self.options.save_plan
        if path is None:
            return None
        if not self.options.dry_run:
            raise UsageError(
                "--save-plan needs --dry-run: a saved plan is reviewed first, applied later",
                hint=(save_plan_remedy("FILE", path),),
            )
        destination = open_destination(path, private=True, what="plan")
        if destination.is_stdout:
            destination.close()
            raise UsageError("--save-plan needs a file: stdout carries the plan shown")
        return destination

    def _save_plan(self, prepared: Prepared, destination: Destination) -> None:
        assert prepared.plan is not None
        if not isinstance(prepared.input, CsvInput):
            raise UsageError("--save-plan saves the plan of an import of a CSV, not of an undo")
        save_plan(
            destination,
            prepared.plan,
            prepared.account,
            prepared.input.source,
            self.connection.identity(),
            clock=self.options.clock,
        )
        self.ui.say(
            (
                f"plan saved to {destination.name}; apply it with ",
                Remedy("import", "--plan", destination.name),
            )
        )

"""Where an import job's desired state comes from: a CSV, a saved plan, an undo of a
journal, or the journal of a stopped job to resume.

Each source checks what it needs before anything is read (no output over an input; the
right account; the journal's lock), then prepares: reads the account (⌈U/50⌉ GETs), judges
its desired state against it and plans. The job does the rest the same way for all four.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from aircall_ext.api.client import ApiClient
from aircall_ext.core import savedplan
from aircall_ext.core.findings import failing
from aircall_ext.core.identity import AccountIdentity
from aircall_ext.core.planner import plan_import
from aircall_ext.core.savedplan import SavedPlan, save_plan_remedy
from aircall_ext.core.undo import reverse_rows, wanted, with_skipped
from aircall_ext.errors import ApiError, Hint, ImportStopped, Refused, Remedy, UsageError
from aircall_ext.files import check_distinct, rereadable, sha256_hex
from aircall_ext.names import TOOL
from aircall_ext.services.csvcheck import Source, account_for, read_source
from aircall_ext.services.importjob.options import Connection, ImportOptions, JobUi
from aircall_ext.services.importjob.prepared import CsvInput, Input, Prepared, UndoInput, prepare
from aircall_ext.services.journal import JournalContents, input_copy_path, read_journal
from aircall_ext.services.journalrecords import Header
from aircall_ext.services.plans import load_plan
from aircall_ext.services.users import load_account


class JobSource:
    """What the four sources share; each overrides what it does differently."""

    asks = True  # whether the job asks before writing (a resume was agreed to already)
    review: Hint = "run the import again to review the new plan"
    resumes: JournalContents | None = None  # the journal a resume appends to

    def open(self, connection: Connection, options: ImportOptions, ui: JobUi) -> None:
        """Check, before anything is read, that the job may run; take the locks it needs."""

    def greeting(self) -> str | None:
        """What the job says before it reads the account."""
        return None

    def prepare(self, client: ApiClient, never_park: frozenset[str] = frozenset()) -> Prepared:
        """Read the account and plan; no cycle parks a user on ``never_park``."""
        raise NotImplementedError

    def nothing_to_write(self, prepared: Prepared) -> str:
        """Why a plan without a write writes nothing, for people."""
        return "nothing to do: the account already matches the file"

    def close(self) -> None:
        """Release what :meth:`open` took."""


def _csv_prepared(input: CsvInput, client: ApiClient, never_park: frozenset[str]) -> Prepared:
    return prepare(input, account_for(client, input.csv_file), never_park=never_park)


@dataclass
class FromCsv(JobSource):
    """``import FILE``: FILE is read once (``-`` is standard input)."""

    file: str
    _input: CsvInput | None = field(default=None, init=False)

    def open(self, connection: Connection, options: ImportOptions, ui: JobUi) -> None:
        copy = None
        if options.journal is not None and not rereadable(self.file):
            copy = str(input_copy_path(options.journal.absolute()))
        check_distinct(
            [
                ("FILE", self.file),
                ("--journal", str(options.journal) if options.journal else None),
                ("the copy of FILE kept beside --journal", copy),
                ("--report", options.report),
                ("--save-plan", options.save_plan),
            ]
        )

    def prepare(self, client: ApiClient, never_park: frozenset[str] = frozenset()) -> Prepared:
        if self._input is None:
            self._input = CsvInput(read_source(self.file))
        return _csv_prepared(self._input, client, never_park)


# -- a saved plan --------------------------------------------------------------------------


@dataclass
class FromPlan(JobSource):
    """``import --plan PLAN``: exactly the steps saved, only while what they rest on holds."""

    path: Path
    saved: SavedPlan | None = field(default=None, init=False)

    def open(self, connection: Connection, options: ImportOptions, ui: JobUi) -> None:
        saved = self.saved = load_plan(self.path)
        identity = connection.identity()
        journal = options.journal
        check_distinct(
            [
                ("--plan", str(self.path)),
                (f"the plan's input file {saved.file_path}", _still_there(saved)),
                ("--journal", str(journal) if journal else None),
                (
                    "the plan's CSV kept beside --journal",
                    str(input_copy_path(journal.absolute())) if journal else None,
                ),
                ("--report", options.report),
            ]
        )
        if not saved.account.same_as(identity):
            raise Refused(
                f"plan {self.path} was made for another account, "
                f"{_label(saved.account)}; this run is configured for {_label(identity)}",
                hint="apply it with the --profile/--base-url/credentials it was made with",
            )
        self.review = ("review a new plan: ", _replan_remedy(saved, self.path))
        if saved.tool != TOOL:
            ui.warn(f"{self.path} was made by {saved.tool}; this is {TOOL}")

    def prepare(self, client: ApiClient, never_park: frozenset[str] = frozenset()) -> Prepared:
        """Read the account and check that the plan still holds on it (``stale`` lists what
        moved); planned EXACTLY as saved (its parking included)."""
        saved = self.saved
        assert saved is not None
        notes: list[str] = []
        reasons: list[str] = []
        input = CsvInput(_plan_source(saved, self.path, notes, reasons))
        account = load_account(client)
        if savedplan.applied_already(saved, account):  # a CI job applying it again
            notes.append(f"plan {self.path} is applied already: the account holds what it plans")
            return prepare(input, account, notes=tuple(notes), never_park=never_park)  # no write
        reasons += saved.basis.stale_reasons(account)
        desired = input.desired(account)
        reasons += saved.basis.moved_rows({row.line: row.user.id for row in desired.rows})
        if not reasons:  # the file's own errors, when nothing above explains them
            reasons += [f.message for f in failing(desired.findings)]
        return Prepared(
            input,
            account,
            desired,
            saved.plan(),
            stale=tuple(reasons),
            notes=tuple(notes),
            never_park=never_park,  # for a re-plan after a refused write
        )


def _label(identity: AccountIdentity) -> str:
    from aircall_ext.services.identity import known_api_ids

    return identity.label(known_api_ids())


def _still_there(saved: SavedPlan) -> str | None:
    """The plan's CSV path when it still names the regular file it was read from; a pipe
    (``/dev/fd/63`` in another shell is another pipe) is never looked at again."""
    if saved.file_source == "file" and rereadable(saved.file_path):
        return saved.file_path
    return None


def _plan_source(saved: SavedPlan, path: Path, notes: list[str], reasons: list[str]) -> Source:
    """The CSV the plan was made from: always the bytes the plan carries (kept beside the
    journal for ``--resume``, which never depends on the CSV's path). A regular file still
    at its path must still be those bytes; standard input or a pipe is never reopened."""
    carried = Source(
        saved.file_path,
        saved.file_path,
        saved.data,
        stream=True,
        plan=str(path.expanduser().absolute()),
    )
    if saved.file_source != "file":
        return carried
    try:
        info = os.stat(saved.file_path)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file any more")
        data = Path(saved.file_path).read_bytes()
    except OSError as err:
        notes.append(
            f"{saved.file_path} cannot be read ({err.strerror or err}): "
            f"applying the copy of it kept in {path}"
        )
        return carried
    if sha256_hex(data) != saved.file_sha256:
        reasons.append(f"{saved.file_path} changed since the plan was made (sha256 differs)")
    return carried


def _replan_remedy(saved: SavedPlan, path: Path) -> Remedy:
    return save_plan_remedy("FILE" if saved.file_source == "pipe" else saved.file_path, str(path))


# -- journals: an undo, a resume -------------------------------------------------------


def _open_journal(path: Path, identity: AccountIdentity, verb: str) -> JournalContents:
    """The journal, locked (another run of its job is refused at once), of this account."""
    contents = read_journal(path, lock=True)
    theirs = contents.header.account
    if not theirs.same_as(identity):
        _release(contents)
        raise Refused(
            f"journal {path} belongs to another account ({theirs.host}), "
            f"not the one configured now ({identity.host})",
            hint=f"{verb} with the same --profile/--base-url/credentials as the import",
        )
    return contents


def _release(contents: JournalContents | None) -> None:
    if contents is not None and contents.lock is not None:
        contents.lock.release()


@dataclass
class FromUndo(JobSource):
    """``import --undo JOURNAL``: each user the job of JOURNAL moved goes back to the
    extension it found them on; a user that cannot go back is skipped, and named."""

    journal: Path
    review: Hint = "run the undo again to review the new plan"
    contents: JournalContents | None = field(default=None, init=False)

    def open(self, connection: Connection, options: ImportOptions, ui: JobUi) -> None:
        check_distinct(
            [
                ("--undo", str(self.journal)),
                ("--journal", str(options.journal) if options.journal else None),
                ("--report", options.report),
            ]
        )
        self.contents = _open_journal(self.journal, connection.identity(), "undo")

    def prepare(self, client: ApiClient, never_park: frozenset[str] = frozenset()) -> Prepared:
        contents = self.contents
        assert contents is not None
        account = load_account(client)
        rows = tuple(reverse_rows(contents.moves(account), account))
        input = UndoInput(contents.path.expanduser().absolute(), wanted(rows))
        desired = input.desired(account)
        plan = with_skipped(plan_import(account, desired.rows, never_park=never_park), rows)
        skipped = {row.line: row.skipped for row in rows if row.skipped}
        return Prepared(
            input,
            account,
            desired,
            plan,
            given=f"--undo {self.journal}",
            skipped=skipped,
            never_park=never_park,
        )

    def nothing_to_write(self, prepared: Prepared) -> str:
        if prepared.plan is None or not prepared.plan.rows:
            return f"nothing to undo: journal {self.journal} shows no write that moved a user"
        return "nothing to write: every row is back already or skipped"

    def close(self) -> None:
        _release(self.contents)


@dataclass
class FromJournal(JobSource):
    """``import --resume JOURNAL``: the stopped job finished from the account's real state.
    Its input is what it read (sha256-checked), planned again from a fresh read, so what
    was done is ``unchanged`` now and a user left on the parking extension is moved on."""

    journal: Path
    asks = False
    _input: Input | None = field(default=None, init=False)

    def open(self, connection: Connection, options: ImportOptions, ui: JobUi) -> None:
        self.resumes = contents = _open_journal(self.journal, connection.identity(), "resume")
        try:
            header = contents.header
            self._input = _journal_input(self.journal, header)
            check_distinct(
                [
                    ("the journal's input file", None if header.input_copy else header.file),
                    ("the journal's copy of its input file", header.input_copy),
                    ("--resume", str(self.journal)),
                    ("--report", options.report),
                ]
            )
        except BaseException:
            self.close()
            raise

    def greeting(self) -> str:
        assert self.resumes is not None
        return f"resuming {input_of(self.resumes.header)} from journal {self.journal}"

    def prepare(self, client: ApiClient, never_park: frozenset[str] = frozenset()) -> Prepared:
        """One that cannot read the account leaves the job unfinished: that is still exit 5
        with the journal named and the command that tries again, so a script resuming on 5
        does not stop at 4."""
        input = self._input
        assert input is not None
        try:
            if isinstance(input, CsvInput):
                return _csv_prepared(input, client, never_park)
            undo = prepare(input, load_account(client), never_park=never_park)
            return dataclasses.replace(undo, given=f"--resume {self.journal}")
        except ApiError as err:
            raise ImportStopped(
                f"could not resume: {err.message}; the import is still unfinished; "
                f"journal: {self.journal}",
                hint=("try again with ", Remedy("import", "--resume", str(self.journal))),
            ) from None

    def close(self) -> None:
        _release(self.resumes)


def _journal_input(path: Path, header: Header) -> Input:
    """The very input the job started from: an undo's desired state, the copy of what the
    import read kept beside its journal, or its file, unchanged since (sha256)."""
    if header.desired is not None:
        assert header.undo_of is not None
        return UndoInput(Path(header.undo_of), header.desired)
    source = _kept_copy(path, header) if header.input_copy else _named_file(path, header)
    if source.sha256 != header.file_sha256:
        raise Refused(
            f"{header.file} changed since the import started (sha256 differs); "
            "--resume only finishes the same file",
            hint=("to import the new version, run ", Remedy("import", str(header.file))),
        )
    return CsvInput(source)


def _named_file(path: Path, header: Header) -> Source:
    if header.file == "-":
        raise UsageError(
            f"cannot resume {path}: that import read standard input and kept no copy of it",
            hint="run the import again from a file",
        )
    assert header.file is not None
    if not rereadable(header.file):  # a pipe, which an older journal names: never reopened
        raise UsageError(
            f"cannot resume {path}: its input {header.file} is not a regular file, and the "
            "import kept no copy of it",
            hint="run the import again from a file",
        )
    return read_source(header.file)


def _kept_copy(path: Path, header: Header) -> Source:
    """What the import read (standard input, a pipe, a plan's CSV), from the copy kept
    beside its journal."""
    assert header.input_copy is not None and header.file is not None
    try:
        data = Path(header.input_copy).read_bytes()
    except OSError as err:
        raise UsageError(
            f"cannot resume {path}: the copy of its input it kept, {header.input_copy}, "
            f"cannot be read: {err.strerror or err}",
            hint="run the import again from a file",
        ) from None
    return Source(header.file, header.input_copy, data, stream=True, plan=header.plan)


def copied(header: Header) -> str:
    """What the copy beside a journal holds, as the user knows it."""
    if header.plan is not None:
        return f"the CSV carried by plan {header.plan}"
    return "standard input" if header.file == "-" else f"what {header.file} gave"


def input_of(header: Header) -> str:
    """The input a resumed job reads, as the user knows it."""
    if header.desired is not None:
        return f"the undo of {header.undo_of}"
    if header.input_copy is None:
        return str(header.file)
    return f"{copied(header)} (kept in {header.input_copy})"
